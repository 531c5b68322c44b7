/*
 * g_memmap.c - the PVH memory map: prints it, checks the RAM total against mem=, and
 * writes/reads back the first and last 8 bytes of every RAM range (above 4 GiB too).
 * cmdline: mem=MiB (the VM's configured memory). The RAM entries (type 1) must sum to
 * between mem MiB - 1 MiB (the low area the e820 map may reserve) and mem MiB.
 * Prints: "memmap: N entries" then "memmap: addr=0xA size=0xS type=T" per entry, then
 * "memmap: ram_kib=K ram_mib=M expected_mib=E".
 */
#include "rt.h"

const char guest_name[] = "memmap";

static bool touch(u64 a)
{
	volatile u64 *p = rt_phys(a);
	u64 old = *p, pat = 0x5aa5c33c0ff0f00full ^ a;

	*p = pat;
	bool ok = *p == pat;
	*p = ~pat;
	ok = ok && *p == ~pat;
	*p = old;
	return ok;
}

void guest_main(void)
{
	unsigned n;
	const struct rt_memmap_entry *m = rt_memmap(&n);
	u64 ram = 0, mem_mib = rt_cmdline_u64("mem", 0);

	rt_printf("memmap: %u entries\n", n);
	if (!n)
		rt_fail("empty memory map in the start info");
	for (unsigned i = 0, prev = 0; i < n; i++) {
		rt_printf("memmap: addr=0x%lx size=0x%lx type=%u\n", m[i].addr, m[i].size, m[i].type);
		if (!m[i].size)
			continue; /* empty entries (QEMU microvm's qboot adds one) carry nothing */
		if (i && m[i].addr < m[prev].addr + m[prev].size)
			rt_fail("entry %u (addr 0x%lx) overlaps or precedes entry %u", i, m[i].addr, prev);
		prev = i;
		if (m[i].type == E820_RAM)
			ram += m[i].size;
	}
	rt_printf("memmap: ram_kib=%lu ram_mib=%lu expected_mib=%lu\n", ram >> 10, ram >> 20, mem_mib);
	if (mem_mib && (ram > mem_mib << 20 || ram + (1 << 20) < mem_mib << 20))
		rt_fail("RAM entries sum to %lu KiB, expected %lu MiB (less at most 1 MiB)", ram >> 10, mem_mib);

	for (unsigned i = 0; i < n; i++) {
		if (m[i].type != E820_RAM || m[i].size < 8)
			continue;
		u64 first = m[i].addr, last = (m[i].addr + m[i].size - 8) & ~7ull;
		if (last >= 0x100000000ull && (rt_map_identity(first, 8) < 0 || rt_map_identity(last, 8) < 0))
			rt_fail("cannot map 0x%lx and 0x%lx (page-table pool exhausted)", first, last);
		if (!touch(first) || !touch(last))
			rt_fail("RAM at 0x%lx or 0x%lx does not hold a written value", first, last);
	}
	rt_printf("memmap: first and last bytes of every RAM range written and read back\n");
}
