#include "boot/e820.h"

#include <errno.h>
#include <string.h>

static void add(struct e820_table *t, uint64_t addr, uint64_t size, uint32_t type)
{
	t->e[t->nr++] = (struct e820_entry){ addr, size, type };
}

int e820_build(struct e820_table *t, const struct ram_layout *l)
{
	memset(t, 0, sizeof(*t));
	if (l->low_size < 2 * ONE_MIB)
		return -EINVAL;
	add(t, 0, EBDA_START, E820_RAM);
	add(t, EBDA_START, 0xA0000 - EBDA_START, E820_RESERVED);
	add(t, BIOS_AREA_START, ONE_MIB - BIOS_AREA_START, E820_RESERVED);
	add(t, ONE_MIB, l->low_size - ONE_MIB, E820_RAM);
	if (l->high_size)
		add(t, HIGH_RAM_START, l->high_size, E820_RAM);
	return 0;
}

uint64_t e820_ram_bytes(const struct e820_table *t)
{
	uint64_t sum = 0;
	for (int i = 0; i < t->nr; i++)
		if (t->e[i].type == E820_RAM)
			sum += t->e[i].size;
	return sum;
}
