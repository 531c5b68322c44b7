#include "backend/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "lib/log.h"

struct disk_sync_done {
	void *tag;
	int64_t res;
};

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
	char b;
	struct iovec v = { &b, 1 };
	return preadv2(fd, &v, 1, 0, RWF_NOWAIT) < 0 && errno == EOPNOTSUPP;
}

int disk_open(struct disk *d, const char *path, bool readonly, char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	d->fd = d->event_fd = d->dfd = -1;
	d->readonly = readonly;
	d->fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (d->fd < 0) {
		snprintf(err, errlen, "image %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(d->fd, &st) < 0) {
		snprintf(err, errlen, "image %s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISBLK(st.st_mode)) {
		d->is_blockdev = true;
		if (ioctl(d->fd, BLKGETSIZE64, &d->size) < 0) {
			snprintf(err, errlen, "image %s: cannot read the device size: %s", path,
				 strerror(errno));
			goto fail;
		}
	} else if (S_ISREG(st.st_mode)) {
		d->size = (uint64_t)st.st_size;
	} else {
		snprintf(err, errlen, "image %s: not a regular file or block device", path);
		goto fail;
	}
	if (d->size % 512) {
		snprintf(err, errlen, "image %s: size %llu is not a multiple of 512 bytes (pad or "
			 "truncate it, e.g. truncate -s %llu %s)", path,
			 (unsigned long long)d->size, (unsigned long long)((d->size + 511) & ~511ull),
			 path);
		goto fail;
	}
	/* An open file description lock: held while this fd lives, never inherited. A writer
	 * takes it exclusive, a reader shared, so writers exclude everyone else. */
	struct flock fl = { .l_type = (short)(readonly ? F_RDLCK : F_WRLCK), .l_whence = SEEK_SET };
	if (fcntl(d->fd, F_OFD_SETLK, &fl) < 0) {
		if (errno == EAGAIN || errno == EACCES)
			snprintf(err, errlen, "image %s: in use by another domain (%s)", path,
				 readonly ? "open read-write there"
					  : "open there; a read-write disk cannot be shared");
		else
			snprintf(err, errlen, "image %s: cannot lock it: %s", path, strerror(errno));
		goto fail;
	}
	d->path = strdup(path);
	d->dfd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_DIRECT | O_CLOEXEC);
	d->inline_rw = inline_is_better(d->fd);
	return 0;
fail:
	close(d->fd);
	d->fd = -1;
	return -1;
}

void disk_close(struct disk *d)
{
	if (d->ring) {
		io_uring_queue_exit(d->ring);
		free(d->ring);
	}
	if (d->event_fd >= 0)
		close(d->event_fd);
	if (d->fd >= 0)
		close(d->fd);
	if (d->dfd >= 0)
		close(d->dfd);
	free(d->sync_done);
	free(d->path);
	memset(d, 0, sizeof(*d));
	d->fd = d->event_fd = d->dfd = -1;
}

int disk_io_init(struct disk *d, unsigned depth, disk_done_fn done, void *ctx)
{
	d->depth = depth;
	d->done = done;
	d->done_ctx = ctx;
	struct io_uring *ring = calloc(1, sizeof(*ring));
	if (ring && io_uring_queue_init(depth, ring, 0) == 0) {
		d->ring = ring;
		if (d->inline_rw) {
			d->sync_done = calloc(depth, sizeof(*d->sync_done));
			return d->sync_done ? 0 : -ENOMEM;
		}
		return 0;
	}
	d->inline_rw = false;
	free(ring);
	log_debug("%s: io_uring unavailable; synchronous I/O on the I/O thread", d->path);
	d->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->event_fd < 0)
		return -errno;
	d->sync_done = calloc(depth, sizeof(*d->sync_done));
	return d->sync_done ? 0 : -ENOMEM;
}

int disk_io_event_fd(const struct disk *d)
{
	return d->ring ? ((struct io_uring *)d->ring)->ring_fd : d->event_fd;
}

static int fa_mode(enum disk_op op)
{
	return op == DISK_PUNCH ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
				: FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
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

static int64_t sync_exec(struct disk *d, const struct disk_req *r)
{
	switch (r->op) {
	case DISK_READ:
		return sync_rw(d->fd, false, r->iov, r->iovcnt, r->off);
	case DISK_WRITE:
		return sync_rw(d->fd, true, r->iov, r->iovcnt, r->off);
	case DISK_FLUSH:
		return fdatasync(d->fd) < 0 ? -errno : 0;
	default:
		return fallocate(d->fd, fa_mode(r->op), (off_t)r->off, (off_t)r->len) < 0 ? -errno : 0;
	}
}

/* The O_DIRECT descriptor when the request meets its alignment, else the buffered one. */
static int fd_for(const struct disk *d, const struct disk_req *r)
{
	if (d->dfd < 0 || (r->off & 511))
		return d->fd;
	for (unsigned i = 0; i < r->iovcnt; i++)
		if (((uintptr_t)r->iov[i].iov_base | r->iov[i].iov_len) & 511)
			return d->fd;
	return d->dfd;
}

int disk_io_queue(struct disk *d, const struct disk_req *r)
{
	if (!d->ring) {
		if (d->nr_sync_done >= d->depth)
			return -EBUSY;
		d->sync_done[d->nr_sync_done++] = (struct disk_sync_done){ r->tag, sync_exec(d, r) };
		return 0;
	}
	if (d->inline_rw && (r->op == DISK_READ || r->op == DISK_WRITE)) {
		if (d->nr_sync_done >= d->depth)
			return -EBUSY;
		d->sync_done[d->nr_sync_done++] = (struct disk_sync_done){ r->tag, sync_exec(d, r) };
		return 0;
	}
	struct io_uring_sqe *sqe = io_uring_get_sqe(d->ring);
	if (!sqe)
		return -EBUSY;
	switch (r->op) {
	case DISK_READ:
		io_uring_prep_readv(sqe, fd_for(d, r), r->iov, r->iovcnt, r->off);
		break;
	case DISK_WRITE:
		io_uring_prep_writev(sqe, fd_for(d, r), r->iov, r->iovcnt, r->off);
		break;
	case DISK_FLUSH:
		io_uring_prep_fsync(sqe, d->fd, IORING_FSYNC_DATASYNC);
		break;
	default:
		io_uring_prep_fallocate(sqe, d->fd, fa_mode(r->op), r->off, r->len);
		break;
	}
	io_uring_sqe_set_data(sqe, r->tag);
	d->queued++;
	return 0;
}

void disk_io_submit(struct disk *d)
{
	if (!d->ring) {
		if (d->nr_sync_done) {
			uint64_t one = 1;
			if (write(d->event_fd, &one, sizeof(one)) < 0)
				log_debug("disk event: %s", strerror(errno));
		}
		return;
	}
	if (d->queued) {
		int r = io_uring_submit(d->ring);
		if (r < 0)
			log_warn("%s: io_uring_submit: %s", d->path, strerror(-r));
		d->queued = 0;
	}
}

unsigned disk_io_poll(struct disk *d)
{
	unsigned cnt = 0;
	if (!d->ring) {
		uint64_t n;
		if (read(d->event_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
			log_debug("disk event: %s", strerror(errno));
		cnt = d->nr_sync_done;
		d->nr_sync_done = 0;
		for (unsigned i = 0; i < cnt; i++)
			d->done(d->done_ctx, d->sync_done[i].tag, d->sync_done[i].res);
		return cnt;
	}
	/* Taken before the loop: done() may queue requests (and so in-line completions). */
	unsigned n_inline = d->nr_sync_done;
	d->nr_sync_done = 0;
	for (unsigned i = 0; i < n_inline; i++, cnt++)
		d->done(d->done_ctx, d->sync_done[i].tag, d->sync_done[i].res);
	struct io_uring_cqe *cqe;
	while (io_uring_peek_cqe(d->ring, &cqe) == 0) {
		void *tag = io_uring_cqe_get_data(cqe);
		int64_t res = cqe->res;
		io_uring_cqe_seen(d->ring, cqe);
		d->done(d->done_ctx, tag, res);
		cnt++;
	}
	return cnt;
}
