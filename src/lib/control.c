#include "lib/control.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

#define CLIENT_TIMEOUT_MS 5000

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int unix_addr(struct sockaddr_un *a, const char *path, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(a->sun_path)) {
		snprintf(err, errlen, "%s: path too long for a Unix socket", path);
		return -ENAMETOOLONG;
	}
	strcpy(a->sun_path, path);
	return 0;
}

int control_open(struct control *c, const char *socket_path,
		 int (*handle)(void *, const char *, struct json_object *, char *, size_t),
		 void *ctx, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	c->handle = handle;
	c->ctx = ctx;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		c->clients[i].fd = -1;
	struct sockaddr_un a;
	int r = unix_addr(&a, socket_path, err, errlen);
	if (r < 0) {
		c->listen_fd = -1;
		return r;
	}
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->listen_fd < 0) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		return -errno;
	}
	unlink(socket_path);
	if (bind(c->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(c->listen_fd, CONTROL_MAX_CLIENTS) < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", socket_path, strerror(e));
		return -e;
	}
	return 0;
}

size_t control_fds(const struct control *c, int *fds)
{
	size_t n = 0;
	fds[n++] = c->listen_fd;
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0)
			fds[n++] = c->clients[i].fd;
	return n;
}

static void drop(struct control_client *cl)
{
	close(cl->fd);
	cl->fd = -1;
	cl->len = 0;
}

static void reply_and_close(struct control *c, struct control_client *cl)
{
	struct json_object *reply = json_object_new_object();
	char err[512] = "";
	char *cmd = cl->line;
	cmd[strcspn(cmd, "\r\n")] = 0;
	if (!reply) {
		drop(cl);
		return;
	}
	if (c->handle(c->ctx, cmd, reply, err, sizeof(err)) < 0) {
		json_object_put(reply);
		reply = json_object_new_object();
		json_object_object_add(reply, "ok", json_object_new_boolean(0));
		json_object_object_add(reply, "error", json_object_new_string(err));
	} else {
		json_object_object_add(reply, "ok", json_object_new_boolean(1));
	}
	const char *s = json_object_to_json_string_ext(reply, JSON_C_TO_STRING_PLAIN);
	/* Replies are small; the client is waiting for them, so a blocking send is bounded. */
	size_t len = strlen(s);
	if (send(cl->fd, s, len, MSG_NOSIGNAL) != (ssize_t)len ||
	    send(cl->fd, "\n", 1, MSG_NOSIGNAL) != 1)
		log_debug("control: reply to '%s' not sent: %s", cmd, strerror(errno));
	json_object_put(reply);
	drop(cl);
}

int control_handle(struct control *c, int fd)
{
	if (fd < 0)
		return 0;
	if (fd == c->listen_fd) {
		int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cfd < 0)
			return 1;
		for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
			if (c->clients[i].fd < 0) {
				c->clients[i] = (struct control_client){
					.fd = cfd, .deadline_ms = now_ms() + CLIENT_TIMEOUT_MS
				};
				return 1;
			}
		}
		close(cfd); /* busy: the client retries */
		return 1;
	}
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *cl = &c->clients[i];
		if (cl->fd != fd)
			continue;
		ssize_t n = recv(fd, cl->line + cl->len, sizeof(cl->line) - 1 - cl->len,
				 MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return 1;
		if (n <= 0) {
			drop(cl);
			return 1;
		}
		cl->len += (size_t)n;
		cl->line[cl->len] = 0;
		if (strchr(cl->line, '\n'))
			reply_and_close(c, cl);
		else if (cl->len == sizeof(cl->line) - 1)
			drop(cl); /* no command is this long */
		return 1;
	}
	return 0;
}

void control_expire(struct control *c, long long now)
{
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0 && now > c->clients[i].deadline_ms)
			drop(&c->clients[i]);
}

void control_close(struct control *c)
{
	for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (c->clients[i].fd >= 0)
			drop(&c->clients[i]);
	if (c->listen_fd >= 0)
		close(c->listen_fd);
	c->listen_fd = -1;
}

struct json_object *control_call(const char *path, const char *cmd, int timeout_ms, char *err,
				 size_t errlen)
{
	struct sockaddr_un a;
	if (unix_addr(&a, path, err, errlen) < 0)
		return NULL;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	char line[CONTROL_LINE_MAX];
	int len = snprintf(line, sizeof(line), "%s\n", cmd);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (len < 0 || (size_t)len >= sizeof(line) ||
	    send(fd, line, (size_t)len, MSG_NOSIGNAL) != len) {
		snprintf(err, errlen, "%s: cannot send '%s': %s", path, cmd, strerror(errno));
		close(fd);
		return NULL;
	}
	char *buf = malloc(CONTROL_REPLY_MAX);
	size_t got = 0;
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return NULL;
	}
	while (got < CONTROL_REPLY_MAX - 1) {
		ssize_t n = recv(fd, buf + got, CONTROL_REPLY_MAX - 1 - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: no reply to '%s': %s", path, cmd,
				 errno == EAGAIN ? "timed out" : strerror(errno));
			close(fd);
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got))
			break;
	}
	close(fd);
	buf[got] = 0;
	struct json_object *o = json_tokener_parse(buf);
	free(buf);
	if (!o || !json_object_is_type(o, json_type_object)) {
		if (o)
			json_object_put(o);
		snprintf(err, errlen, "%s: the monitor gave no reply to '%s'", path, cmd);
		return NULL;
	}
	return o;
}
