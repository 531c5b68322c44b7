/*
 * g_ticker.c - a guest that lives until told otherwise, for domusd's tests and benchmarks.
 * Prints "READY ticker", then "tick N" every ms milliseconds (PIT IRQ 0 at 100 Hz), and
 * powers off when the ACPI power button is pressed.
 * cmdline: ms=N tick interval (default 100; 0 = silent), button=0 ignore the power button (a
 * guest that does not shut down when asked), busy=1 wait at CPL3 in a busy loop
 * instead of hlt (a guest that uses its CPU), after=N then=poweroff|reboot|crash: after N
 * ticks power off, reset (0xCF9) or triple-fault.
 */
#include "rt.h"

const char guest_name[] = "ticker";

#define PM1_PWRBTN 0x0100
#define PIT_DIVISOR 11932 /* 100 Hz */

static u16 evt_port;
static volatile u64 ticks;
static volatile unsigned presses;
static u64 interval, after;
static char then[16];

static void pit_irq(struct rt_frame *f) { (void)f; ticks++; }

static void sci(struct rt_frame *f)
{
	(void)f;
	if (inw(evt_port) & PM1_PWRBTN) {
		outw(evt_port, PM1_PWRBTN);
		presses++;
	}
}

/* One step of the loop; returns nonzero when the guest should end. */
static u64 step(u64 *printed)
{
	u64 t = ticks;
	if (presses) {
		rt_printf("ticker: power button pressed, powering off\n");
		return 1;
	}
	if (interval && t * 10 >= (*printed + 1) * interval) {
		++*printed;
		rt_printf("tick %lu\n", *printed);
	}
	if (after && t >= after)
		return 2;
	return 0;
}

static u64 busy_loop(u64 arg)
{
	u64 *printed = (u64 *)arg, r;
	while (!(r = step(printed)))
		barrier();
	return r;
}

void guest_main(void)
{
	const struct rt_acpi *a = rt_acpi();
	u16 sci_irq = 9;
	u64 printed = 0, r;

	interval = rt_cmdline_u64("ms", 100);
	after = rt_cmdline_u64("after", 0);
	if (!rt_cmdline_str("then", then, sizeof(then)))
		then[0] = 0;
	evt_port = 0x600;
	if (a->fadt) {
		u32 blk;
		memcpy(&blk, a->fadt + 56, 4);
		memcpy(&sci_irq, a->fadt + 46, 2);
		if (blk)
			evt_port = (u16)blk;
	}
	if (sci_irq > 15)
		rt_fail("SCI_INT %u is not an ISA IRQ", sci_irq);
	rt_set_handler(VEC_PIC_BASE + sci_irq, sci);
	rt_set_handler(VEC_PIC_BASE + 0, pit_irq);
	outw(evt_port, PM1_PWRBTN);
	if (rt_cmdline_u64("button", 1))
		outw(evt_port + 2, PM1_PWRBTN);
	outb(0x43, 0x34); /* PIT channel 0, lo/hi, mode 2 */
	outb(0x40, PIT_DIVISOR & 0xff);
	outb(0x40, PIT_DIVISOR >> 8);
	rt_pic_unmask(0);
	rt_pic_unmask(sci_irq);
	rt_printf("READY ticker\n");

	if (rt_cmdline_u64("busy", 0)) {
		r = rt_run_user(busy_loop, (u64)&printed);
	} else {
		while (!(r = step(&printed))) {
			sti();
			hlt();
		}
	}
	cli();
	if (r == 1 || !strcmp(then, "poweroff") || !then[0])
		return;
	rt_printf("ticker: %s after %lu ticks\n", then, after);
	if (!strcmp(then, "reboot"))
		rt_reset("cf9");
	else if (!strcmp(then, "crash"))
		rt_reset("triple");
	rt_fail("then=%s: expected poweroff, reboot or crash", then);
}
