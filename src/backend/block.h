/* The block back end of every disk device (IDE/ATAPI and virtio-blk): a raw image file or a
 * host block device, with one lock policy, one size policy and two I/O engines.
 *
 * Lock: an open file description lock (F_OFD_SETLK) on the whole image, held while it is open
 * and never inherited. A read-write open takes it exclusive, a read-only one shared, so a
 * writer excludes everyone: a second domain cannot open an image read-write, nor write one
 * another domain reads, nor read one another domain writes. Refusals name the image and why.
 *
 * Size: a disk's size must be a multiple of 512 bytes. A removable medium (BLOCK_MEDIUM, an
 * ISO or a host CD-ROM) may have any size, even none (a host drive without a disc).
 *
 * Engines: the synchronous one (block_read/write/flush/discard/write_zeroes) runs on the
 * calling thread, for device models whose transfers complete within a register access (IDE
 * and ATAPI on the vCPU thread). The asynchronous one (block_aio_*) queues requests through
 * io_uring when the host allows it, else runs them synchronously on the I/O thread, and
 * reports completions through a callback (virtio-blk). Both flush with fdatasync semantics
 * (io_uring's DATASYNC fsync is the same kernel call): a flush returns or completes only after
 * every write completed before it is durable, so an acknowledged flush is durable. Reads and
 * writes the async engine sees 512-byte aligned bypass the host page cache (O_DIRECT, like
 * QEMU's cache=none); the flush covers both descriptors, which share one inode. */
#ifndef DOMUS_BLOCK_H
#define DOMUS_BLOCK_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define BLOCK_SECTOR 512u

/* block_open() flags */
#define BLOCK_READONLY 0x1 /* open read-only, shared lock; writes fail with -EROFS */
#define BLOCK_MEDIUM 0x2   /* removable medium: any size, an empty host drive opens */

enum block_op { BLOCK_READ, BLOCK_WRITE, BLOCK_FLUSH, BLOCK_PUNCH, BLOCK_ZERO };

struct block_req {
	enum block_op op;
	uint64_t off, len;        /* bytes; for READ/WRITE len is the iovecs' total */
	const struct iovec *iov;
	unsigned iovcnt;
	void *tag;
};

/* res: bytes transferred (READ/WRITE), 0 (others), or -errno. */
typedef void (*block_done_fn)(void *ctx, void *tag, int64_t res);

struct block_done_entry {
	void *tag;
	int64_t res;
};

struct block {
	char *path;
	int fd;
	int dfd;                  /* async engine: the same file with O_DIRECT, -1 if refused */
	bool readonly;
	bool medium;
	bool is_blockdev;
	uint64_t size;            /* bytes */
	/* asynchronous engine */
	bool inline_rw;           /* memory-backed file io_uring would punt to a worker: see .c */
	void *ring;               /* struct io_uring *; NULL: synchronous on the I/O thread */
	unsigned depth, queued;
	int event_fd;             /* no ring: completions are ready */
	block_done_fn done;
	void *done_ctx;
	struct block_done_entry *sync_done; /* finished in-line, reported at the next poll */
	struct block_done_entry *sync_reap; /* the previous batch, being reported */
	unsigned nr_sync_done;
};

/* Open and lock path (flags: BLOCK_*). Refuses what is neither a regular file nor a block
 * device, a disk whose size is not a multiple of 512, and an image another open holds in a
 * conflicting mode ("in use by another domain"). 0, or -errno with the reason in err
 * ("image <path>: <why>"). b is left closed (fd -1) on failure; block_close() is harmless. */
int block_open(struct block *b, const char *path, unsigned flags, char *err, size_t errlen);
/* Close the image (dropping its lock) and the async engine. No request may be in flight. */
void block_close(struct block *b);
/* Read the size again (a host CD-ROM's medium may have changed) and return it; 0 when the
 * drive is empty or the size cannot be read. */
uint64_t block_refresh_size(struct block *b);

/* ---- synchronous engine: on the calling thread ---- */

/* Read len bytes at off into buf. 0; -EIO for a range past the end or a short read (the
 * file shrank); -errno for a host I/O error. */
int block_read(struct block *b, uint64_t off, void *buf, size_t len);
/* Write len bytes at off. 0; -EROFS on a read-only image; -EIO for a range past the end;
 * -errno for a host I/O error. The data is durable only after a block_flush(). */
int block_write(struct block *b, uint64_t off, const void *buf, size_t len);
/* fdatasync: every write that returned before it is on stable storage when it returns 0.
 * 0 on a read-only image (nothing to flush); -errno when the host could not sync. */
int block_flush(struct block *b);
/* Deallocate [off, off+len) (punch a hole, reads then return zeros). A hint: 0 also when the
 * file system cannot punch. -EROFS read-only, -EIO past the end, -errno on host errors. */
int block_discard(struct block *b, uint64_t off, uint64_t len);
/* Make [off, off+len) read as zeros: zero range, or a hole when may_unmap, falling back to
 * writing zeros where the file system can do neither. -EROFS, -EIO, -errno as above. */
int block_write_zeroes(struct block *b, uint64_t off, uint64_t len, bool may_unmap);
/* Write zeros over [off, off+len) with pwrite (no range or read-only check: the async engine
 * uses it for a WRITE_ZEROES the file system refused). 0 or -errno. */
int block_zero_fill(struct block *b, uint64_t off, uint64_t len);

/* ---- asynchronous engine: on the I/O thread ---- */

/* Prepare for up to depth requests in flight, completions reported to done(ctx, tag, res).
 * Uses io_uring when the host allows it, else synchronous calls. 0 or -errno. */
int block_aio_init(struct block *b, unsigned depth, block_done_fn done, void *ctx);
/* Readable when completions are ready: then call block_aio_poll(). With io_uring it is the
 * ring's own fd (pollable while the completion queue holds entries), so reaping needs no
 * extra read and completions reaped early leave no stale wakeup behind. */
int block_aio_event_fd(const struct block *b);
/* Queue one request (not yet submitted). 0; -EBUSY when depth are in flight; -EROFS for a
 * write, punch or zero on a read-only image; -EIO for a range past the end. On an error
 * nothing is queued and done() is not called for it. */
int block_aio_queue(struct block *b, const struct block_req *r);
/* Submit everything queued. */
void block_aio_submit(struct block *b);
/* Reap completions, calling done for each; returns how many. Worth calling right after
 * block_aio_submit(): requests the kernel finished during submission (page cache hits, the
 * synchronous fallback) complete then, without a trip through the event loop. */
unsigned block_aio_poll(struct block *b);

#endif
