/* domus net-link: plug or unplug a NIC's cable on a running domain, through its monitor's
 * control socket (the "net-link" command of monitor/monitor_ctl.h). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/control.h"
#include "lib/log.h"

#define CALL_TIMEOUT_MS 5000

static const char help[] =
	"usage: domus net-link --control SOCKET NIC [up|down]\n"
	"Plugs (up) or unplugs (down) the cable of a NIC of a running domain: the guest sees its\n"
	"link (carrier) change, the host sees the TAP's carrier change, and frames are dropped\n"
	"while it is down. Without up|down, prints the NIC's state. SOCKET is the monitor's\n"
	"control socket: `domus run --control SOCKET`, or RUN/domains/ID/control.sock of a\n"
	"domain under domusd. NIC is its index (0, 1, ...), its name (net0, ...) or its TAP's\n"
	"name. The state lasts across reboots of that domain.\n";

static const char *str(struct json_object *o, const char *key)
{
	struct json_object *v;
	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "?";
}

int cmd_net_link(int argc, char **argv)
{
	const char *sock = NULL;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(help, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--control") && i + 1 < argc) {
			sock = argv[++i];
		} else {
			log_err("net-link: unknown or incomplete option '%s'", argv[i]);
			fputs(help, stderr);
			return DOMUS_EXIT_USAGE;
		}
	}
	int n = argc - i;
	if (!sock || n < 1 || n > 2 ||
	    (n == 2 && strcmp(argv[i + 1], "up") && strcmp(argv[i + 1], "down"))) {
		fputs(help, stderr);
		return DOMUS_EXIT_USAGE;
	}
	char cmd[CONTROL_LINE_MAX], err[512];
	int len = snprintf(cmd, sizeof(cmd), "net-link %s%s%s", argv[i], n == 2 ? " " : "",
			   n == 2 ? argv[i + 1] : "");
	if (len < 0 || (size_t)len >= sizeof(cmd) - 1 || strpbrk(argv[i], " \t\r\n")) {
		log_err("net-link: NIC '%s': not a NIC name", argv[i]);
		return DOMUS_EXIT_USAGE;
	}
	struct json_object *r = control_call(sock, cmd, CALL_TIMEOUT_MS, err, sizeof(err));
	if (!r) {
		log_err("net-link: %s", err);
		return DOMUS_EXIT_ERROR;
	}
	struct json_object *ok;
	int status = DOMUS_EXIT_ERROR;
	if (!json_object_object_get_ex(r, "ok", &ok) || !json_object_get_boolean(ok)) {
		log_err("net-link: %s", str(r, "error"));
	} else {
		printf("%s (tap %s, mac %s): link %s\n", str(r, "name"), str(r, "tap"), str(r, "mac"),
		       str(r, "link"));
		status = 0;
	}
	json_object_put(r);
	return status;
}
