/* The console of a supervised domain: guest output goes to a log file, a ring of recent output
 * and every client attached to a Unix socket; clients' keystrokes go to the guest.
 *
 * The monitor owns all of it, so output is kept while nobody is attached and survives a
 * restart of domusd. The guest side is a struct console (backend/console.h) on two pipes:
 * conmux_open() returns the ends to give console_open(). Everything else runs on the monitor's
 * event loop: conmux_fds() lists what to poll, conmux_handle() serves one ready fd. A client
 * that connects first receives the ring (recent output), then the live stream. */
#ifndef DOMUS_CONMUX_H
#define DOMUS_CONMUX_H
#include <stddef.h>
#include <stdint.h>

#define CONMUX_RING 65536
#define CONMUX_MAX_CLIENTS 8

struct conmux {
	int listen_fd;
	int log_fd;         /* -1: no log */
	int guest_out_rd;   /* guest output arrives here */
	int guest_out_wr;   /* console_open() out_fd */
	int guest_in_rd;    /* console_open() in_fd */
	int guest_in_wr;    /* clients' input goes here */
	int clients[CONMUX_MAX_CLIENTS];
	uint8_t ring[CONMUX_RING];
	size_t ring_head;   /* next byte to write */
	size_t ring_len;    /* valid bytes, <= CONMUX_RING */
	uint64_t total;     /* bytes of output so far */
};

/* Listen on socket_path (replacing a stale socket) and open log_path for appending (NULL: no
 * log). Returns 0, or -errno with a message in err. */
int conmux_open(struct conmux *m, const char *socket_path, const char *log_path, char *err,
		size_t errlen);
/* Write the fds to poll for input into fds (room for CONMUX_MAX_CLIENTS + 2); returns how many. */
size_t conmux_fds(const struct conmux *m, int *fds);
/* Serve fd if it belongs to the mux: returns 1 if it did, 0 if the fd is not the mux's. */
int conmux_handle(struct conmux *m, int fd);
/* Guest output, also usable directly (tests): log, ring, clients. */
void conmux_output(struct conmux *m, const uint8_t *buf, size_t len);
/* Copy the newest min(len, ring_len) bytes of the ring into out; returns the count. */
size_t conmux_recent(const struct conmux *m, uint8_t *out, size_t len);
void conmux_close(struct conmux *m);

#endif
