/* The control socket of a supervised domain: one request line per connection, one JSON reply.
 *
 * A client (domusd, or `socat - UNIX:control.sock`) connects, sends a command such as
 * "pause\n" and reads one line of JSON: {"ok":true,...} or {"ok":false,"error":"why"}; then
 * the monitor closes the connection. Commands (see handle() in monitor/domus_vmm.c): status, pause,
 * unpause, power-button, reset, destroy, net-link, vcpu-list, vcpu-pin, screenshot PATH,
 * dump-core PATH (monitor/monitor_ctl.h). The socket is served on the monitor's event loop, so a command
 * never races another; a slow client is dropped after a few seconds. */
#ifndef DOMUS_CONTROL_H
#define DOMUS_CONTROL_H
#include <limits.h>
#include <stddef.h>

#define CONTROL_MAX_CLIENTS 8
/* Room for a command and a file name (screenshot PATH, dump-core PATH). */
#define CONTROL_LINE_MAX (PATH_MAX + 64)
/* The longest reply control_call() takes (vcpu-list of 255 vCPUs is ~30 KiB). */
#define CONTROL_REPLY_MAX (256 * 1024)

struct json_object;

struct control_client {
	int fd;
	size_t len;
	char line[CONTROL_LINE_MAX];
	long long deadline_ms;
};

struct control {
	int listen_fd;
	struct control_client clients[CONTROL_MAX_CLIENTS];
	/* Runs one command; fills reply (a JSON object) and returns 0, or -1 with err set. */
	int (*handle)(void *ctx, const char *cmd, struct json_object *reply, char *err,
		      size_t errlen);
	void *ctx;
};

int control_open(struct control *c, const char *socket_path,
		 int (*handle)(void *, const char *, struct json_object *, char *, size_t),
		 void *ctx, char *err, size_t errlen);
/* As conmux: the fds to poll for input (room for CONTROL_MAX_CLIENTS + 1). */
size_t control_fds(const struct control *c, int *fds);
/* Serve fd if it is the control socket's; returns 1 if it was. */
int control_handle(struct control *c, int fd);
/* Drop clients that did not send a full line in time. */
void control_expire(struct control *c, long long now_ms);
void control_close(struct control *c);

/* Send one command to the control socket at path and read the reply (the caller frees it with
 * json_object_put). NULL with err set when the monitor does not answer within timeout_ms. */
struct json_object *control_call(const char *path, const char *cmd, int timeout_ms, char *err,
				 size_t errlen);

#endif
