/*
 * g_pwrbtn.c - the ACPI fixed power button: enables PWRBTN_EN in PM1a_EN (FADT), waits at CPL3
 * for the SCI (IRQ from the FADT, through the 8259 PIC; a press before PWRBTN_EN was set stays
 * latched and raises it then), checks PWRBTN_STS in PM1a_STS, clears
 * it (write 1), then powers off with S5 like an OS that handles the button.
 * Run with `domus run --power-button-after N`. cmdline: timeout=S (default 120).
 */
#include "rt.h"

const char guest_name[] = "pwrbtn";

#define PWRBTN 0x0100

static u16 evt;
static volatile u16 seen;
static volatile unsigned sci_count;
static u64 deadline;

static void sci(struct rt_frame *f)
{
	(void)f;
	u16 sts = inw(evt);
	sci_count++;
	if (sts & PWRBTN) {
		seen = sts;
		outw(evt, PWRBTN); /* write 1 to clear: the SCI drops */
	}
}

static u64 wait_button(u64 arg)
{
	(void)arg;
	while (!seen && rdtsc() < deadline)
		barrier();
	return seen;
}

void guest_main(void)
{
	const struct rt_acpi *a = rt_acpi();
	if (!a->fadt)
		rt_fail("no FADT");
	u32 evt_blk, flags;
	u16 sci_irq;
	memcpy(&evt_blk, a->fadt + 56, 4);
	memcpy(&sci_irq, a->fadt + 46, 2);
	memcpy(&flags, a->fadt + 112, 4);
	if (flags & (1u << 4))
		rt_fail("FADT says the power button is not a fixed feature");
	if (!evt_blk || sci_irq > 15)
		rt_fail("FADT: PM1a_EVT_BLK 0x%x, SCI %u", evt_blk, sci_irq);
	evt = (u16)evt_blk;
	rt_printf("pwrbtn: PM1a_EVT 0x%x SCI %u\n", evt, sci_irq);
	outw(evt + 2, PWRBTN);       /* PWRBTN_EN */
	rt_set_handler(VEC_PIC_BASE + sci_irq, sci);
	rt_pic_unmask(sci_irq);
	rt_printf("READY pwrbtn\n");
	deadline = rdtsc() + rt_cmdline_u64("timeout", 120) * rt_tsc_hz();
	rt_run_user(wait_button, 0);
	if (!seen)
		rt_fail("no power button event (%u SCIs)", sci_count);
	if (inw(evt) & PWRBTN)
		rt_fail("PWRBTN_STS did not clear");
	rt_printf("pwrbtn: button pressed (PM1_STS 0x%x), powering off\n", seen);
}
