/*
 * g_powerbutton.c - the ACPI power button: enables PWRBTN_EN in PM1a_EN, prints
 * "READY powerbutton", sleeps until the SCI arrives, checks that PWRBTN_STS is what raised
 * it, clears it and powers off (S5). `domus shutdown` presses the button through domusd.
 */
#include "rt.h"

const char guest_name[] = "powerbutton";

#define PM1_PWRBTN 0x0100 /* bit 8 of PM1 status and enable (ACPI 6.x, 4.8.4.1) */

static u16 evt_port;
static volatile unsigned presses, stray_scis;

static void sci(struct rt_frame *f)
{
	(void)f;
	u16 sts = inw(evt_port);
	if (sts & PM1_PWRBTN) {
		outw(evt_port, PM1_PWRBTN); /* write 1 to clear: drops the SCI */
		presses++;
	} else {
		stray_scis++;
	}
}

void guest_main(void)
{
	const struct rt_acpi *a = rt_acpi();
	u16 sci_irq = 9;

	evt_port = 0x600;
	if (a->fadt) {
		u32 blk;
		u16 irq;
		memcpy(&blk, a->fadt + 56, 4); /* PM1a_EVT_BLK */
		memcpy(&irq, a->fadt + 46, 2); /* SCI_INT */
		if (blk)
			evt_port = (u16)blk;
		sci_irq = irq;
	}
	if (sci_irq > 15)
		rt_fail("SCI_INT %u is not an ISA IRQ", sci_irq);
	rt_set_handler(VEC_PIC_BASE + sci_irq, sci);
	outw(evt_port, PM1_PWRBTN);         /* stale status */
	outw(evt_port + 2, PM1_PWRBTN);     /* PWRBTN_EN */
	rt_pic_unmask(sci_irq);
	rt_printf("READY powerbutton (PM1a_EVT 0x%x, SCI IRQ %u)\n", evt_port, sci_irq);
	while (!presses) {
		sti();
		hlt();
	}
	cli();
	if (stray_scis)
		rt_fail("%u SCIs without PWRBTN_STS", stray_scis);
	rt_printf("powerbutton: button pressed, powering off\n");
}
