/* Disk images for block devices: a raw image file or a host block device, opened read-write
 * or read-only, with an advisory lock so that two running domains never share an image
 * read-write (an image open read-write elsewhere is refused, as is opening read-write an
 * image another domain has open at all). An image file whose size is not a multiple of 512
 * bytes is refused.
 *
 * Reads and writes whose buffers and offset are 512-byte aligned bypass the host page cache
 * (O_DIRECT, like QEMU's cache=none), others go through it; FLUSH covers both.
 * I/O goes through io_uring (liburing) when the host allows it, else synchronous calls on
 * the I/O thread. disk_io_*() queue requests; completions come back through the done
 * callback on the I/O thread, from the fd the caller watches (disk_io_event_fd()), or from the
 * disk_io_poll() the caller makes right after disk_io_submit() (requests done in-line). */
#ifndef DOMUS_DISK_H
#define DOMUS_DISK_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

enum disk_op { DISK_READ, DISK_WRITE, DISK_FLUSH, DISK_PUNCH, DISK_ZERO };

struct disk_req {
	enum disk_op op;
	uint64_t off, len;        /* bytes; for READ/WRITE len is the iovecs' total */
	const struct iovec *iov;
	unsigned iovcnt;
	void *tag;
};

typedef void (*disk_done_fn)(void *ctx, void *tag, int64_t res); /* res: bytes or -errno */

struct disk {
	char *path;
	int fd;
	int dfd;                  /* the same file with O_DIRECT, -1 where the FS refuses it */
	bool readonly;
	bool is_blockdev;
	bool inline_rw;           /* memory-backed file io_uring would punt to a worker: see .c */
	uint64_t size;
	/* I/O engine */
	void *ring;               /* struct io_uring *, NULL: synchronous */
	unsigned depth, queued;
	int event_fd;             /* synchronous engine: completions are ready */
	disk_done_fn done;
	void *done_ctx;
	/* synchronous engine: finished requests waiting for the next poll */
	struct disk_sync_done *sync_done;
	unsigned nr_sync_done;
};

/* Open and lock path. 0, or -1 with the reason in err ("image /x: ..."). */
int disk_open(struct disk *d, const char *path, bool readonly, char *err, size_t errlen);
void disk_close(struct disk *d);
/* Prepare the engine for up to depth requests in flight. 0 or -errno. */
int disk_io_init(struct disk *d, unsigned depth, disk_done_fn done, void *ctx);
/* Readable when completions are ready: call disk_io_poll(). With io_uring it is the ring's
 * own fd (pollable while the completion queue holds entries), so reaping needs no extra
 * read and completions reaped early leave no stale wakeup behind. */
int disk_io_event_fd(const struct disk *d);
/* Queue one request (not yet submitted). 0 or -EBUSY when depth are in flight. */
int disk_io_queue(struct disk *d, const struct disk_req *r);
/* Submit everything queued. */
void disk_io_submit(struct disk *d);
/* Reap completions, calling done for each; returns how many. Worth calling right after
 * disk_io_submit(): requests the kernel finished during submission (page cache hits, the
 * synchronous engine) complete then, without a trip through the event loop. */
unsigned disk_io_poll(struct disk *d);

#endif
