/* domusd: domain zero. Serves the API, starts and supervises one domus-vmm per domain, and
 * when restarted (even after SIGKILL) finds its running domains again. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "manager/domusd.h"
#include "lib/log.h"
#include "lib/signals.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: domusd [--state-dir DIR] [--debug]\n"
		"Domain zero of Domus: keeps the registry of domains, starts one domus-vmm per\n"
		"domain, applies on_poweroff/on_reboot/on_crash, and serves the API (HTTP + JSON)\n"
		"on RUN/domusd.sock. It runs in the foreground; stopping it (even with SIGKILL)\n"
		"leaves the domains running, and the next domusd takes them over.\n\n"
		"  --state-dir DIR  keep state in DIR/lib and DIR/run (default /var/lib/domus and\n"
		"                   /run/domus; also DOMUS_STATE_DIR, DOMUS_LIB_DIR, DOMUS_RUN_DIR)\n"
		"  --debug          debug messages (also DOMUS_DEBUG=1)\n\n"
		"The monitor program is the domus binary beside domusd (or $DOMUS_VMM_BIN).\n");
}

/* The domus binary next to this one runs the monitors (as argv[0] "domus-vmm"). */
static int find_vmm(struct domusd *d)
{
	const char *env = getenv("DOMUS_VMM_BIN");
	if (env && *env) {
		snprintf(d->vmm_bin, sizeof(d->vmm_bin), "%s", env);
	} else {
		char self[sizeof(d->vmm_bin) - 8];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n <= 0)
			return -1;
		self[n] = 0;
		char *slash = strrchr(self, '/');
		if (slash)
			*slash = 0;
		snprintf(d->vmm_bin, sizeof(d->vmm_bin), "%s/domus", self);
	}
	return access(d->vmm_bin, X_OK);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *state_dir = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			state_dir = optarg;
			break;
		case 'd':
			log_set_debug(true);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		log_err("domusd: unexpected argument '%s'", argv[optind]);
		return 2;
	}
	static struct domusd d;
	char err[512], path[PATH_MAX];
	if (domusd_init(&d, state_dir, err, sizeof(err)) < 0) {
		log_err("domusd: %s", err);
		return 1;
	}
	if (find_vmm(&d) < 0) {
		log_err("domusd: monitor program %s: %s", d.vmm_bin, strerror(errno));
		return 1;
	}
	/* One domusd per state directory: the pid file stays locked while it runs. */
	snprintf(path, sizeof(path), "%s/" DOMUSD_PID, d.paths.run);
	int pidfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (pidfd < 0) {
		log_err("domusd: %s: %s", path, strerror(errno));
		return 1;
	}
	if (flock(pidfd, LOCK_EX | LOCK_NB) < 0) {
		char other[32] = "";
		ssize_t n = pread(pidfd, other, sizeof(other) - 1, 0);
		other[n > 0 ? n : 0] = 0;
		other[strcspn(other, "\n")] = 0;
		log_err("domusd: another domusd (pid %s) is running on %s", other[0] ? other : "?",
			d.paths.run);
		return 1;
	}
	char pidtext[32];
	int plen = snprintf(pidtext, sizeof(pidtext), "%d\n", (int)getpid());
	if (ftruncate(pidfd, 0) < 0 || pwrite(pidfd, pidtext, (size_t)plen, 0) != plen)
		log_warn("domusd: %s: %s", path, strerror(errno));

	int sfd = stop_signals_fd();
	if (sfd < 0) {
		log_err("domusd: signalfd: %s", strerror(-sfd));
		return 1;
	}

	pthread_mutex_lock(&d.lock);
	domusd_load(&d);
	pthread_mutex_unlock(&d.lock);
	snprintf(path, sizeof(path), "%s/" DOMUSD_SOCK, d.paths.run);
	struct MHD_Daemon *api = api_start(&d, path, err, sizeof(err));
	if (!api) {
		log_err("domusd: %s", err);
		return 1;
	}
	log_info("domusd %d: serving %s (state in %s and %s)", (int)getpid(), path, d.paths.lib,
		 d.paths.run);
	int r = domusd_supervise(&d, sfd);
	api_stop(api);
	unlink(path);
	if (r < 0) {
		log_err("domusd: supervision loop: %s", strerror(-r));
		return 1;
	}
	return 0;
}
