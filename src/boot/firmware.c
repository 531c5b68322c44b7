#include "boot/firmware.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int firmware_check(const uint8_t *img, size_t len, char *err, size_t errlen)
{
	if (len < FIRMWARE_MIN || len > FIRMWARE_MAX || len % FIRMWARE_MIN) {
		snprintf(err, errlen, "size %zu bytes: a BIOS image is a multiple of 64 KiB, "
			 "from 64 KiB to 16 MiB", len);
		return -1;
	}
	uint8_t op = img[len - 16];
	if (op != 0xEA && op != 0xE9 && op != 0xEB) {
		snprintf(err, errlen, "no jump at the reset vector (byte 0x%02x): not a BIOS image",
			 op);
		return -1;
	}
	return 0;
}

int firmware_load(struct firmware *fw, const char *path, char *err, size_t errlen)
{
	memset(fw, 0, sizeof(*fw));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "firmware %s: %s%s", path, strerror(errno),
			 errno == ENOENT ? " (install Debian's seabios package)" : "");
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > FIRMWARE_MAX ||
	    st.st_size < FIRMWARE_MIN) {
		snprintf(err, errlen, "firmware %s: not a regular file of 64 KiB to 16 MiB", path);
		close(fd);
		return -1;
	}
	size_t len = (size_t)st.st_size;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "firmware %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, (uint8_t *)p + got, len - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "firmware %s: %s", path,
				 n < 0 ? strerror(errno) : "file shrank");
			munmap(p, len);
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	char why[160];
	if (firmware_check(p, len, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "firmware %s: %s", path, why);
		munmap(p, len);
		return -1;
	}
	fw->image = p;
	fw->len = len;
	fw->gpa = (1ull << 32) - len;
	return 0;
}

int firmware_copy_low(const struct firmware *fw, uint8_t *ram, uint64_t ram_len)
{
	size_t n = fw->len < FIRMWARE_LOW_ALIAS_LEN ? fw->len : FIRMWARE_LOW_ALIAS_LEN;
	if (ram_len < 0x100000)
		return -EINVAL;
	memcpy(ram + 0x100000 - n, fw->image + fw->len - n, n);
	return 0;
}

void firmware_free(struct firmware *fw)
{
	if (fw->image)
		munmap(fw->image, fw->len);
	memset(fw, 0, sizeof(*fw));
}
