/*
 * g_timer.c - timer sources against each other: PIT channel 0 (IRQ 0 through the 8259
 * PIC), the LAPIC timer (periodic, calibrated against the PIT), the ACPI PM timer and
 * the TSC. Waiting loops run at CPL3 with interrupts on.
 * cmdline: ms=WINDOW measurement window in ms (100..60000, default 1000), tol=PERCENT allowed
 * deviation (1..99, default 10; raise it only for emulators on busy hosts), rates=0 to check
 * only that every source ticks (for hosts whose emulation distorts time beyond any tolerance).
 * A value out of range is a FAIL, never silently replaced.
 * The LAPIC timer and the TSC are first measured over WINDOW/2 of PIT interrupts. PASS
 * when, over a window timed by the PM timer (by the TSC where there is none), the PIT
 * and LAPIC interrupt rates are within tol% of 100 Hz and the TSC rate seen over that
 * window is within tol% of the one seen against the PIT.
 */
#include "rt.h"

const char guest_name[] = "timer";

#define PIT_DIVISOR 11932 /* 1193182 / 11932 = 99.998 Hz */
#define HZ 100

static volatile u64 pit_irqs, lapic_irqs;
static u64 window_ms, tol, rates;

static void pit_irq(struct rt_frame *f) { (void)f; pit_irqs++; }
static void lapic_irq(struct rt_frame *f) { (void)f; lapic_irqs++; }

static void wait_pit_edge(void)
{
	u64 t = pit_irqs;
	while (pit_irqs == t)
		barrier();
}

struct calib {
	u64 ticks, lapic_counts, tsc_ticks;
};

/* LAPIC counts (divide 16) and TSC ticks over `ticks` PIT interrupts. */
static u64 calibrate_vs_pit(u64 arg)
{
	struct calib *c = (struct calib *)arg;

	wait_pit_edge();
	lapic_write(LAPIC_TIMER_DIV, 0x3);
	lapic_write(LAPIC_LVT_TIMER, 0x10000 | VEC_LAPIC_TIMER); /* masked, one-shot */
	lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
	u64 t0 = rdtsc(), p0 = pit_irqs;
	while (pit_irqs < p0 + c->ticks)
		barrier();
	c->lapic_counts = 0xffffffffu - lapic_read(LAPIC_TIMER_CUR);
	c->tsc_ticks = rdtsc() - t0;
	lapic_write(LAPIC_TIMER_INIT, 0);
	return 0;
}

struct window {
	u64 pit, lapic, tsc;
};

static u64 measure(u64 arg)
{
	struct window *w = (struct window *)arg;
	u16 pm = rt_pmtimer_port();
	u64 p0 = pit_irqs, l0 = lapic_irqs, t0 = rdtsc();

	if (pm) {
		u64 want = window_ms * PMTIMER_HZ / 1000, elapsed = 0;
		u32 last = rt_pmtimer();
		while (elapsed < want) {
			u32 now = rt_pmtimer();
			elapsed += (now - last) & 0xffffff;
			last = now;
		}
	} else {
		u64 end = t0 + window_ms * rt_tsc_hz() / 1000;
		while (rdtsc() < end)
			barrier();
	}
	w->tsc = rdtsc() - t0;
	w->pit = pit_irqs - p0;
	w->lapic = lapic_irqs - l0;
	return 0;
}

static bool within(u64 got, u64 want) { return got * 100 >= want * (100 - tol) && got * 100 <= want * (100 + tol); }

void guest_main(void)
{
	window_ms = rt_cmdline_u64("ms", 1000);
	if (window_ms < 100 || window_ms > 60000)
		rt_fail("ms=%lu is out of range (100..60000)", window_ms);
	tol = rt_cmdline_u64("tol", 10);
	/* within() takes 100 - tol: 0 would demand exact rates, 100 and more accept anything. */
	if (tol < 1 || tol > 99)
		rt_fail("tol=%lu is out of range (1..99 percent); use rates=0 to check only that the timers tick",
			tol);
	rates = rt_cmdline_u64("rates", 1);
	if (rates > 1)
		rt_fail("rates=%lu: expected 0 or 1", rates);

	u64 tsc_hz = rt_tsc_hz();
	rt_set_handler(VEC_PIC_BASE + 0, pit_irq);
	rt_set_handler(VEC_LAPIC_TIMER, lapic_irq);
	outb(0x43, 0x34); /* channel 0, lo/hi, mode 2 */
	outb(0x40, PIT_DIVISOR & 0xff);
	outb(0x40, PIT_DIVISOR >> 8);
	rt_pic_unmask(0);

	struct calib c = { .ticks = window_ms / 20 };
	rt_run_user(calibrate_vs_pit, (u64)&c);
	if (!c.lapic_counts)
		rt_fail("LAPIC timer did not count");
	/* n PIT periods last n * PIT_DIVISOR / PIT_HZ seconds. */
	u64 lapic_hz = c.lapic_counts * PIT_HZ / (c.ticks * PIT_DIVISOR);
	u64 tsc_hz_pit = c.tsc_ticks * PIT_HZ / (c.ticks * PIT_DIVISOR);
	rt_printf("timer: tsc_khz=%lu (%s) tsc_khz_vs_pit=%lu lapic_khz=%lu (divide 16)\n", tsc_hz / 1000,
		  rt_tsc_source(), tsc_hz_pit / 1000, lapic_hz / 1000);

	rt_lapic_timer((u32)(lapic_hz / HZ), true);
	struct window w;
	rt_run_user(measure, (u64)&w);
	rt_lapic_timer(0, false);
	rt_pic_mask(0);

	u64 pit_mhz = w.pit * 1000000 / window_ms, lapic_mhz = w.lapic * 1000000 / window_ms;
	u64 tsc_win_khz = w.tsc / window_ms;
	rt_printf("timer: window_ms=%lu (%s) pit_irqs=%lu pit_hz=%lu.%03lu lapic_irqs=%lu lapic_hz=%lu.%03lu "
		  "tsc_khz=%lu\n",
		  window_ms, rt_pmtimer_port() ? "pmtimer" : "tsc", w.pit, pit_mhz / 1000, pit_mhz % 1000, w.lapic,
		  lapic_mhz / 1000, lapic_mhz % 1000, tsc_win_khz);
	if (!w.pit || !w.lapic || !w.tsc)
		rt_fail("a timer did not tick over the window: pit_irqs=%lu lapic_irqs=%lu tsc=%lu", w.pit, w.lapic,
			w.tsc);
	if (!rates) {
		rt_printf("timer: rates=0: PIT, LAPIC timer and TSC tick; their rates are not checked\n");
		return;
	}
	rt_printf("timer: checking rates within %lu%%\n", tol);
	if (!within(pit_mhz, (u64)PIT_HZ * 1000 / PIT_DIVISOR))
		rt_fail("PIT IRQ rate %lu mHz, expected ~%lu mHz", pit_mhz, (u64)PIT_HZ * 1000 / PIT_DIVISOR);
	if (!within(lapic_mhz, HZ * 1000))
		rt_fail("LAPIC timer rate %lu mHz, expected ~%u mHz", lapic_mhz, HZ * 1000);
	if (!within(tsc_hz_pit / 1000, tsc_win_khz))
		rt_fail("TSC %lu kHz against the PIT but %lu kHz over the window", tsc_hz_pit / 1000, tsc_win_khz);
}
