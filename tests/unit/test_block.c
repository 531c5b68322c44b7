#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <poll.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/block.h"

/* A temporary file of size bytes under dir, byte i holding (i / 512) & 0xFF ^ 0x5A. */
static int make_file(char *path, size_t pathlen, const char *dir, size_t size)
{
	snprintf(path, pathlen, "%s/domus-block-XXXXXX", dir);
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	uint8_t s[512];
	for (size_t off = 0; off < size; off += sizeof(s)) {
		size_t n = size - off < sizeof(s) ? size - off : sizeof(s);
		memset(s, (int)(((off / 512) & 0xFF) ^ 0x5A), n);
		if (write(fd, s, n) != (ssize_t)n) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void test_lock_policy(void)
{
	char path[64], err[512];
	struct block a, b, c;
	CHECK_EQ(make_file(path, sizeof(path), "/tmp", 8192), 0);
	/* writer vs writer: refused, saying which image and why */
	CHECK_EQ(block_open(&a, path, 0, err, sizeof(err)), 0);
	err[0] = 0;
	CHECK_EQ(block_open(&b, path, 0, err, sizeof(err)), -EBUSY);
	CHECK(strstr(err, path) != NULL);
	CHECK(strstr(err, "in use by another domain") != NULL);
	CHECK(strstr(err, "read-write disk cannot be shared") != NULL);
	CHECK_EQ(b.fd, -1);
	block_close(&b); /* harmless after a failed open */
	/* reader vs writer: refused too */
	err[0] = 0;
	CHECK_EQ(block_open(&b, path, BLOCK_READONLY, err, sizeof(err)), -EBUSY);
	CHECK(strstr(err, "in use by another domain") != NULL);
	CHECK(strstr(err, "open read-write there") != NULL);
	block_close(&a);
	/* the lock goes with the writer: now readers share ... */
	CHECK_EQ(block_open(&a, path, BLOCK_READONLY, err, sizeof(err)), 0);
	CHECK_EQ(block_open(&b, path, BLOCK_READONLY | BLOCK_MEDIUM, err, sizeof(err)), 0);
	/* ... and a writer is refused while any reader holds it */
	CHECK_EQ(block_open(&c, path, 0, err, sizeof(err)), -EBUSY);
	block_close(&a);
	CHECK_EQ(block_open(&c, path, 0, err, sizeof(err)), -EBUSY);
	block_close(&b);
	CHECK_EQ(block_open(&c, path, 0, err, sizeof(err)), 0);
	block_close(&c);
	unlink(path);
}

static void test_open_refusals(void)
{
	char path[64], err[512];
	struct block b;
	/* a disk must be whole sectors; a CD-ROM medium (an ISO cut short) need not */
	CHECK_EQ(make_file(path, sizeof(path), "/tmp", 1000), 0);
	err[0] = 0;
	CHECK_EQ(block_open(&b, path, 0, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "not a multiple of 512") != NULL);
	CHECK(strstr(err, path) != NULL);
	CHECK_EQ(block_open(&b, path, BLOCK_READONLY, err, sizeof(err)), -EINVAL);
	CHECK_EQ(block_open(&b, path, BLOCK_READONLY | BLOCK_MEDIUM, err, sizeof(err)), 0);
	CHECK_EQ(b.size, 1000);
	uint8_t buf[1024];
	CHECK_EQ(block_read(&b, 0, buf, 1000), 0);
	CHECK_EQ(block_read(&b, 512, buf, 512), -EIO); /* the partial last sector ends early */
	block_close(&b);
	/* a refused open leaves no lock behind */
	CHECK_EQ(block_open(&b, path, BLOCK_MEDIUM, err, sizeof(err)), 0);
	block_close(&b);
	unlink(path);
	/* neither a file nor a block device; a missing file */
	err[0] = 0;
	CHECK_EQ(block_open(&b, "/tmp", 0, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "not a regular file or block device") != NULL);
	CHECK_EQ(block_open(&b, path, 0, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, path) != NULL);
}

static void test_sync_engine(void)
{
	char path[64], err[512];
	struct block b;
	uint8_t buf[4096], back[4096];
	CHECK_EQ(make_file(path, sizeof(path), "/tmp", 16 * 512), 0);
	CHECK_EQ(block_open(&b, path, 0, err, sizeof(err)), 0);
	CHECK_EQ(b.size, 16 * 512);
	CHECK_EQ(block_read(&b, 3 * 512, buf, 512), 0);
	CHECK_EQ(buf[0], 3 ^ 0x5A);
	CHECK_EQ(buf[511], 3 ^ 0x5A);
	/* write, flush, read back (also through another descriptor) */
	for (int i = 0; i < 1000; i++)
		buf[i] = (uint8_t)(i * 7);
	CHECK_EQ(block_write(&b, 700, buf, 1000), 0);
	CHECK_EQ(block_flush(&b), 0);
	CHECK_EQ(block_read(&b, 700, back, 1000), 0);
	CHECK(!memcmp(buf, back, 1000));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK_EQ(pread(fd, back, 1000, 700), 1000);
	close(fd);
	CHECK(!memcmp(buf, back, 1000));
	/* past the end, and offsets that would wrap: refused, nothing written */
	CHECK_EQ(block_read(&b, 16 * 512, buf, 1), -EIO);
	CHECK_EQ(block_read(&b, 15 * 512, buf, 513), -EIO);
	CHECK_EQ(block_read(&b, UINT64_MAX - 10, buf, 512), -EIO);
	CHECK_EQ(block_write(&b, 16 * 512, buf, 1), -EIO);
	CHECK_EQ(block_write(&b, UINT64_MAX - 10, buf, 512), -EIO);
	CHECK_EQ(block_discard(&b, 8 * 512, 9 * 512), -EIO);
	CHECK_EQ(block_write_zeroes(&b, UINT64_MAX, 2, false), -EIO);
	struct stat st;
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_size, 16 * 512);
	/* write-zeroes (zero range, and unmap) reads back as zeros */
	CHECK_EQ(block_write_zeroes(&b, 4 * 512, 2 * 512, false), 0);
	CHECK_EQ(block_write_zeroes(&b, 6 * 512, 512, true), 0);
	CHECK_EQ(block_read(&b, 4 * 512, back, 3 * 512), 0);
	CHECK(all_zero(back, 3 * 512));
	CHECK_EQ(block_read(&b, 7 * 512, back, 1), 0);
	CHECK_EQ(back[0], 7 ^ 0x5A); /* and no further */
	/* discard: a hole, where the file system punches (4 KiB aligned for ext4's blocks) */
	CHECK_EQ(block_discard(&b, 8 * 512, 8 * 512), 0);
	if (fallocate(b.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 0) == 0 ||
	    errno != EOPNOTSUPP) {
		CHECK_EQ(block_read(&b, 8 * 512, back, 8 * 512), 0);
		CHECK(all_zero(back, 8 * 512));
	} else {
		printf("test_block: /tmp cannot punch holes; discard read-back not checked\n");
	}
	CHECK_EQ(block_flush(&b), 0);
	/* the flush is a real fdatasync whose failure is reported: /dev/null cannot sync */
	int real_fd = b.fd;
	b.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK_EQ(block_flush(&b), -EINVAL);
	close(b.fd);
	b.fd = real_fd;
	block_close(&b);
	/* read-only: reads work, writes are refused, a flush has nothing to do */
	CHECK_EQ(block_open(&b, path, BLOCK_READONLY, err, sizeof(err)), 0);
	CHECK_EQ(block_read(&b, 0, back, 512), 0);
	CHECK_EQ(block_write(&b, 0, buf, 512), -EROFS);
	CHECK_EQ(block_discard(&b, 0, 512), -EROFS);
	CHECK_EQ(block_write_zeroes(&b, 0, 512, false), -EROFS);
	CHECK_EQ(block_flush(&b), 0);
	block_close(&b);
	/* block_refresh_size sees the file grow */
	CHECK_EQ(truncate(path, 32 * 512), 0);
	CHECK_EQ(block_open(&b, path, BLOCK_READONLY, err, sizeof(err)), 0);
	CHECK_EQ(truncate(path, 40 * 512), 0);
	CHECK_EQ(block_refresh_size(&b), 40 * 512);
	CHECK_EQ(b.size, 40 * 512);
	block_close(&b);
	unlink(path);
}

/* ---- the asynchronous engine ---- */

#define NTAGS 8
static int64_t results[NTAGS];
static int completed[NTAGS];

static void done(void *ctx, void *tag, int64_t res)
{
	(void)ctx;
	uintptr_t i = (uintptr_t)tag;
	if (i < NTAGS) {
		results[i] = res;
		completed[i]++;
	}
}

/* Submit what is queued and wait until `want` completions came back (or 5 s). */
static unsigned wait_done(struct block *b, unsigned want)
{
	unsigned got = 0;
	block_aio_submit(b);
	got += block_aio_poll(b);
	for (int spins = 0; got < want && spins < 50; spins++) {
		struct pollfd p = { .fd = block_aio_event_fd(b), .events = POLLIN };
		if (poll(&p, 1, 100) > 0)
			got += block_aio_poll(b);
	}
	return got;
}

static unsigned one(struct block *b, uintptr_t tag, enum block_op op, uint64_t off,
		    const struct iovec *iov, unsigned n, uint64_t len)
{
	struct block_req r = { .op = op, .off = off, .len = len, .iov = iov, .iovcnt = n,
			       .tag = (void *)tag };
	CHECK_EQ(block_aio_queue(b, &r), 0);
	return wait_done(b, 1);
}

static void aio_on(const char *dir)
{
	char path[64], err[512];
	struct block b;
	if (access(dir, W_OK) < 0)
		return;
	CHECK_EQ(make_file(path, sizeof(path), dir, 64 * 512), 0);
	CHECK_EQ(block_open(&b, path, 0, err, sizeof(err)), 0);
	CHECK_EQ(block_aio_init(&b, 4, done, NULL), 0);
	CHECK(block_aio_event_fd(&b) >= 0);
	memset(results, 0, sizeof(results));
	memset(completed, 0, sizeof(completed));
	/* aligned (O_DIRECT where the file system has it) write in two iovecs, then read */
	static uint8_t wbuf[8192] __attribute__((aligned(4096)));
	static uint8_t rbuf[8192] __attribute__((aligned(4096)));
	for (size_t i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = (uint8_t)(i * 13 + 1);
	struct iovec w2[2] = { { wbuf, 4096 }, { wbuf + 4096, 4096 } };
	CHECK_EQ(one(&b, 1, BLOCK_WRITE, 8 * 512, w2, 2, 8192), 1);
	CHECK_EQ(completed[1], 1);
	CHECK_EQ(results[1], 8192);
	struct iovec r1 = { rbuf, 8192 };
	CHECK_EQ(one(&b, 2, BLOCK_READ, 8 * 512, &r1, 1, 8192), 1);
	CHECK_EQ(results[2], 8192);
	CHECK(!memcmp(wbuf, rbuf, 8192));
	/* unaligned (buffered) write and read */
	struct iovec wu = { wbuf + 1, 100 };
	CHECK_EQ(one(&b, 3, BLOCK_WRITE, 3, &wu, 1, 100), 1);
	CHECK_EQ(results[3], 100);
	struct iovec ru = { rbuf + 3, 100 };
	CHECK_EQ(one(&b, 4, BLOCK_READ, 3, &ru, 1, 100), 1);
	CHECK_EQ(results[4], 100);
	CHECK(!memcmp(wbuf + 1, rbuf + 3, 100));
	/* flush completes without error */
	CHECK_EQ(one(&b, 5, BLOCK_FLUSH, 0, NULL, 0, 0), 1);
	CHECK_EQ(completed[5], 1);
	CHECK_EQ(results[5], 0);
	int real_fd = b.fd;
	b.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK_EQ(one(&b, 5, BLOCK_FLUSH, 0, NULL, 0, 0), 1);
	CHECK_EQ(results[5], -EINVAL); /* a real fdatasync, its failure reported */
	close(b.fd);
	b.fd = real_fd;
	/* zero range and punch read back as zeros (through the synchronous engine too) */
	CHECK_EQ(one(&b, 6, BLOCK_ZERO, 8 * 512, NULL, 0, 4096), 1);
	CHECK(results[6] == 0 || results[6] == -EOPNOTSUPP); /* the caller writes zeros then */
	if (results[6] == -EOPNOTSUPP)
		CHECK_EQ(block_zero_fill(&b, 8 * 512, 4096), 0);
	CHECK_EQ(one(&b, 7, BLOCK_PUNCH, 16 * 512, NULL, 0, 4096), 1);
	CHECK_EQ(block_read(&b, 8 * 512, rbuf, 8192), 0);
	CHECK(all_zero(rbuf, 4096));
	if (results[7] == 0)
		CHECK(all_zero(rbuf + 4096, 4096));
	CHECK_EQ(block_read(&b, 24 * 512, rbuf, 1), 0);
	CHECK_EQ(rbuf[0], 24 ^ 0x5A); /* and no further */
	/* refused at queueing, nothing completes for them: past the end, wrapping */
	completed[0] = 0;
	struct block_req bad = { .op = BLOCK_READ, .off = 64 * 512, .len = 512, .iov = &r1,
				 .iovcnt = 1, .tag = (void *)0 };
	CHECK_EQ(block_aio_queue(&b, &bad), -EIO);
	bad.off = UINT64_MAX - 100;
	CHECK_EQ(block_aio_queue(&b, &bad), -EIO);
	bad.op = BLOCK_PUNCH;
	bad.off = 63 * 512;
	bad.len = 1024;
	CHECK_EQ(block_aio_queue(&b, &bad), -EIO);
	CHECK_EQ(wait_done(&b, 0), 0);
	CHECK_EQ(completed[0], 0);
	/* no more than depth queued */
	struct iovec rs = { rbuf, 512 };
	struct block_req rq = { .op = BLOCK_READ, .off = 0, .len = 512, .iov = &rs, .iovcnt = 1,
				.tag = (void *)0 };
	int busy = 0;
	for (int i = 0; i < 16 && !busy; i++)
		busy = block_aio_queue(&b, &rq) == -EBUSY;
	CHECK(busy);
	CHECK(wait_done(&b, 4) >= 4);
	block_close(&b);
	/* read-only: writes refused before they reach the disk, reads and flushes work */
	CHECK_EQ(block_open(&b, path, BLOCK_READONLY, err, sizeof(err)), 0);
	CHECK_EQ(block_aio_init(&b, 4, done, NULL), 0);
	struct block_req wr = { .op = BLOCK_WRITE, .off = 0, .len = 512, .iov = &rs, .iovcnt = 1 };
	CHECK_EQ(block_aio_queue(&b, &wr), -EROFS);
	wr.op = BLOCK_ZERO;
	CHECK_EQ(block_aio_queue(&b, &wr), -EROFS);
	CHECK_EQ(one(&b, 1, BLOCK_READ, 8 * 512, &r1, 1, 8192), 1);
	CHECK_EQ(results[1], 8192);
	CHECK_EQ(one(&b, 5, BLOCK_FLUSH, 0, NULL, 0, 0), 1);
	CHECK_EQ(results[5], 0);
	block_close(&b);
	unlink(path);
}

static void test_aio_engine(void)
{
	aio_on("/tmp");
	aio_on("/dev/shm"); /* memory-backed: the in-line path where io_uring would punt */
}

UNIT_MAIN(test_lock_policy, test_open_refusals, test_sync_engine, test_aio_engine)
