/* Test helper: a fake guest RAM holding one split virtqueue of QSZ entries at fixed guest
 * addresses (descriptor table DESC, avail ring AVAIL, used ring USED) and buffers from BUF,
 * for the tests of the virtqueue walker and of the virtio-pci transport. */
#ifndef DOMUS_UNIT_VRING_RAM_H
#define DOMUS_UNIT_VRING_RAM_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/virtqueue.h"

#define RAM_SIZE (1u << 20)
#define QSZ 8
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define BUF 0x10000

static uint8_t *ram;
static struct guest_mem mem;

/* Map the RAM at guest address 0 (once) and zero it. */
static inline void ram_reset(void)
{
	if (!ram) {
		ram = calloc(1, RAM_SIZE);
		guest_mem_add(&mem, 0, RAM_SIZE, ram);
	}
	memset(ram, 0, RAM_SIZE);
}

static inline struct vring_desc *desc(unsigned i)
{
	return (struct vring_desc *)(ram + DESC) + i;
}

static inline uint16_t *avail(void)
{
	return (uint16_t *)(ram + AVAIL);
}

static inline uint16_t *used16(void)
{
	return (uint16_t *)(ram + USED);
}

#endif
