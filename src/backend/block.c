#include "backend/block.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "lib/log.h"

/* ---- open, lock, size ---- */

static uint64_t read_size(int fd, bool is_blockdev, int *e)
{
	struct stat st;
	uint64_t size = 0;
	*e = 0;
	if (is_blockdev) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
			*e = errno;
			return 0;
		}
		return size;
	}
	if (fstat(fd, &st) < 0) {
		*e = errno;
		return 0;
	}
	return (uint64_t)st.st_size;
}

static void reset(struct block *b)
{
	memset(b, 0, sizeof(*b));
	b->fd = b->dfd = b->event_fd = -1;
}

int block_open(struct block *b, const char *path, unsigned flags, char *err, size_t errlen)
{
	reset(b);
	b->readonly = flags & BLOCK_READONLY;
	b->medium = flags & BLOCK_MEDIUM;
	struct stat st;
	int e;
	if (stat(path, &st) < 0) {
		e = errno;
		snprintf(err, errlen, "image %s: %s", path, strerror(e));
		return -e;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(err, errlen, "image %s: not a regular file or block device", path);
		return -EINVAL;
	}
	b->is_blockdev = S_ISBLK(st.st_mode);
	/* A host CD-ROM without a disc must still open: O_NONBLOCK does that. */
	int oflags = (b->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC |
		     (b->is_blockdev && b->medium ? O_NONBLOCK : 0);
	b->fd = open(path, oflags);
	if (b->fd < 0) {
		e = errno;
		snprintf(err, errlen, "image %s: %s", path, strerror(e));
		reset(b);
		return -e;
	}
	b->size = read_size(b->fd, b->is_blockdev, &e);
	if (e && !b->medium) {
		snprintf(err, errlen, "image %s: cannot read its size: %s", path, strerror(e));
		goto fail;
	}
	if (!b->medium && b->size % BLOCK_SECTOR) {
		snprintf(err, errlen, "image %s: size %llu is not a multiple of 512 bytes (pad or "
			 "truncate it, e.g. truncate -s %llu %s)", path,
			 (unsigned long long)b->size, (unsigned long long)((b->size + 511) & ~511ull),
			 path);
		e = EINVAL;
		goto fail;
	}
	/* An open file description lock: held while this fd lives, never inherited, and
	 * checked against every other open of the file, in this process too. */
	struct flock fl = { .l_type = (short)(b->readonly ? F_RDLCK : F_WRLCK),
			    .l_whence = SEEK_SET };
	if (fcntl(b->fd, F_OFD_SETLK, &fl) < 0) {
		e = errno;
		if (e == EAGAIN || e == EACCES) {
			snprintf(err, errlen, "image %s: in use by another domain (%s)", path,
				 b->readonly ? "open read-write there; a disk being written cannot "
					       "be shared"
					     : "open there; a read-write disk cannot be shared");
			e = EBUSY;
		} else {
			snprintf(err, errlen, "image %s: cannot lock it: %s", path, strerror(e));
		}
		goto fail;
	}
	b->path = strdup(path);
	if (!b->path) {
		snprintf(err, errlen, "image %s: out of memory", path);
		e = ENOMEM;
		goto fail;
	}
	return 0;
fail:
	close(b->fd);
	reset(b);
	return -e;
}

uint64_t block_refresh_size(struct block *b)
{
	int e;
	if (b->fd < 0)
		return 0;
	b->size = read_size(b->fd, b->is_blockdev, &e);
	return b->size;
}

void block_close(struct block *b)
{
	if (b->ring) {
		io_uring_queue_exit(b->ring);
		free(b->ring);
	}
	if (b->event_fd >= 0)
		close(b->event_fd);
	if (b->fd >= 0)
		close(b->fd);
	if (b->dfd >= 0)
		close(b->dfd);
	free(b->sync_done);
	free(b->sync_reap);
	free(b->path);
	reset(b);
}

/* ---- synchronous engine ---- */

static bool in_range(const struct block *b, uint64_t off, uint64_t len)
{
	return off <= b->size && len <= b->size - off;
}

int block_read(struct block *b, uint64_t off, void *buf, size_t len)
{
	if (!in_range(b, off, len))
		return -EIO;
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(b->fd, (uint8_t *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO; /* the file shrank under us */
		got += (size_t)n;
	}
	return 0;
}

int block_write(struct block *b, uint64_t off, const void *buf, size_t len)
{
	if (b->readonly)
		return -EROFS;
	if (!in_range(b, off, len))
		return -EIO;
	size_t put = 0;
	while (put < len) {
		ssize_t n = pwrite(b->fd, (const uint8_t *)buf + put, len - put,
				   (off_t)(off + put));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		put += (size_t)n;
	}
	return 0;
}

/* The one flush: both engines end up here or in the same kernel call (io_uring's fsync with
 * IORING_FSYNC_DATASYNC is vfs_fsync_range(datasync), what fdatasync() does). */
int block_flush(struct block *b)
{
	if (b->readonly)
		return 0;
	return fdatasync(b->fd) < 0 ? -errno : 0;
}

static int fa_mode(enum block_op op)
{
	return op == BLOCK_PUNCH ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
				 : FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
}

int block_zero_fill(struct block *b, uint64_t off, uint64_t len)
{
	static const uint8_t zeros[65536];
	while (len) {
		size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
		ssize_t w = pwrite(b->fd, zeros, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EIO;
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	return 0;
}

static int fallocate_op(struct block *b, enum block_op op, uint64_t off, uint64_t len)
{
	if (!len)
		return 0;
	return fallocate(b->fd, fa_mode(op), (off_t)off, (off_t)len) < 0 ? -errno : 0;
}

int block_discard(struct block *b, uint64_t off, uint64_t len)
{
	if (b->readonly)
		return -EROFS;
	if (!in_range(b, off, len))
		return -EIO;
	int r = fallocate_op(b, BLOCK_PUNCH, off, len);
	return r == -EOPNOTSUPP ? 0 : r; /* discard is only a hint */
}

int block_write_zeroes(struct block *b, uint64_t off, uint64_t len, bool may_unmap)
{
	if (b->readonly)
		return -EROFS;
	if (!in_range(b, off, len))
		return -EIO;
	int r = fallocate_op(b, may_unmap ? BLOCK_PUNCH : BLOCK_ZERO, off, len);
	/* Zeroing must happen: by writing, where the file system can neither punch nor zero. */
	return r == -EOPNOTSUPP ? block_zero_fill(b, off, len) : r;
}

/* ---- asynchronous engine ---- */

/* A file in memory (tmpfs, ramfs) never waits for a device, but before Linux 6.6 tmpfs does
 * not take non-blocking I/O (RWF_NOWAIT), so io_uring hands every read and write to one of
 * its worker threads: a thread wake-up and a completion wake-up per request, for a memory copy.
 * There, reads and writes are done in-line on the I/O thread instead. Where the kernel takes
 * RWF_NOWAIT, io_uring already completes them in-line itself and keeps the async path. */
static bool inline_is_better(int fd)
{
	struct statfs fs;
	if (fstatfs(fd, &fs) < 0 || (fs.f_type != TMPFS_MAGIC && fs.f_type != RAMFS_MAGIC))
		return false;
	char c;
	struct iovec v = { &c, 1 };
	return preadv2(fd, &v, 1, 0, RWF_NOWAIT) < 0 && errno == EOPNOTSUPP;
}

int block_aio_init(struct block *b, unsigned depth, block_done_fn done, void *ctx)
{
	if (!depth)
		return -EINVAL;
	b->depth = depth;
	b->done = done;
	b->done_ctx = ctx;
	b->sync_done = calloc(depth, sizeof(*b->sync_done));
	b->sync_reap = calloc(depth, sizeof(*b->sync_reap));
	if (!b->sync_done || !b->sync_reap)
		return -ENOMEM;
	/* The O_DIRECT twin: -1 where the file system refuses it (tmpfs), then buffered I/O. */
	b->dfd = open(b->path, (b->readonly ? O_RDONLY : O_RDWR) | O_DIRECT | O_CLOEXEC);
	b->inline_rw = inline_is_better(b->fd);
	struct io_uring *ring = calloc(1, sizeof(*ring));
	if (ring && io_uring_queue_init(depth, ring, 0) == 0) {
		b->ring = ring;
		return 0;
	}
	free(ring);
	b->inline_rw = false;
	log_debug("%s: io_uring unavailable; synchronous I/O on the I/O thread", b->path);
	b->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return b->event_fd < 0 ? -errno : 0;
}

int block_aio_event_fd(const struct block *b)
{
	return b->ring ? ((struct io_uring *)b->ring)->ring_fd : b->event_fd;
}

static int64_t sync_rw(int fd, bool write, const struct iovec *iov, unsigned n, uint64_t off)
{
	/* One call is enough for files and block devices short of an error; loop anyway. */
	int64_t done = 0;
	struct iovec local[1024];
	if (n > sizeof(local) / sizeof(local[0]))
		return -EINVAL;
	memcpy(local, iov, n * sizeof(*iov));
	struct iovec *v = local;
	while (n) {
		ssize_t r = write ? pwritev(fd, v, (int)n, (off_t)(off + (uint64_t)done))
				  : preadv(fd, v, (int)n, (off_t)(off + (uint64_t)done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			break;
		done += r;
		while (n && (size_t)r >= v->iov_len) {
			r -= (ssize_t)v->iov_len;
			v++;
			n--;
		}
		if (n) {
			v->iov_base = (char *)v->iov_base + r;
			v->iov_len -= (size_t)r;
		}
	}
	return done;
}

static int64_t sync_exec(struct block *b, const struct block_req *r)
{
	switch (r->op) {
	case BLOCK_READ:
		return sync_rw(b->fd, false, r->iov, r->iovcnt, r->off);
	case BLOCK_WRITE:
		return sync_rw(b->fd, true, r->iov, r->iovcnt, r->off);
	case BLOCK_FLUSH:
		return block_flush(b);
	default:
		return fallocate_op(b, r->op, r->off, r->len);
	}
}

/* The O_DIRECT descriptor when the request meets its alignment, else the buffered one. */
static int fd_for(const struct block *b, const struct block_req *r)
{
	if (b->dfd < 0 || (r->off & 511))
		return b->fd;
	for (unsigned i = 0; i < r->iovcnt; i++)
		if (((uintptr_t)r->iov[i].iov_base | r->iov[i].iov_len) & 511)
			return b->fd;
	return b->dfd;
}

int block_aio_queue(struct block *b, const struct block_req *r)
{
	if (r->op != BLOCK_READ && r->op != BLOCK_FLUSH && b->readonly)
		return -EROFS;
	if (r->op != BLOCK_FLUSH && !in_range(b, r->off, r->len))
		return -EIO;
	if (!b->ring || (b->inline_rw && (r->op == BLOCK_READ || r->op == BLOCK_WRITE))) {
		if (b->nr_sync_done >= b->depth)
			return -EBUSY;
		b->sync_done[b->nr_sync_done++] = (struct block_done_entry){ r->tag,
									     sync_exec(b, r) };
		return 0;
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(b->ring);
	if (!sqe)
		return -EBUSY;
	switch (r->op) {
	case BLOCK_READ:
		io_uring_prep_readv(sqe, fd_for(b, r), r->iov, r->iovcnt, r->off);
		break;
	case BLOCK_WRITE:
		io_uring_prep_writev(sqe, fd_for(b, r), r->iov, r->iovcnt, r->off);
		break;
	case BLOCK_FLUSH:
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
		break;
	default:
		io_uring_prep_fallocate(sqe, b->fd, fa_mode(r->op), r->off, r->len);
		break;
	}
	io_uring_sqe_set_data(sqe, r->tag);
	b->queued++;
	return 0;
}

void block_aio_submit(struct block *b)
{
	if (!b->ring) {
		if (b->nr_sync_done) {
			uint64_t one = 1;
			if (write(b->event_fd, &one, sizeof(one)) < 0)
				log_debug("%s: completion event: %s", b->path, strerror(errno));
		}
		return;
	}
	if (b->queued) {
		int r = io_uring_submit(b->ring);
		if (r < 0)
			log_warn("%s: io_uring_submit: %s", b->path, strerror(-r));
		b->queued = 0;
	}
}

unsigned block_aio_poll(struct block *b)
{
	unsigned cnt = 0;
	if (!b->ring) {
		uint64_t n;
		if (read(b->event_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
			log_debug("%s: completion event: %s", b->path, strerror(errno));
	}
	/* done() may queue requests, and so in-line completions: those go to the other buffer,
	 * reported at the next poll, not over the entries being reported now. */
	struct block_done_entry *batch = b->sync_done;
	unsigned n_inline = b->nr_sync_done;
	b->sync_done = b->sync_reap;
	b->sync_reap = batch;
	b->nr_sync_done = 0;
	for (unsigned i = 0; i < n_inline; i++, cnt++)
		b->done(b->done_ctx, batch[i].tag, batch[i].res);
	if (!b->ring)
		return cnt;
	struct io_uring_cqe *cqe;
	while (io_uring_peek_cqe(b->ring, &cqe) == 0) {
		void *tag = io_uring_cqe_get_data(cqe);
		int64_t res = cqe->res;
		io_uring_cqe_seen(b->ring, cqe);
		b->done(b->done_ctx, tag, res);
		cnt++;
	}
	return cnt;
}
