/* A disk back end: a raw image file or a host block device (e.g. /dev/sr0), read and written
 * with pread/pwrite on the calling thread. Sizes are in bytes; a request beyond the end, a short
 * read or an I/O error returns -EIO (-errno for others), which the device model turns into an
 * error the guest sees. Flush is fdatasync: never acknowledged before the data is stable. */
#ifndef DOMUS_DISK_H
#define DOMUS_DISK_H
#include <stddef.h>
#include <stdint.h>

struct disk {
	int fd;
	uint64_t size;
	int readonly;
	int is_blockdev;
	char path[256];
};

/* Open path; 0, or -1 with the reason in err. */
int disk_open(struct disk *d, const char *path, int readonly, char *err, size_t errlen);
void disk_close(struct disk *d);
int disk_read(struct disk *d, uint64_t off, void *buf, size_t len);
int disk_write(struct disk *d, uint64_t off, const void *buf, size_t len);
int disk_flush(struct disk *d);
/* Size again (a host CD-ROM's medium may have changed); 0 when there is none. */
uint64_t disk_refresh_size(struct disk *d);

#endif
