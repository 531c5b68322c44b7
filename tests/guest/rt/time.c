/*
 * time.c - ACPI PM timer, PIT channel 0 and TSC calibration, delays.
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

/* TSC ticks over `ticks` (< 65536) PIT ticks: channel 0 in mode 0 (one-shot), polling
 * its OUT pin with the read-back command. OUT stays high once the count ends, so a
 * descheduled vCPU cannot miss it; no port 0x61 gate is needed (QEMU microvm has none). */
static u64 tsc_vs_pit(u32 ticks)
{
	outb(0x43, 0x30); /* channel 0, lo/hi, mode 0 */
	outb(0x40, ticks & 0xff);
	outb(0x40, (ticks >> 8) & 0xff);
	u64 t0 = rdtsc();
	for (u64 spins = 0; spins < 10000000; spins++) {
		outb(0x43, 0xe2); /* read-back: status of channel 0 */
		if (inb(0x40) & 0x80)
			return rdtsc() - t0;
	}
	return 0;
}

static u64 median5(u64 v[5])
{
	for (int i = 1; i < 5; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			u64 t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	return v[2];
}

/* Median of five 20 ms measurements: one stalled window (a busy host) does not count. */
static u64 calibrate(u64 arg)
{
	u64 m[5];
	(void)arg;

	if (rt_pmtimer_port()) {
		u32 a = rt_pmtimer(), b = a;
		for (int i = 0; i < 1000 && b == a; i++)
			b = rt_pmtimer();
		if (b != a && a != 0xffffff) {
			tsc_src = "pmtimer";
			for (int i = 0; i < 5; i++)
				m[i] = tsc_vs_pmtimer(PMTIMER_HZ / 50) * 50;
			return median5(m);
		}
	}
	tsc_src = "pit";
	for (int i = 0; i < 5; i++)
		m[i] = tsc_vs_pit(PIT_HZ / 50) * 50;
	return median5(m);
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

u64 rt_tsc_hz_cached(void) { return tsc_hz; }

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
