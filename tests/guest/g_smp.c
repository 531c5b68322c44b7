/*
 * g_smp.c - boots every application processor listed in the MADT (or the MP table)
 * with INIT-SIPI-SIPI through the real-mode trampoline at 0x8000. Each AP sets up its
 * own TSS and LAPIC, runs a function at CPL3, and reports its LAPIC ID.
 * cmdline: cpus=N (optional): the number of CPUs the tables must list.
 * Prints: "smp: N cpus listed in the madt|mp: apic ids A B ...", then for each CPU
 * "smp: cpu I apic_id A up" (cpu 0 is the BSP).
 */
#include "rt.h"

const char guest_name[] = "smp";

static volatile u32 reported[RT_MAX_CPUS];
static volatile u64 user_ok[RT_MAX_CPUS];

static u64 user_part(u64 cpu) { return cpu * 3 + 1; }

static void ap_main(unsigned cpu)
{
	u32 id = rt_lapic_id();

	user_ok[cpu] = rt_run_user(user_part, cpu) == cpu * 3 + 1;
	rt_printf("smp: cpu %u apic_id %u up\n", cpu, id);
	reported[cpu] = id + 1;
}

void guest_main(void)
{
	u32 ids[RT_MAX_CPUS];
	const char *src;
	int n = rt_cpu_list(ids, RT_MAX_CPUS, &src);
	u64 want = rt_cmdline_u64("cpus", 0);
	u32 bsp = rt_lapic_id();
	char list[RT_MAX_CPUS * 4 + 1];
	unsigned p = 0;

	for (int i = 0; i < n; i++)
		p += (unsigned)rt_snprintf(list + p, sizeof(list) - p, " %u", ids[i]);
	list[p] = 0;
	rt_printf("smp: %d cpus listed in the %s: apic ids%s\n", n, src, list);
	if (n <= 0)
		rt_fail("no CPUs listed (MADT or MP table missing)");
	if (want && (u64)n != want)
		rt_fail("%d CPUs listed, cpus=%lu expected", n, want);
	rt_printf("smp: cpu 0 apic_id %u up\n", bsp);

	int up = 1;
	for (int i = 0; i < n; i++) {
		if (ids[i] == bsp)
			continue;
		int cpu = rt_start_ap(ids[i], ap_main);
		if (cpu < 0)
			rt_fail("cpu with apic_id %u did not start", ids[i]);
		for (int t = 0; t < 1000 && !reported[cpu]; t++)
			rt_udelay(1000);
		if (reported[cpu] != ids[i] + 1)
			rt_fail("cpu %d: expected apic_id %u, it reported %d", cpu, ids[i], (int)reported[cpu] - 1);
		if (!user_ok[cpu])
			rt_fail("cpu %d: CPL3 call returned a wrong value", cpu);
		up++;
	}
	if (up != n)
		rt_fail("%d of %d CPUs came up (is the BSP listed?)", up, n);
	rt_printf("smp: all %d cpus up\n", up);
}
