#include "backend/conmux.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/log.h"

static int fail(char *err, size_t errlen, int e, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, strerror(e));
	return -e;
}

int conmux_open(struct conmux *m, const char *socket_path, const char *log_path, char *err,
		size_t errlen)
{
	memset(m, 0, sizeof(*m));
	m->listen_fd = m->log_fd = -1;
	m->guest_out_rd = m->guest_out_wr = m->guest_in_rd = m->guest_in_wr = -1;
	for (int i = 0; i < CONMUX_MAX_CLIENTS; i++)
		m->clients[i] = -1;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(err, errlen, errno, "console pipe");
	m->guest_out_rd = p[0];
	m->guest_out_wr = p[1];
	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(err, errlen, errno, "console pipe");
	m->guest_in_rd = p[0];
	m->guest_in_wr = p[1];
	/* A guest that does not read its input must not block the event loop. */
	fcntl(m->guest_in_wr, F_SETFL, O_NONBLOCK);
	fcntl(m->guest_out_rd, F_SETFL, O_NONBLOCK);

	if (log_path) {
		m->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (m->log_fd < 0)
			return fail(err, errlen, errno, log_path);
	}
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(socket_path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "%s: path too long for a Unix socket", socket_path);
		return -ENAMETOOLONG;
	}
	strcpy(a.sun_path, socket_path);
	m->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (m->listen_fd < 0)
		return fail(err, errlen, errno, "console socket");
	unlink(socket_path);
	if (bind(m->listen_fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(m->listen_fd, CONMUX_MAX_CLIENTS) < 0)
		return fail(err, errlen, errno, socket_path);
	return 0;
}

size_t conmux_fds(const struct conmux *m, int *fds)
{
	size_t n = 0;
	fds[n++] = m->listen_fd;
	fds[n++] = m->guest_out_rd;
	for (int i = 0; i < CONMUX_MAX_CLIENTS; i++)
		if (m->clients[i] >= 0)
			fds[n++] = m->clients[i];
	return n;
}

/* Best effort to a client: a client that cannot keep up loses bytes (the log has them all),
 * it never stalls the guest. */
static void send_client(int fd, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

void conmux_output(struct conmux *m, const uint8_t *buf, size_t len)
{
	if (m->log_fd >= 0) {
		const uint8_t *p = buf;
		size_t left = len;
		while (left) {
			ssize_t n = write(m->log_fd, p, left);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				log_debug("console log: %s", n < 0 ? strerror(errno) : "short write");
				break;
			}
			p += n;
			left -= (size_t)n;
		}
	}
	for (size_t i = 0; i < len; i++) {
		m->ring[m->ring_head] = buf[i];
		m->ring_head = (m->ring_head + 1) % CONMUX_RING;
	}
	m->ring_len = m->ring_len + len > CONMUX_RING ? CONMUX_RING : m->ring_len + len;
	m->total += len;
	for (int i = 0; i < CONMUX_MAX_CLIENTS; i++)
		if (m->clients[i] >= 0)
			send_client(m->clients[i], buf, len);
}

size_t conmux_recent(const struct conmux *m, uint8_t *out, size_t len)
{
	size_t n = len < m->ring_len ? len : m->ring_len;
	size_t start = (m->ring_head + CONMUX_RING - n) % CONMUX_RING;
	for (size_t i = 0; i < n; i++)
		out[i] = m->ring[(start + i) % CONMUX_RING];
	return n;
}

static void accept_client(struct conmux *m)
{
	int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	for (int i = 0; i < CONMUX_MAX_CLIENTS; i++) {
		if (m->clients[i] < 0) {
			m->clients[i] = fd;
			uint8_t *recent = malloc(CONMUX_RING);
			if (recent) {
				size_t n = conmux_recent(m, recent, CONMUX_RING);
				send_client(fd, recent, n);
				free(recent);
			}
			return;
		}
	}
	static const char busy[] = "domus: console: too many clients attached\r\n";
	send_client(fd, (const uint8_t *)busy, sizeof(busy) - 1);
	close(fd);
}

static void drop_client(struct conmux *m, int i)
{
	close(m->clients[i]);
	m->clients[i] = -1;
}

int conmux_handle(struct conmux *m, int fd)
{
	uint8_t buf[4096];
	if (fd < 0)
		return 0;
	if (fd == m->listen_fd) {
		accept_client(m);
		return 1;
	}
	if (fd == m->guest_out_rd) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n > 0)
			conmux_output(m, buf, (size_t)n);
		return 1;
	}
	for (int i = 0; i < CONMUX_MAX_CLIENTS; i++) {
		if (m->clients[i] != fd)
			continue;
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			return 1;
		if (n <= 0) {
			drop_client(m, i);
			return 1;
		}
		/* Keystrokes the guest has no room for are dropped, as on a real serial line. */
		if (write(m->guest_in_wr, buf, (size_t)n) < 0)
			log_debug("console input dropped: %s", strerror(errno));
		return 1;
	}
	return 0;
}

void conmux_close(struct conmux *m)
{
	/* Output still in the pipe belongs in the log. */
	if (m->guest_out_rd >= 0) {
		uint8_t buf[4096];
		ssize_t n;
		while ((n = read(m->guest_out_rd, buf, sizeof(buf))) > 0)
			conmux_output(m, buf, (size_t)n);
	}
	for (int i = 0; i < CONMUX_MAX_CLIENTS; i++)
		if (m->clients[i] >= 0)
			drop_client(m, i);
	int *fds[] = { &m->listen_fd, &m->log_fd, &m->guest_out_rd, &m->guest_out_wr,
		       &m->guest_in_rd, &m->guest_in_wr };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
