#include "manager/domain_files.h"

#include <stdio.h>
#include <stdlib.h>

void domus_paths_init(struct domus_paths *p, const char *state_dir)
{
	const char *dir = state_dir ? state_dir : getenv("DOMUS_STATE_DIR");
	if (dir && *dir) {
		snprintf(p->lib, sizeof(p->lib), "%s/lib", dir);
		snprintf(p->run, sizeof(p->run), "%s/run", dir);
	} else {
		snprintf(p->lib, sizeof(p->lib), "/var/lib/domus");
		snprintf(p->run, sizeof(p->run), "/run/domus");
	}
	if (state_dir)
		return;
	const char *lib = getenv("DOMUS_LIB_DIR"), *run = getenv("DOMUS_RUN_DIR");
	if (lib && *lib)
		snprintf(p->lib, sizeof(p->lib), "%s", lib);
	if (run && *run)
		snprintf(p->run, sizeof(p->run), "%s", run);
}

void domus_api_socket(const struct domus_paths *p, char *out, size_t len)
{
	const char *s = getenv("DOMUS_SOCKET");
	if (s && *s)
		snprintf(out, len, "%s", s);
	else
		snprintf(out, len, "%s/" DOMUSD_SOCK, p->run);
}
