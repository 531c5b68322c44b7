/* The I/O thread: one epoll loop where device back ends wait on file descriptors (queue
 * notify eventfds, TAP devices, io_uring completion eventfds).
 *
 * evl_add() may be called before or after evl_start(), from any thread; the callback runs on
 * the loop thread with the events that fired. evl_del() from another thread returns only
 * when the loop no longer runs that fd's callback, so its context may be freed after it. */
#ifndef DOMUS_EVENT_LOOP_H
#define DOMUS_EVENT_LOOP_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

typedef void (*evl_fn)(void *ctx, uint32_t events);
/* A poller runs on the loop thread after every round of events; while any returns true the
 * loop does not sleep (it keeps checking its fds without blocking). */
typedef bool (*evl_poll_fn)(void *ctx);

struct evl_entry;

#define EVL_MAX_POLLERS 64

struct event_loop {
	int epfd;
	int stop_fd;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	struct evl_entry *entries;
	struct evl_entry *pollers[EVL_MAX_POLLERS];
	unsigned npollers;
	const struct evl_entry *in_callback;
};

int evl_init(struct event_loop *l);
/* Watch fd for events (EPOLLIN, ...). 0 or -errno. */
int evl_add(struct event_loop *l, int fd, uint32_t events, evl_fn fn, void *ctx);
int evl_del(struct event_loop *l, int fd);
/* Add / remove a poller (see evl_poll_fn). evl_del_poller() waits like evl_del(). 0 or
 * -errno (-ENOSPC past EVL_MAX_POLLERS). */
int evl_add_poller(struct event_loop *l, evl_poll_fn fn, void *ctx);
int evl_del_poller(struct event_loop *l, void *ctx);
int evl_start(struct event_loop *l);
/* Stop and join the thread, then forget every fd (not closed: owners close them). */
void evl_destroy(struct event_loop *l);

#endif
