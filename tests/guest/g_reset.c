/*
 * g_reset.c - platform reset. The first boot prints "BOOT 1", leaves a mark in CMOS
 * byte 0x3e (CMOS RAM survives a reset) and resets; the second boot finds the mark,
 * clears it, prints "BOOT 2", PASS and powers off.
 * cmdline: how=cf9 (default; port 0xcf9 <- 0x06) | kbd (i8042 command 0xfe) |
 * acpi (FADT reset register) | triple (empty IDT + #GP -> triple fault).
 */
#include "rt.h"

const char guest_name[] = "reset";

#define MARK_REG 0x3e
#define MARK 0xa5

void guest_main(void)
{
	char how[16] = "cf9";

	rt_cmdline_str("how", how, sizeof(how));
	if (rt_cmos_read(MARK_REG) == MARK) {
		rt_cmos_write(MARK_REG, 0);
		rt_printf("BOOT 2\n");
		rt_printf("reset: second boot after how=%s\n", how);
		return;
	}
	if (strcmp(how, "cf9") && strcmp(how, "kbd") && strcmp(how, "acpi") && strcmp(how, "triple"))
		rt_fail("unknown how=%s", how);
	if (strcmp(how, "acpi") == 0 && !rt_acpi()->have_reset)
		rt_fail("how=acpi but the FADT has no reset register");
	rt_cmos_write(MARK_REG, MARK);
	if (rt_cmos_read(MARK_REG) != MARK)
		rt_fail("CMOS byte 0x%x does not hold a value", MARK_REG);
	rt_printf("BOOT 1\n");
	rt_printf("reset: resetting with how=%s\n", how);
	rt_reset(how);
	rt_udelay(2000000);
	rt_cmos_write(MARK_REG, 0);
	rt_fail("still running 2 s after the reset request (how=%s)", how);
}
