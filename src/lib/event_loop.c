#include "lib/event_loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/log.h"

struct evl_entry {
	int fd;
	evl_fn fn;
	evl_poll_fn poll;
	void *ctx;
	struct evl_entry *next;
};

int evl_init(struct event_loop *l)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->idle, NULL);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->epfd < 0 || l->stop_fd < 0)
		return -errno;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->stop_fd, &ev) < 0)
		return -errno;
	return 0;
}

int evl_add(struct event_loop *l, int fd, uint32_t events, evl_fn fn, void *ctx)
{
	struct evl_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = (struct evl_entry){ .fd = fd, .fn = fn, .ctx = ctx };
	pthread_mutex_lock(&l->lock);
	struct epoll_event ev = { .events = events, .data.ptr = e };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = -errno;
		pthread_mutex_unlock(&l->lock);
		free(e);
		return err;
	}
	e->next = l->entries;
	l->entries = e;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

/* e is unlinked (lock held): the loop may be inside its callback right now, so wait for that to
 * return (unless we are that callback), then unlock and free it. */
static void release_unlock(struct event_loop *l, struct evl_entry *e)
{
	if (l->running && !pthread_equal(pthread_self(), l->thread))
		while (l->running && l->in_callback == e)
			pthread_cond_wait(&l->idle, &l->lock);
	pthread_mutex_unlock(&l->lock);
	free(e);
}

int evl_del(struct event_loop *l, int fd)
{
	pthread_mutex_lock(&l->lock);
	struct evl_entry **pp = &l->entries, *e = NULL;
	for (; *pp; pp = &(*pp)->next) {
		if ((*pp)->fd == fd) {
			e = *pp;
			*pp = e->next;
			break;
		}
	}
	if (!e) {
		pthread_mutex_unlock(&l->lock);
		return -ENOENT;
	}
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	/* Events already fetched for e are dropped by entry_live(). */
	release_unlock(l, e);
	return 0;
}

int evl_add_poller(struct event_loop *l, evl_poll_fn fn, void *ctx)
{
	struct evl_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = (struct evl_entry){ .fd = -1, .poll = fn, .ctx = ctx };
	pthread_mutex_lock(&l->lock);
	if (l->npollers == EVL_MAX_POLLERS) {
		pthread_mutex_unlock(&l->lock);
		free(e);
		return -ENOSPC;
	}
	l->pollers[l->npollers++] = e;
	pthread_mutex_unlock(&l->lock);
	return 0;
}

int evl_del_poller(struct event_loop *l, void *ctx)
{
	pthread_mutex_lock(&l->lock);
	struct evl_entry *e = NULL;
	for (unsigned i = 0; i < l->npollers; i++) {
		if (l->pollers[i]->ctx == ctx) {
			e = l->pollers[i];
			l->pollers[i] = l->pollers[--l->npollers];
			break;
		}
	}
	if (!e) {
		pthread_mutex_unlock(&l->lock);
		return -ENOENT;
	}
	release_unlock(l, e);
	return 0;
}

/* Run every poller once; true when one of them wants the loop to keep spinning. */
static bool run_pollers(struct event_loop *l)
{
	bool spin = false;
	for (unsigned i = 0;; i++) {
		pthread_mutex_lock(&l->lock);
		if (i >= l->npollers) {
			pthread_mutex_unlock(&l->lock);
			break;
		}
		struct evl_entry *e = l->pollers[i];
		l->in_callback = e;
		pthread_mutex_unlock(&l->lock);
		if (e->poll(e->ctx))
			spin = true;
		pthread_mutex_lock(&l->lock);
		l->in_callback = NULL;
		pthread_cond_broadcast(&l->idle);
		pthread_mutex_unlock(&l->lock);
	}
	return spin;
}

static bool entry_live(struct event_loop *l, const struct evl_entry *e)
{
	for (const struct evl_entry *i = l->entries; i; i = i->next)
		if (i == e)
			return true;
	return false;
}

static void *evl_thread(void *arg)
{
	struct event_loop *l = arg;
	pthread_setname_np(pthread_self(), "io");
	struct epoll_event evs[32];
	bool spin = false;
	for (;;) {
		int n = epoll_wait(l->epfd, evs, 32, spin ? 0 : -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("I/O thread: epoll_wait: %s", strerror(errno));
			break;
		}
		bool stop = false;
		for (int i = 0; i < n; i++) {
			struct evl_entry *e = evs[i].data.ptr;
			if (!e) {
				stop = true;
				continue;
			}
			pthread_mutex_lock(&l->lock);
			bool live = entry_live(l, e);
			if (live)
				l->in_callback = e;
			pthread_mutex_unlock(&l->lock);
			if (live) {
				e->fn(e->ctx, evs[i].events);
				pthread_mutex_lock(&l->lock);
				l->in_callback = NULL;
				pthread_cond_broadcast(&l->idle);
				pthread_mutex_unlock(&l->lock);
			}
		}
		if (stop)
			break;
		spin = run_pollers(l);
	}
	return NULL;
}

int evl_start(struct event_loop *l)
{
	pthread_mutex_lock(&l->lock);
	l->running = true;
	int e = pthread_create(&l->thread, NULL, evl_thread, l);
	if (e)
		l->running = false;
	pthread_mutex_unlock(&l->lock);
	return -e;
}

void evl_destroy(struct event_loop *l)
{
	if (l->running) {
		uint64_t one = 1;
		if (write(l->stop_fd, &one, sizeof(one)) < 0)
			log_debug("I/O thread stop: %s", strerror(errno));
		pthread_join(l->thread, NULL);
		pthread_mutex_lock(&l->lock);
		l->running = false;
		pthread_cond_broadcast(&l->idle);
		pthread_mutex_unlock(&l->lock);
	}
	while (l->npollers)
		free(l->pollers[--l->npollers]);
	while (l->entries) {
		struct evl_entry *e = l->entries;
		l->entries = e->next;
		free(e);
	}
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->stop_fd >= 0)
		close(l->stop_fd);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->idle);
	l->epfd = l->stop_fd = -1;
}
