/* Where domusd and domus-vmm keep things, shared by the daemon, the monitor and the CLI.
 *
 * STATE: a lib directory for what outlives a reboot of the host (console logs, the domain ID
 * counter) and a run directory for what describes running domains (sockets, domain records).
 * Defaults are /var/lib/domus and /run/domus; DOMUS_STATE_DIR=DIR (or domusd --state-dir DIR)
 * puts both under DIR (DIR/lib, DIR/run), and DOMUS_LIB_DIR / DOMUS_RUN_DIR set one each.
 *
 *   RUN/domusd.sock              the API (HTTP/1.1 + JSON)
 *   RUN/domusd.pid               the daemon's pid, locked while it runs
 *   RUN/domains/ID/domain.json   domusd's record of domain ID (written atomically)
 *   RUN/domains/ID/control.sock  the monitor's control socket (see lib/control.h)
 *   RUN/domains/ID/console.sock  the domain's console (see backend/conmux.h)
 *   RUN/domains/ID/exit.json     written by the monitor when the guest ended, and why
 *   RUN/domains/ID/config.json   the domain's settings (domcfg_to_json), read by the monitor
 *   LIB/next-domid               the next domain ID
 *   LIB/logs/NAME.console.log    everything the guest printed, across restarts
 *   LIB/logs/NAME.vmm.log        the monitor's own messages */
#ifndef DOMUS_DOMAIN_FILES_H
#define DOMUS_DOMAIN_FILES_H
#include <limits.h>
#include <stddef.h>

#define DOMAIN_STATE_FILE "domain.json"
#define DOMAIN_CONTROL_SOCK "control.sock"
#define DOMAIN_CONSOLE_SOCK "console.sock"
#define DOMAIN_EXIT_FILE "exit.json"
#define DOMAIN_CONFIG_FILE "config.json" /* the settings the monitor runs (mode 0600) */
#define DOMUSD_SOCK "domusd.sock"
#define DOMUSD_PID "domusd.pid"

struct domus_paths {
	char lib[PATH_MAX / 2];
	char run[PATH_MAX / 2];
};

/* From the environment (see above), or state_dir when not NULL. */
void domus_paths_init(struct domus_paths *p, const char *state_dir);
/* RUN/domusd.sock, or $DOMUS_SOCKET when set (for the CLI). */
void domus_api_socket(const struct domus_paths *p, char *out, size_t len);

#endif
