/*
 * g_core.c - a guest whose memory and registers a core dump must show: it fills PATTERN_LEN
 * bytes at PATTERN_ADDR (8 MiB) with byte (i * 31 + seed) & 0xff at offset i, prints
 * "core: pattern at 0x800000 len 0x10000 seed S", then puts CORE_MAGIC in r12 and the seed in
 * r13 and, with then=panic (the default), reports a kernel panic through pvpanic (port 0x505);
 * with then=wait it prints "READY core" and halts with those registers until the power button
 * is pressed (for dumps of a running domain), then powers off.
 * cmdline: seed=N (default 7), then=panic|wait.
 */
#include "rt.h"

const char guest_name[] = "core";

#define PATTERN_ADDR 0x800000ul
#define PATTERN_LEN 0x10000ul
#define CORE_MAGIC 0xC0DEDC0DEC0FFEE5ul
#define PVPANIC_PORT 0x505
#define PVPANIC_PANICKED 0x01
#define PM1_PWRBTN 0x0100

static volatile unsigned presses;
static u16 evt_port = 0x600;

/* At CPL3: ring 0 runs in KVM's emulator on PVM hosts, one instruction at a time. */
static u64 fill(u64 seed)
{
	u8 *p = rt_phys(PATTERN_ADDR);
	for (u64 i = 0; i < PATTERN_LEN; i++)
		p[i] = (u8)(i * 31 + seed);
	return 0;
}

static void sci(struct rt_frame *f)
{
	(void)f;
	if (inw(evt_port) & PM1_PWRBTN) {
		outw(evt_port, PM1_PWRBTN);
		presses++;
	}
}

void guest_main(void)
{
	char then[16];
	u64 seed = rt_cmdline_u64("seed", 7);
	if (!rt_cmdline_str("then", then, sizeof(then)))
		memcpy(then, "panic", 6);
	rt_run_user(fill, seed);
	rt_printf("core: pattern at 0x%lx len 0x%lx seed %lu\n", PATTERN_ADDR, PATTERN_LEN, seed);
	if (!strcmp(then, "panic")) {
		rt_printf("core: reporting a panic through pvpanic\n");
		__asm__ volatile("mov %0, %%r12\n\tmov %1, %%r13\n\toutb %%al, %%dx\n"
				 "1:\tcli\n\thlt\n\tjmp 1b"
				 :
				 : "r"(CORE_MAGIC), "r"(seed), "a"((u8)PVPANIC_PANICKED),
				   "d"((u16)PVPANIC_PORT)
				 : "r12", "r13", "memory");
	}
	if (strcmp(then, "wait"))
		rt_fail("then=%s: expected panic or wait", then);
	const struct rt_acpi *a = rt_acpi();
	u16 sci_irq = 9;
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
	outw(evt_port, PM1_PWRBTN);
	outw(evt_port + 2, PM1_PWRBTN);
	rt_pic_unmask(sci_irq);
	rt_printf("READY core\n");
	/* Wait with the registers a dump should show; the SCI handler leaves them alone. */
	__asm__ volatile("mov %0, %%r12\n\tmov %1, %%r13\n"
			 "1:\tsti\n\thlt\n\tcli\n\tmovl %2, %%eax\n\ttestl %%eax, %%eax\n\tjz 1b"
			 :
			 : "r"(CORE_MAGIC), "r"(seed), "m"(presses)
			 : "r12", "r13", "rax", "memory", "cc");
	rt_printf("core: power button pressed, powering off\n");
}
