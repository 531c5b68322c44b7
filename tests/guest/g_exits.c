/*
 * g_exits.c - exit round-trip benchmark. Loops at CPL3 (native on PVM hosts) doing
 * N port reads/writes of an unused port, N reads/writes of unmapped MMIO and N cpuid,
 * timed with the TSC (calibrated against the PM timer, or the PIT). A shorter ring-0
 * pass shows the cost of emulated ring-0 exits.
 * cmdline: n=N (default 10000), n0=N ring-0 iterations (default n/10), port=PORT
 * (default 0x440), mmio=ADDR (default 0xd0000000).
 * Prints: "exits: <test> n=N total_us=T ns_per_exit=X" per test.
 */
#include "rt.h"

const char guest_name[] = "exits";

static u16 port;
static u64 addr;

static u64 pio_in(u64 n)
{
	u64 t = rdtsc();
	for (u64 i = 0; i < n; i++)
		(void)inb(port);
	return rdtsc() - t;
}

static u64 pio_out(u64 n)
{
	u64 t = rdtsc();
	for (u64 i = 0; i < n; i++)
		outb(port, (u8)i);
	return rdtsc() - t;
}

static u64 mmio_in(u64 n)
{
	u64 t = rdtsc();
	for (u64 i = 0; i < n; i++)
		(void)mmio_read32(addr);
	return rdtsc() - t;
}

static u64 mmio_out(u64 n)
{
	u64 t = rdtsc();
	for (u64 i = 0; i < n; i++)
		mmio_write32(addr, (u32)i);
	return rdtsc() - t;
}

static u64 cpuid_loop(u64 n)
{
	u32 r[4];
	u64 t = rdtsc();
	for (u64 i = 0; i < n; i++)
		cpuid(0, 0, r);
	return rdtsc() - t;
}

static const struct {
	const char *name;
	u64 (*fn)(u64);
} tests[] = {
	{ "pio_in", pio_in }, { "pio_out", pio_out }, { "mmio_in", mmio_in },
	{ "mmio_out", mmio_out }, { "cpuid", cpuid_loop },
};

static void report(const char *level, const char *name, u64 n, u64 ticks, u64 hz)
{
	u64 ns = ticks * 1000 / (hz / 1000000);
	rt_printf("exits: %s%s n=%lu total_us=%lu ns_per_exit=%lu\n", level, name, n, ns / 1000, n ? ns / n : 0);
}

void guest_main(void)
{
	u64 n = rt_cmdline_u64("n", 10000);
	u64 n0 = rt_cmdline_u64("n0", n / 10);
	port = (u16)rt_cmdline_u64("port", 0x440);
	addr = rt_cmdline_u64("mmio", 0xd0000000);
	if (addr >= 0x100000000ull && rt_map_identity(addr, 4096) < 0)
		rt_fail("cannot map 0x%lx", addr);

	u64 hz = rt_tsc_hz();
	if (hz < 1000000)
		rt_fail("TSC calibration gave %lu Hz", hz);
	rt_printf("exits: tsc_khz=%lu source=%s port=0x%x mmio=0x%lx\n", hz / 1000, rt_tsc_source(), port, addr);
	for (unsigned i = 0; i < ARRAY_SIZE(tests); i++)
		report("", tests[i].name, n, rt_run_user(tests[i].fn, n), hz);
	for (unsigned i = 0; i < ARRAY_SIZE(tests); i++)
		report("ring0_", tests[i].name, n0, tests[i].fn(n0), hz);
}
