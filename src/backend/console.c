#include "backend/console.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "lib/fdio.h"
#include "lib/log.h"

#define CTRL_A 0x01

/* One saved terminal state for the process, so an atexit handler can restore it. */
static struct termios saved_tio;
static int saved_fd = -1;

static void restore_tty(void)
{
	if (saved_fd >= 0) {
		tcsetattr(saved_fd, TCSAFLUSH, &saved_tio);
		saved_fd = -1;
		log_set_raw_tty(false);
	}
}

void console_write(void *console, const uint8_t *buf, size_t len)
{
	struct console *c = console;
	write_all(c->out_fd, buf, len);
}

static void feed(struct console *c, const uint8_t *buf, size_t len)
{
	while (len) {
		pthread_mutex_lock(&c->lock);
		size_t n = c->sink ? c->sink(c->sink_ctx, buf, len) : 0;
		pthread_mutex_unlock(&c->lock);
		buf += n;
		len -= n;
		if (len) {
			/* The guest is not reading: wait rather than drop keystrokes. */
			struct pollfd p = { .fd = c->stop_fd, .events = POLLIN };
			if (poll(&p, 1, 2) > 0)
				return;
		}
	}
}

static const char help[] = "\r\n[domus] Ctrl-A x: quit   Ctrl-A a: send Ctrl-A   "
			   "Ctrl-A h: this help\r\n";

static void input(struct console *c, const uint8_t *buf, size_t len)
{
	if (!c->is_tty) {
		feed(c, buf, len);
		return;
	}
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		if (c->escape) {
			c->escape = 0;
			if (buf[i] == 'x' || buf[i] == 'X') {
				if (c->quit)
					c->quit(c->quit_ctx);
				return;
			}
			if (buf[i] == 'a' || buf[i] == CTRL_A) {
				uint8_t a = CTRL_A;
				feed(c, &a, 1);
			} else if (buf[i] == 'h' || buf[i] == '?') {
				write_all(c->out_fd, (const uint8_t *)help, sizeof(help) - 1);
			}
			start = i + 1;
		} else if (buf[i] == CTRL_A) {
			feed(c, buf + start, i - start);
			c->escape = 1;
			start = i + 1;
		}
	}
	feed(c, buf + start, len - start);
}

static void *console_thread(void *arg)
{
	struct console *c = arg;
	uint8_t buf[256];
	for (;;) {
		struct pollfd p[2] = { { .fd = c->in_fd, .events = POLLIN },
				       { .fd = c->stop_fd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		if (!p[0].revents)
			continue;
		ssize_t n = read(c->in_fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			break; /* EOF: no more input, the guest runs on */
		input(c, buf, (size_t)n);
	}
	return NULL;
}

int console_open(struct console *c, int in_fd, int out_fd, void (*quit)(void *), void *quit_ctx)
{
	memset(c, 0, sizeof(*c));
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->quit = quit;
	c->quit_ctx = quit_ctx;
	pthread_mutex_init(&c->lock, NULL);
	c->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (c->stop_fd < 0)
		return -errno;
	c->is_tty = in_fd >= 0 && isatty(in_fd);
	if (c->is_tty && saved_fd < 0 && tcgetattr(in_fd, &saved_tio) == 0) {
		struct termios raw = saved_tio;
		cfmakeraw(&raw);
		if (tcsetattr(in_fd, TCSAFLUSH, &raw) == 0) {
			saved_fd = in_fd;
			atexit(restore_tty);
			log_set_raw_tty(true);
		}
	}
	if (in_fd >= 0) {
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		int e = pthread_create(&c->thread, NULL, console_thread, c);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (e)
			return -e;
		c->started = 1;
	}
	return 0;
}

void console_set_sink(struct console *c, size_t (*sink)(void *, const uint8_t *, size_t),
		      void *ctx)
{
	pthread_mutex_lock(&c->lock);
	c->sink = sink;
	c->sink_ctx = ctx;
	pthread_mutex_unlock(&c->lock);
}

void console_close(struct console *c)
{
	uint64_t one = 1;
	if (c->started) {
		if (write(c->stop_fd, &one, sizeof(one)) < 0)
			log_debug("console stop: %s", strerror(errno));
		pthread_join(c->thread, NULL);
		c->started = 0;
	}
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	c->stop_fd = -1;
	restore_tty();
	pthread_mutex_destroy(&c->lock);
}
