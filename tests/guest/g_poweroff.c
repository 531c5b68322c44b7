/*
 * g_poweroff.c - ACPI S5: finds the FADT and \_S5, reports them, powers off.
 * The harness checks that the VM exits with status 0 after "DONE".
 */
#include "rt.h"

const char guest_name[] = "poweroff";

void guest_main(void)
{
	const struct rt_acpi *a = rt_acpi();

	rt_printf("poweroff: rsdp=0x%lx fadt=%p dsdt=%p pm1a_cnt=0x%x s5=%s slp_typ=%u\n", a->rsdp, a->fadt, a->dsdt,
		  a->pm1a_cnt, a->have_s5 ? "yes" : "no", a->s5_typ);
	if (!a->rsdp)
		rt_fail("no RSDP");
	if (!a->fadt)
		rt_fail("no FADT");
	if (!a->pm1a_cnt && !a->have_sleep_ctl)
		rt_fail("FADT has no PM1a_CNT_BLK");
	if (!a->have_s5)
		rt_fail("no \\_S5 package in the DSDT");
}
