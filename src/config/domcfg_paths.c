/* Host paths of a domain config made absolute. `domus create` sends the client's working
 * directory with the config; domusd and the monitor run elsewhere and later (a restart may
 * come days after), so relative paths are resolved once, at create time, as the user meant
 * them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "config/domcfg.h"

static int absolute(const char *cwd, char **p)
{
	char *out;
	if (!*p || (*p)[0] == '/' || !(*p)[0])
		return 0;
	if (asprintf(&out, "%s/%s", cwd, *p) < 0)
		return -ENOMEM;
	free(*p);
	*p = out;
	return 0;
}

int domcfg_make_absolute(struct domain_config *dc, const char *cwd)
{
	if (!cwd)
		return 0;
	char **paths[] = { &dc->kernel, &dc->ramdisk, &dc->bios_path, &dc->hvc_output,
			   &dc->hvc_input };
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (absolute(cwd, paths[i]) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < dc->ndisks; i++)
		if (absolute(cwd, &dc->disks[i].target) < 0)
			return -ENOMEM;
	return 0;
}
