/* Where guest RAM lives in the guest-physical address space: from 0 up to the 32-bit PCI hole
 * (3 GiB), the rest from 4 GiB. vm.c maps it; boot/e820.c describes it to the guest. */
#ifndef DOMUS_VMM_RAM_LAYOUT_H
#define DOMUS_VMM_RAM_LAYOUT_H
#include <stdint.h>

#define PCI_HOLE_START 0xC0000000ull
#define HIGH_RAM_START 0x100000000ull

struct ram_layout {
	uint64_t low_size;  /* RAM from 0 */
	uint64_t high_size; /* RAM from 4 GiB */
};

static inline void ram_layout_for(uint64_t mem_bytes, struct ram_layout *out)
{
	out->low_size = mem_bytes < PCI_HOLE_START ? mem_bytes : PCI_HOLE_START;
	out->high_size = mem_bytes - out->low_size;
}

#endif
