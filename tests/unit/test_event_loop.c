/* The I/O thread (lib/event_loop.c): fd callbacks with their events, pollers that keep the
 * loop spinning while they return true, removal from another thread (waits for a running
 * callback) and from inside a callback, and stop/destroy. There are no timers. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/event_loop.h"

static void sleep_ms(unsigned ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000 };
	nanosleep(&t, NULL);
}

/* Wait up to 5 s for *v >= want. */
static bool wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 5000 && atomic_load(v) < want; i++)
		sleep_ms(1);
	return atomic_load(v) >= want;
}

static void poke(int fd)
{
	uint64_t one = 1;
	CHECK_EQ(write(fd, &one, sizeof(one)), sizeof(one));
}

static void drain(int fd)
{
	uint64_t n;
	if (read(fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		fprintf(stderr, "read: %s\n", strerror(errno));
}

struct fdctx {
	int fd;
	atomic_int calls;
	uint32_t events;
	pthread_t thread;
	struct event_loop *loop;
	bool del_self;
	int del_other; /* an fd to remove from inside this callback, or -1 */
	unsigned sleep_ms;
	atomic_int in_cb;
};

static void on_fd(void *ctx, uint32_t events)
{
	struct fdctx *c = ctx;
	atomic_store(&c->in_cb, 1);
	drain(c->fd);
	c->events = events;
	c->thread = pthread_self();
	if (c->sleep_ms)
		sleep_ms(c->sleep_ms);
	if (c->del_self)
		CHECK_EQ(evl_del(c->loop, c->fd), 0);
	if (c->del_other >= 0)
		CHECK_EQ(evl_del(c->loop, c->del_other), 0);
	atomic_store(&c->in_cb, 0);
	atomic_fetch_add(&c->calls, 1);
}

static void init_ctx(struct fdctx *c, struct event_loop *l)
{
	memset(c, 0, sizeof(*c));
	c->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	c->loop = l;
	c->del_other = -1;
	CHECK(c->fd >= 0);
}

static void test_fd_callbacks(void)
{
	struct event_loop l;
	struct fdctx a, b;
	CHECK_EQ(evl_init(&l), 0);
	init_ctx(&a, &l);
	init_ctx(&b, &l);
	/* Added before the start, and after it. */
	CHECK_EQ(evl_add(&l, a.fd, EPOLLIN, on_fd, &a), 0);
	CHECK_EQ(evl_add(&l, a.fd, EPOLLIN, on_fd, &a), -EEXIST);
	CHECK_EQ(evl_add(&l, -1, EPOLLIN, on_fd, &a), -EBADF);
	poke(a.fd);
	CHECK_EQ(evl_start(&l), 0);
	CHECK_EQ(evl_add(&l, b.fd, EPOLLIN, on_fd, &b), 0);
	CHECK(wait_for(&a.calls, 1));
	CHECK(a.events & EPOLLIN);
	CHECK(pthread_equal(a.thread, l.thread));
	CHECK(!pthread_equal(a.thread, pthread_self()));
	poke(b.fd);
	CHECK(wait_for(&b.calls, 1));
	CHECK_EQ(atomic_load(&a.calls), 1); /* a was drained: no spurious call */
	poke(a.fd);
	CHECK(wait_for(&a.calls, 2));
	/* Removed: no more callbacks. */
	CHECK_EQ(evl_del(&l, b.fd), 0);
	CHECK_EQ(evl_del(&l, b.fd), -ENOENT);
	poke(b.fd);
	sleep_ms(50);
	CHECK_EQ(atomic_load(&b.calls), 1);
	evl_destroy(&l);
	/* After destroy the fds are the owners' (still open, not watched). */
	CHECK_EQ(fcntl(a.fd, F_GETFD) >= 0, 1);
	close(a.fd);
	close(b.fd);
}

/* evl_del() from another thread while the callback runs returns only after it returned. */
static void test_del_waits_for_callback(void)
{
	struct event_loop l;
	struct fdctx a;
	CHECK_EQ(evl_init(&l), 0);
	init_ctx(&a, &l);
	a.sleep_ms = 200;
	CHECK_EQ(evl_add(&l, a.fd, EPOLLIN, on_fd, &a), 0);
	CHECK_EQ(evl_start(&l), 0);
	poke(a.fd);
	for (int i = 0; i < 5000 && !atomic_load(&a.in_cb); i++)
		sleep_ms(1);
	CHECK(atomic_load(&a.in_cb));
	CHECK_EQ(evl_del(&l, a.fd), 0);
	CHECK_EQ(atomic_load(&a.in_cb), 0);
	CHECK_EQ(atomic_load(&a.calls), 1);
	evl_destroy(&l);
	close(a.fd);
}

/* Removal from inside callbacks: an entry removing itself, and one removing another entry
 * whose event was fetched in the same round (that event must be dropped, not run). */
static void test_del_inside_callback(void)
{
	struct event_loop l;
	struct fdctx a, b, c;
	CHECK_EQ(evl_init(&l), 0);
	init_ctx(&a, &l);
	init_ctx(&b, &l);
	init_ctx(&c, &l);
	a.del_self = true;
	CHECK_EQ(evl_add(&l, a.fd, EPOLLIN, on_fd, &a), 0);
	CHECK_EQ(evl_start(&l), 0);
	poke(a.fd);
	CHECK(wait_for(&a.calls, 1));
	poke(a.fd);
	sleep_ms(50);
	CHECK_EQ(atomic_load(&a.calls), 1);
	CHECK_EQ(evl_del(&l, a.fd), -ENOENT);
	/* b and c ready together: whichever runs first removes the other. */
	b.del_other = c.fd;
	c.del_other = b.fd;
	CHECK_EQ(evl_add(&l, b.fd, EPOLLIN, on_fd, &b), 0);
	CHECK_EQ(evl_add(&l, c.fd, EPOLLIN, on_fd, &c), 0);
	/* Stall the loop with a poller-free fd so both become ready in one epoll_wait. */
	struct fdctx s;
	init_ctx(&s, &l);
	s.sleep_ms = 100;
	CHECK_EQ(evl_add(&l, s.fd, EPOLLIN, on_fd, &s), 0);
	poke(s.fd);
	for (int i = 0; i < 5000 && !atomic_load(&s.in_cb); i++)
		sleep_ms(1);
	poke(b.fd);
	poke(c.fd);
	CHECK(wait_for(&s.calls, 1));
	sleep_ms(100);
	CHECK_EQ(atomic_load(&b.calls) + atomic_load(&c.calls), 1);
	evl_destroy(&l);
	close(a.fd);
	close(b.fd);
	close(c.fd);
	close(s.fd);
}

struct pctx {
	struct event_loop *loop;
	atomic_int calls;
	int spin_until; /* return true while calls < spin_until */
	bool del_self;
};

static bool on_poll(void *ctx)
{
	struct pctx *p = ctx;
	int n = atomic_fetch_add(&p->calls, 1) + 1;
	if (p->del_self)
		CHECK_EQ(evl_del_poller(p->loop, p), 0);
	return n < p->spin_until;
}

static void test_pollers(void)
{
	struct event_loop l;
	struct fdctx a;
	struct pctx p = { .loop = &l, .spin_until = 50 }, q = { .loop = &l };
	CHECK_EQ(evl_init(&l), 0);
	init_ctx(&a, &l);
	CHECK_EQ(evl_add(&l, a.fd, EPOLLIN, on_fd, &a), 0);
	CHECK_EQ(evl_add_poller(&l, on_poll, &p), 0);
	CHECK_EQ(evl_start(&l), 0);
	sleep_ms(30);
	CHECK_EQ(atomic_load(&p.calls), 0); /* pollers run after a round of events only */
	/* One event: the poller runs, and keeps the loop spinning while it returns true, then
	 * the loop sleeps again. */
	poke(a.fd);
	CHECK(wait_for(&p.calls, 50));
	sleep_ms(50);
	CHECK_EQ(atomic_load(&p.calls), 50);
	/* A poller that removes itself runs once. */
	q.del_self = true;
	q.spin_until = 1000;
	CHECK_EQ(evl_add_poller(&l, on_poll, &q), 0);
	poke(a.fd);
	CHECK(wait_for(&q.calls, 1));
	sleep_ms(50);
	CHECK_EQ(atomic_load(&q.calls), 1);
	CHECK_EQ(evl_del_poller(&l, &q), -ENOENT);
	/* Removed from outside: no more calls. */
	CHECK_EQ(evl_del_poller(&l, &p), 0);
	int before = atomic_load(&p.calls);
	poke(a.fd);
	CHECK(wait_for(&a.calls, 3));
	sleep_ms(30);
	CHECK_EQ(atomic_load(&p.calls), before);
	/* The table is bounded. */
	static struct pctx many[EVL_MAX_POLLERS + 1];
	int added = 0, e = 0;
	for (unsigned i = 0; i <= EVL_MAX_POLLERS && !e; i++) {
		e = evl_add_poller(&l, on_poll, &many[i]);
		if (!e)
			added++;
	}
	CHECK_EQ(added, EVL_MAX_POLLERS);
	CHECK_EQ(e, -ENOSPC);
	evl_destroy(&l);
	close(a.fd);
}

UNIT_MAIN(test_fd_callbacks, test_del_waits_for_callback, test_del_inside_callback,
	  test_pollers)
