/*
 * g_fvpci.c - the FV PC's PCI configuration space (mechanism #1 at 0xCF8/0xCFC) and the PIIX4
 * PM timer. Boot with `domus run --kernel fvpci.elf --fv-devices`.
 * Checks: the i440FX at 00:00.0 (8086:1237, subsystem 1af4:1100, PAM registers 0 at power-on
 * and writable), the PIIX3 ISA bridge 00:01.0 (multi-function, PIRQ routes disabled), IDE
 * 00:01.1 (class 0101, prog-if 0x80, BAR4 sizing 16 bytes of I/O), PIIX4 PM 00:01.3
 * (DEVACTB APMC_EN, PMBA), empty slots reading all ones, and the PM timer: counting at
 * 3.579545 MHz against the PIT (within tol percent, cmdline tol=N, default 10), 24 bits, never
 * backwards.
 */
#include "rt.h"

const char guest_name[] = "fvpci";

static u32 cfg_read(unsigned dev, unsigned fn, unsigned reg)
{
	outl(0xCF8, 0x80000000u | dev << 11 | fn << 8 | (reg & 0xFC));
	return inl(0xCFC);
}

static void cfg_write(unsigned dev, unsigned fn, unsigned reg, u32 v)
{
	outl(0xCF8, 0x80000000u | dev << 11 | fn << 8 | (reg & 0xFC));
	outl(0xCFC, v);
}

static u8 cfg_read8(unsigned dev, unsigned fn, unsigned reg)
{
	outl(0xCF8, 0x80000000u | dev << 11 | fn << 8 | (reg & 0xFC));
	return inb(0xCFC + (reg & 3));
}

#define EXPECT(cond, ...)                        \
	do {                                     \
		if (!(cond))                     \
			rt_fail(__VA_ARGS__);    \
	} while (0)

/* PM timer ticks during a 50 ms one-shot of PIT channel 0. */
static u64 pm_ticks_per_50ms(u64 port)
{
	u32 ticks = PIT_HZ / 20;
	outb(0x43, 0x30);
	outb(0x40, ticks & 0xFF);
	outb(0x40, ticks >> 8);
	u32 a = inl((u16)port) & 0xFFFFFF;
	for (u64 spins = 0; spins < 100000000; spins++) {
		outb(0x43, 0xE2);
		if (inb(0x40) & 0x80) {
			u32 b = inl((u16)port) & 0xFFFFFF;
			return (b - a) & 0xFFFFFF;
		}
	}
	return 0;
}

static u64 pm_backwards(u64 port)
{
	u32 last = inl((u16)port) & 0xFFFFFF;
	u64 bad = 0;
	for (int i = 0; i < 20000; i++) {
		u32 now = inl((u16)port);
		if (now >> 24)
			return 1000000; /* the top byte of a 24-bit timer reads 0 */
		/* a step back of more than half the range is the 24-bit wrap, not an error */
		if (((now - last) & 0xFFFFFF) > 0x800000)
			bad++;
		last = now;
	}
	return bad;
}

void guest_main(void)
{
	u32 id = cfg_read(0, 0, 0);
	EXPECT(id == 0x12378086, "00:00.0 id %08x", id);
	EXPECT(cfg_read(0, 0, 0x2C) == 0x11001AF4, "00:00.0 subsystem %08x", cfg_read(0, 0, 0x2C));
	EXPECT((cfg_read(0, 0, 0x08) >> 8) == 0x060000, "00:00.0 class %08x", cfg_read(0, 0, 8));
	for (unsigned r = 0x59; r <= 0x5F; r++)
		EXPECT(cfg_read8(0, 0, r) == 0, "PAM 0x%x = 0x%x at power-on", r, cfg_read8(0, 0, r));
	u32 pam = cfg_read(0, 0, 0x5C);
	cfg_write(0, 0, 0x5C, 0x33333333);
	EXPECT(cfg_read(0, 0, 0x5C) == 0x33333333, "PAM not writable: %08x", cfg_read(0, 0, 0x5C));
	cfg_write(0, 0, 0x5C, pam);
	cfg_write(0, 0, 0x00, 0xFFFFFFFF); /* ids are read-only */
	EXPECT(cfg_read(0, 0, 0) == 0x12378086, "id changed by a write");

	EXPECT(cfg_read(1, 0, 0) == 0x70008086, "00:01.0 id %08x", cfg_read(1, 0, 0));
	EXPECT(cfg_read8(1, 0, 0x0E) & 0x80, "00:01.0 is not multi-function");
	EXPECT(cfg_read(1, 0, 0x60) == 0x80808080, "PIRQ routes %08x", cfg_read(1, 0, 0x60));
	cfg_write(1, 0, 0x60, 0x0B0B0A0A);
	EXPECT(cfg_read(1, 0, 0x60) == 0x0B0B0A0A, "PIRQ routes not writable");

	EXPECT(cfg_read(1, 1, 0) == 0x70108086, "00:01.1 id %08x", cfg_read(1, 1, 0));
	EXPECT((cfg_read(1, 1, 0x08) >> 8) == 0x010180, "IDE class %08x", cfg_read(1, 1, 8));
	cfg_write(1, 1, 0x20, 0xFFFFFFFF);
	u32 bar = cfg_read(1, 1, 0x20);
	EXPECT(bar == 0xFFFFFFF1, "BAR4 sizing reads %08x", bar);
	cfg_write(1, 1, 0x20, 0xC001);
	EXPECT(cfg_read(1, 1, 0x20) == 0xC001, "BAR4 = %08x", cfg_read(1, 1, 0x20));
	cfg_write(1, 1, 0x04, 0x5); /* I/O + bus master */
	outb(0xC002, 0x06);         /* bus-master status: write 1 to clear, bits 5-6 R/W */
	EXPECT((inb(0xC002) & 0x07) == 0, "BM status %02x", inb(0xC002));
	outl(0xC004, 0x12345);
	EXPECT(inl(0xC004) == 0x12344, "PRD pointer %08x (bits 0-1 read 0)", inl(0xC004));

	EXPECT(cfg_read(1, 3, 0) == 0x71138086, "00:01.3 id %08x", cfg_read(1, 3, 0));
	EXPECT(cfg_read8(1, 3, 0x5B) & 0x02, "DEVACTB APMC_EN clear: firmware would wait on SMM");
	u32 pmba = cfg_read(1, 3, 0x40);
	u16 port = rt_pmtimer_port();
	EXPECT((pmba & 0xFFC0) + 8 == port, "PMBA %08x vs FADT PM timer 0x%x", pmba, port);
	EXPECT(cfg_read(5, 0, 0) == 0xFFFFFFFF, "empty slot reads %08x", cfg_read(5, 0, 0));
	outl(0xCF8, 0x80010000u); /* bus 1: nothing there */
	EXPECT(inl(0xCFC) == 0xFFFFFFFF, "bus 1 reads %08x", inl(0xCFC));
	rt_printf("fvpci: chipset ok: i440FX, PIIX3 ISA/IDE, PIIX4 PM at 0x%x\n", pmba & 0xFFC0);

	u64 m[5];
	for (int i = 0; i < 5; i++)
		m[i] = rt_run_user(pm_ticks_per_50ms, port);
	for (int i = 1; i < 5; i++)
		for (int j = i; j > 0 && m[j - 1] > m[j]; j--) {
			u64 t = m[j];
			m[j] = m[j - 1];
			m[j - 1] = t;
		}
	u64 hz = m[2] * 20;
	rt_printf("fvpci: PM timer %lu Hz against the PIT\n", hz);
	u64 tol = rt_cmdline_u64("tol", 10);
	EXPECT(hz > PMTIMER_HZ / 100 * (100 - tol) && hz < PMTIMER_HZ / 100 * (100 + tol),
	       "PM timer runs at %lu Hz", hz);
	u64 back = rt_run_user(pm_backwards, port);
	EXPECT(back == 0, "PM timer went backwards %lu times (or read more than 24 bits)", back);
}
