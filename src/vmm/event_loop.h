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

struct evl_entry;

struct event_loop {
	int epfd;
	int stop_fd;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	struct evl_entry *entries;
	const struct evl_entry *in_callback;
};

int evl_init(struct event_loop *l);
/* Watch fd for events (EPOLLIN, ...). 0 or -errno. */
int evl_add(struct event_loop *l, int fd, uint32_t events, evl_fn fn, void *ctx);
int evl_del(struct event_loop *l, int fd);
int evl_start(struct event_loop *l);
/* Stop and join the thread, then forget every fd (not closed: owners close them). */
void evl_destroy(struct event_loop *l);

#endif
