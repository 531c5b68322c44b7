/* Test helper: a minimal bzImage (setup header per Documentation/x86/boot.rst), for the boot
 * code's tests and for a kernel file the config front ends can point at. */
#ifndef DOMUS_UNIT_BZIMAGE_H
#define DOMUS_UNIT_BZIMAGE_H
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Boot protocol version (0x20F: 2.15) and xloadflags (1: XLF_KERNEL_64); the image is
 * malloc'd, *len its size. */
static inline uint8_t *make_bzimage(size_t *len, uint16_t version, uint16_t xload)
{
	size_t setup = 5 * 512, payload = 8192;
	uint8_t *b = calloc(1, setup + payload);
	b[0x1F1] = 4;
	b[0x1FE] = 0x55;
	b[0x1FF] = 0xAA;
	b[0x200] = 0xEB;
	b[0x201] = 0x66;
	memcpy(b + 0x202, "HdrS", 4);
	memcpy(b + 0x206, &version, 2);
	b[0x211] = 0x01; /* LOADED_HIGH */
	uint32_t max = 0x37FFFFFF, cls = 2048, init = 1 << 20;
	memcpy(b + 0x22C, &max, 4);
	memcpy(b + 0x236, &xload, 2);
	memcpy(b + 0x238, &cls, 4);
	memcpy(b + 0x260, &init, 4);
	memcpy(b + setup, "PMODE-KERNEL", 12);
	*len = setup + payload;
	return b;
}

#endif
