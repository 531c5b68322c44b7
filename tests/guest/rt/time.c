/*
 * time.c - ACPI PM timer, PIT channel 2 and TSC calibration, delays.
 */
#include "rt_internal.h"

static u64 tsc_hz;
static const char *tsc_src = "none";

u16 rt_pmtimer_port(void)
{
	const struct rt_acpi *a = rt_acpi();

	if (a->fadt)
		return a->pm_tmr;
	return 0x608; /* the Domus platform's fixed port, when there are no ACPI tables */
}

/* TSC ticks over `ticks` PM timer ticks. */
static u64 tsc_vs_pmtimer(u32 ticks)
{
	u32 last = rt_pmtimer(), elapsed = 0;
	u64 t0 = rdtsc();

	while (elapsed < ticks) {
		u32 now = rt_pmtimer();
		elapsed += (now - last) & 0xffffff;
		last = now;
	}
	return rdtsc() - t0;
}

/* TSC ticks over `count` PIT ticks, using channel 2 gated through port 0x61. */
static u64 tsc_vs_pit(u16 count)
{
	outb(0x61, (inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
	outb(0x43, 0xb0);                       /* channel 2, lo/hi, mode 0 */
	outb(0x42, count & 0xff);
	outb(0x42, count >> 8);
	u64 t0 = rdtsc();
	for (u64 i = 0; i < 100000000 && !(inb(0x61) & 0x20); i++)
		;
	return rdtsc() - t0;
}

static u64 calibrate(u64 arg)
{
	(void)arg;
	u16 port = rt_pmtimer_port();
	if (port) {
		u32 a = rt_pmtimer(), b = a;
		for (int i = 0; i < 1000 && b == a; i++)
			b = rt_pmtimer();
		if (b != a && a != 0xffffff) {
			tsc_src = "pmtimer";
			return tsc_vs_pmtimer(PMTIMER_HZ / 20) * 20; /* 50 ms */
		}
	}
	tsc_src = "pit";
	return tsc_vs_pit(PIT_HZ / 20) * 20;
}

u64 rt_tsc_hz(void)
{
	if (!tsc_hz) {
		/* A timing loop: at CPL3 when we are at ring 0 (fast on PVM hosts). */
		tsc_hz = rt_cpl() == 0 ? rt_run_user(calibrate, 0) : calibrate(0);
		if (!tsc_hz)
			tsc_hz = 1000000000;
	}
	return tsc_hz;
}

const char *rt_tsc_source(void)
{
	rt_tsc_hz();
	return tsc_src;
}

void rt_udelay(u64 us)
{
	if (rt_pmtimer_port() && !tsc_hz) {
		/* Before calibration: count PM timer ticks directly. */
		u64 ticks = us * PMTIMER_HZ / 1000000 + 1;
		u32 last = rt_pmtimer();
		u64 elapsed = 0;
		for (u64 spins = 0; elapsed < ticks && spins < 100000000; spins++) {
			u32 now = rt_pmtimer();
			elapsed += (now - last) & 0xffffff;
			last = now;
		}
		return;
	}
	u64 end = rdtsc() + us * rt_tsc_hz() / 1000000;
	while (rdtsc() < end)
		;
}
