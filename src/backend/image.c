#include "backend/image.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t image_refresh_size(struct image *d)
{
	struct stat st;
	uint64_t size = 0;
	if (d->fd < 0 || fstat(d->fd, &st) < 0)
		return 0;
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(d->fd, BLKGETSIZE64, &size) < 0)
			size = 0;
	} else {
		size = (uint64_t)st.st_size;
	}
	d->size = size;
	return size;
}

int image_open(struct image *d, const char *path, int readonly, char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	d->fd = -1;
	snprintf(d->path, sizeof(d->path), "%s", path);
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		snprintf(err, errlen, "%s: neither an image file nor a block device", path);
		return -1;
	}
	d->is_blockdev = S_ISBLK(st.st_mode);
	/* A host CD-ROM without a disc must still open: O_NONBLOCK does that. */
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (d->is_blockdev ? O_NONBLOCK : 0);
	d->fd = open(path, flags);
	if (d->fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	d->readonly = readonly;
	image_refresh_size(d);
	return 0;
}

void image_close(struct image *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

int image_read(struct image *d, uint64_t off, void *buf, size_t len)
{
	if (off > d->size || len > d->size - off)
		return -EIO;
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(d->fd, (uint8_t *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO; /* the file shrank under us */
		got += (size_t)n;
	}
	return 0;
}

int image_write(struct image *d, uint64_t off, const void *buf, size_t len)
{
	if (d->readonly)
		return -EROFS;
	if (off > d->size || len > d->size - off)
		return -EIO;
	size_t put = 0;
	while (put < len) {
		ssize_t n = pwrite(d->fd, (const uint8_t *)buf + put, len - put,
				   (off_t)(off + put));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		put += (size_t)n;
	}
	return 0;
}

int image_flush(struct image *d)
{
	if (d->readonly)
		return 0;
	return fdatasync(d->fd) < 0 ? -errno : 0;
}
