/* Verbs that copy something out of a running domain into a file, through domusd:
 * screenshot (the VGA text screen as a PNG, and its text beside it) and dump-core (the guest's
 * memory and vCPU registers as an ELF core, like xl dump-core). The domain's monitor writes the
 * file, so the name is made absolute here, against this shell's working directory. */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "lib/log.h"

static int capture(int argc, char **argv, const char *verb, const char *help)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(help, stdout);
			return 0;
		}
	}
	if (argc != 3 || argv[1][0] == '-' || !argv[2][0]) {
		fputs(help, stderr);
		return DOMUS_EXIT_USAGE;
	}
	const char *ref = argv[1], *file = argv[2];
	if (!api_ref_ok(verb, ref))
		return DOMUS_EXIT_ERROR;
	char abs[PATH_MAX], cwd[PATH_MAX];
	if (file[0] == '/') {
		snprintf(abs, sizeof(abs), "%s", file);
	} else if (!getcwd(cwd, sizeof(cwd)) ||
		   (size_t)snprintf(abs, sizeof(abs), "%s/%s", cwd, file) >= sizeof(abs)) {
		log_err("%s: %s: cannot make the path absolute: %s", verb, file,
			errno ? strerror(errno) : "too long");
		return DOMUS_EXIT_ERROR;
	}
	if (strchr(abs, '\n')) {
		log_err("%s: %s: a file name with a line break", verb, file);
		return DOMUS_EXIT_ERROR;
	}
	char path[256];
	snprintf(path, sizeof(path), "/v1/domains/%s/%s", ref, verb);
	struct json_object *body = json_object_new_object();
	json_object_object_add(body, "file", json_object_new_string(abs));
	struct json_object *r = api_do(verb, "POST", path, body);
	json_object_put(body);
	if (!r)
		return DOMUS_EXIT_ERROR;
	json_object_put(r);
	return 0;
}

int cmd_screenshot(int argc, char **argv)
{
	return capture(argc, argv, "screenshot",
		       "usage: domus screenshot NAME|ID FILE\n"
		       "Writes the VGA text screen of a running FV domain to FILE as a PNG (drawn\n"
		       "with a console font, 8x16 cells) and its text to FILE.txt. The guest is\n"
		       "paused for the moment it takes. PV domains have no VGA (their console is\n"
		       "`domus console`).\n");
}

int cmd_dump_core(int argc, char **argv)
{
	return capture(argc, argv, "dump-core",
		       "usage: domus dump-core NAME|ID FILE\n"
		       "Writes the memory and vCPU registers of a running domain to FILE as an ELF\n"
		       "core (as xl dump-core; see docs/dom0.md), readable by crash and gdb. The\n"
		       "guest is paused while its memory is written, then runs on (unless it was\n"
		       "paused already). FILE is created with mode 0600.\n");
}
