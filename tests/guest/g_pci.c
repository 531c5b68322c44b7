/*
 * g_pci.c - PCI bus 0 through configuration mechanism #1: the i440FX host bridge at
 * 00:00.0, master aborts for absent functions, BAR sizing and placement of every function
 * found, the DSDT's PCI0 with _CRS and _PRT, and the 0xCF9 byte beside CONFIG_ADDRESS.
 * cmdline: devices=N expected number of functions besides the bridge (optional).
 */
#include "pci.h"

const char guest_name[] = "pci";

static bool dsdt_has(const char *name)
{
	const u8 *d = rt_acpi()->dsdt;
	if (!d)
		return false;
	u32 len;
	memcpy(&len, d + 4, 4);
	for (u32 i = 36; i + 4 <= len; i++)
		if (!memcmp(d + i, name, 4))
			return true;
	return false;
}

void guest_main(void)
{
	outl(0xcf8, 0x80000000);
	if (inl(0xcf8) != 0x80000000)
		rt_fail("CONFIG_ADDRESS does not read back");
	(void)inb(0xcf9);
	if (inl(0xcf8) != 0x80000000)
		rt_fail("a byte read of 0xCF9 changed CONFIG_ADDRESS");
	u32 id = rt_pci_read(0, 0, 4);
	u32 class = rt_pci_read(0, 8, 4) >> 8;
	rt_printf("pci: 00:00.0 %x:%x class %x\n", id & 0xffff, id >> 16, class);
	if (id != 0x12378086 || class != 0x060000)
		rt_fail("00:00.0 is not an i440FX host bridge");
	unsigned found = 0;
	for (unsigned df = 8; df < 256; df++) {
		u32 vid = rt_pci_read(df, 0, 4);
		if (vid == 0xffffffff)
			continue;
		found++;
		rt_printf("pci: %x.%x %x:%x class %x pin %u line %u\n", df >> 3, df & 7, vid & 0xffff,
			  vid >> 16, rt_pci_read(df, 8, 4) >> 8, rt_pci_read(df, 0x3d, 1),
			  rt_pci_read(df, 0x3c, 1));
		for (unsigned i = 0; i < 6; i++) {
			bool io;
			u64 a = rt_pci_bar(df, i, &io);
			u64 sz = rt_pci_bar_size(df, i);
			if (!sz)
				continue;
			rt_printf("pci:   bar%u %s addr %lx size %lx\n", i, io ? "io" : "mem", a, sz);
			if (a == 0 || (a & (sz - 1)))
				rt_fail("bar%u of %x.%x unassigned or misaligned", i, df >> 3, df & 7);
			if (!io && !((a >= 0xc0000000 && a + sz <= 0xfc000000) || a >= 0x100000000ull))
				rt_fail("bar%u of %x.%x outside the PCI windows", i, df >> 3, df & 7);
			if (rt_pci_bar(df, i, &io) != a)
				rt_fail("bar%u of %x.%x not restored after sizing", i, df >> 3, df & 7);
			u32 lo = rt_pci_read(df, 0x10 + 4 * i, 4);
			if (!io && (lo & 6) == 4)
				i++;
		}
	}
	/* Absent device and function numbers read as all ones. */
	if (rt_pci_read(RT_PCI_DEVFN(31, 7), 0, 2) != 0xffff)
		rt_fail("00:1f.7 answers");
	u64 want = rt_cmdline_u64("devices", ~0ull);
	if (want != ~0ull && found != want)
		rt_fail("found %u functions, expected %lu", found, want);
	if (!dsdt_has("PCI0") || !dsdt_has("_PRT") || !dsdt_has("_CRS"))
		rt_fail("no \\_SB.PCI0 with _CRS and _PRT in the DSDT");
	rt_printf("pci: %u functions besides the host bridge\n", found);
}
