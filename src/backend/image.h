/* A disk image for the IDE models: a raw image file or a host block device (e.g. /dev/sr0), read
 * and written with pread/pwrite on the calling (vCPU) thread, as PIO and PRD transfers complete
 * synchronously. (virtio-blk uses backend/disk.h, the asynchronous io_uring engine.) Sizes are
 * in bytes and need not be sector multiples (a truncated ISO still opens; its partial last
 * block is not readable); a request beyond the end, a short read or an I/O error returns -EIO
 * (-errno for others), which the device model turns into an error the guest sees. Flush is
 * fdatasync: never acknowledged before the data is stable. */
#ifndef DOMUS_IMAGE_H
#define DOMUS_IMAGE_H
#include <stddef.h>
#include <stdint.h>

struct image {
	int fd;
	uint64_t size;
	int readonly;
	int is_blockdev;
	char path[256];
};

/* Open path; 0, or -1 with the reason in err. */
int image_open(struct image *d, const char *path, int readonly, char *err, size_t errlen);
void image_close(struct image *d);
int image_read(struct image *d, uint64_t off, void *buf, size_t len);
int image_write(struct image *d, uint64_t off, const void *buf, size_t len);
int image_flush(struct image *d);
/* Size again (a host CD-ROM's medium may have changed); 0 when there is none. */
uint64_t image_refresh_size(struct image *d);

#endif
