/*
 * g_mmio.c - accesses to unmapped MMIO and an unmapped port, at ring 0 and at CPL3.
 * Reads must return all ones, writes must be dropped, and the guest must survive.
 * cmdline: mmio=ADDR (default 0xd0000000), port=PORT (default 0x440), mmio_ones=0 to
 * accept any value from unmapped MMIO as long as writes do not stick (QEMU TCG reads 0).
 */
#include "rt.h"

const char guest_name[] = "mmio";

static u64 addr;
static u16 port;
static bool mmio_ones;

struct probe {
	const char *what;
	u64 got, want;
};
static struct probe seen[16];
static unsigned nseen;

static void check(const char *what, u64 got, u64 want)
{
	if (nseen < ARRAY_SIZE(seen))
		seen[nseen++] = (struct probe){ what, got, want };
}

static u64 run_probes(u64 arg)
{
	(void)arg;
	nseen = 0;
	u32 first = mmio_read32(addr);
	u64 ones32 = mmio_ones ? 0xffffffff : first;
	u64 ones64 = mmio_ones ? ~0ull : ((u64)first << 32 | first);
	check("mmio read32", first, ones32);
	mmio_write32(addr, 0x12345678);
	check("mmio read32 after write", mmio_read32(addr), ones32);
	check("mmio read8", mmio_read8(addr + 1), ones32 & 0xff);
	check("mmio read16", mmio_read16(addr + 2), ones32 & 0xffff);
	check("mmio read64", mmio_read64(addr + 8), ones64);
	mmio_write8(addr + 3, 0x5a);
	mmio_write64(addr + 16, 0x1122334455667788ull);
	check("mmio read64 after write", mmio_read64(addr + 16), ones64);
	check("port inb", inb(port), 0xff);
	check("port inw", inw(port), 0xffff);
	check("port inl", inl(port), 0xffffffff);
	outb(port, 0x5a);
	outw(port, 0x5a5a);
	outl(port, 0x5a5a5a5a);
	check("port inb after write", inb(port), 0xff);
	return nseen;
}

static void report(const char *level)
{
	unsigned bad = 0;

	for (unsigned i = 0; i < nseen; i++) {
		if (seen[i].got != seen[i].want) {
			rt_printf("mmio: %s %s: got 0x%lx want 0x%lx\n", level, seen[i].what, seen[i].got, seen[i].want);
			bad++;
		}
	}
	if (bad)
		rt_fail("%u of %u accesses at %s read unexpected values", bad, nseen, level);
	rt_printf("mmio: %s: %u accesses to mmio 0x%lx and port 0x%x ok\n", level, nseen, addr, port);
}

void guest_main(void)
{
	addr = rt_cmdline_u64("mmio", 0xd0000000);
	port = (u16)rt_cmdline_u64("port", 0x440);
	mmio_ones = rt_cmdline_u64("mmio_ones", 1) != 0;
	if (addr >= 0x100000000ull && rt_map_identity(addr, 4096) < 0)
		rt_fail("cannot map 0x%lx", addr);

	run_probes(0);
	report("ring0");
	rt_run_user(run_probes, 0);
	report("cpl3");
}
