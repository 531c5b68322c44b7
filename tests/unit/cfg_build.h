/* Test helper: an xl.cfg text through the parser and the domain config builder, as domusd and
 * `domus create` take it. err holds the message of a failure. */
#ifndef DOMUS_UNIT_CFG_BUILD_H
#define DOMUS_UNIT_CFG_BUILD_H
#include <string.h>

#include "config/domcfg.h"

static char err[512];

/* Parse text as "vm.cfg" and build dc (zeroed when the parse fails); returns the first failing
 * code. */
static int build(const char *text, struct domain_config *dc)
{
	struct xlcfg *cfg = xlcfg_new();
	int rc = xlcfg_parse(cfg, "vm.cfg", text, strlen(text), err, sizeof(err));
	if (rc == 0)
		rc = domcfg_build(cfg, dc, err, sizeof(err));
	else
		memset(dc, 0, sizeof(*dc));
	xlcfg_free(cfg);
	return rc;
}

#endif
