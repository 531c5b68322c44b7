/* domus console NAME: attach this terminal to a domain's console socket (served by its
 * monitor, so it works whether or not domusd is up once the socket is known). Ctrl-] detaches. */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "lib/fdio.h"
#include "lib/log.h"

#define CTRL_RBRACKET 0x1d

static struct termios saved;
static int saved_ok;

static void restore_tty(void)
{
	if (saved_ok)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
	saved_ok = 0;
}

/* Relay until Ctrl-] or the console closes. Returns 0 on a detach or the domain's end. */
static int relay(int sock, const char *name)
{
	int in_open = 1;
	char buf[4096];
	for (;;) {
		struct pollfd p[2] = { { .fd = sock, .events = POLLIN },
				       { .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[0].revents) {
			ssize_t n = read(sock, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				if (saved_ok)
					fprintf(stderr, "\r\n");
				fprintf(stderr, "domus: console of %s closed (the domain ended)%s\n",
					name, saved_ok ? "\r" : "");
				return 0;
			}
			if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
				return -1;
		}
		if (p[1].revents) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				in_open = 0; /* no more input; keep showing output */
				continue;
			}
			char *esc = memchr(buf, CTRL_RBRACKET, (size_t)n);
			size_t len = esc ? (size_t)(esc - buf) : (size_t)n;
			if (len && send(sock, buf, len, MSG_NOSIGNAL) < 0)
				return -1;
			if (esc) {
				if (saved_ok)
					fprintf(stderr, "\r\n");
				return 0;
			}
		}
	}
}

int cmd_console(int argc, char **argv)
{
	if (argc != 2 || argv[1][0] == '-') {
		FILE *f = argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr;
		fprintf(f, "usage: domus console NAME|ID\n"
			   "Attaches to the domain's serial console; Ctrl-] detaches. Recent output\n"
			   "is replayed first; everything is also in the console log (list -l).\n");
		return f == stdout ? 0 : DOMUS_EXIT_USAGE;
	}
	const char *ref = argv[1];
	if (strchr(ref, '/') || strchr(ref, '?') || strchr(ref, ' ')) {
		log_err("console: no domain '%s'", ref);
		return DOMUS_EXIT_ERROR;
	}
	char path[256];
	snprintf(path, sizeof(path), "/v1/domains/%s/console", ref);
	struct json_object *r = api_do("console", "GET", path, NULL);
	if (!r)
		return DOMUS_EXIT_ERROR;
	char name[128];
	snprintf(name, sizeof(name), "%s", json_str(r, "name", ref));
	if (strcmp(json_str(r, "state", ""), "running")) {
		log_err("console: domain %s is not running (%s); its output is in %s", name,
			json_str(r, "state", "?"), json_str(r, "log", "its console log"));
		json_object_put(r);
		return DOMUS_EXIT_ERROR;
	}
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", json_str(r, "socket", ""));
	json_object_put(r);
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&a, sizeof(a)) < 0) {
		log_err("console: %s: %s", a.sun_path, strerror(errno));
		if (sock >= 0)
			close(sock);
		return DOMUS_EXIT_ERROR;
	}
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		struct termios raw = saved;
		cfmakeraw(&raw);
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0) {
			saved_ok = 1;
			atexit(restore_tty);
		}
		fprintf(stderr, "domus: connected to the console of %s; Ctrl-] detaches\r\n", name);
	}
	int rc = relay(sock, name);
	close(sock);
	restore_tty();
	if (rc < 0) {
		log_err("console: %s", strerror(errno));
		return DOMUS_EXIT_ERROR;
	}
	return 0;
}
