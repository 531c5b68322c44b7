/* The guest's physical memory map (BIOS e820 / PVH memmap), built from the RAM size.
 * Low RAM ends at the 32-bit PCI hole (3 GiB); the rest lives above 4 GiB. */
#ifndef DOMUS_E820_H
#define DOMUS_E820_H
#include <stdint.h>

#include "vmm/ram_layout.h"

#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3

#define E820_MAX 16
#define EBDA_START 0x9FC00ull
#define BIOS_AREA_START 0xE0000ull /* ACPI tables (PV PC), firmware (FV PC): reserved */
#define ONE_MIB 0x100000ull

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
};

struct e820_table {
	struct e820_entry e[E820_MAX];
	int nr;
};

/* Fill t for the layout; needs mem ≥ 2 MiB. Returns 0 or -EINVAL. */
int e820_build(struct e820_table *t, const struct ram_layout *l);
/* Total bytes of E820_RAM entries. */
uint64_t e820_ram_bytes(const struct e820_table *t);

#endif
