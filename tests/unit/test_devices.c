/* Device cores driven through their register interfaces, as a guest would. */
#include <stdint.h>

#include "hw/acpi_pm.h"
#include "hw/i8042.h"
#include "hw/reset_cf9.h"
#include "hw/rtc_mc146818.h"
#include "hw/uart16550.h"
#include "unit.h"
#include "vmm/bus.h"
#include "vmm/guest_mem.h"

static int irq_level[32];
static void fake_irq(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	irq_level[gsi] = level;
}

static uint8_t txbuf[256];
static size_t txlen;
static void fake_tx(void *ctx, const uint8_t *b, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n && txlen < sizeof(txbuf); i++)
		txbuf[txlen++] = b[i];
}

static void test_uart(void)
{
	struct irq_line irq = { .set = fake_irq, .gsi = 4 };
	struct uart16550 u;
	const struct io_ops *o = &uart16550_ops;
	uart16550_init(&u, &irq, fake_tx, NULL);
	o->write(&u, 0, 1, 'h');
	o->write(&u, 0, 1, 'i');
	CHECK_EQ(txlen, 2);
	CHECK(txbuf[0] == 'h' && txbuf[1] == 'i');
	CHECK(o->read(&u, 5, 1) & 0x60); /* THRE | TEMT */
	CHECK_EQ(o->read(&u, 2, 1) & 1, 1); /* no interrupt pending */
	/* receive with RX interrupt enabled and OUT2 set: IRQ 4 rises, IIR says RDI */
	o->write(&u, 4, 1, 0x08);
	o->write(&u, 1, 1, 0x01);
	CHECK_EQ(irq_level[4], 0);
	CHECK_EQ(uart16550_rx(&u, (const uint8_t *)"ab", 2), 2);
	CHECK_EQ(irq_level[4], 1);
	CHECK_EQ(o->read(&u, 2, 1) & 0x0F, 0x04);
	CHECK_EQ(o->read(&u, 5, 1) & 1, 1);
	CHECK_EQ(o->read(&u, 0, 1), 'a');
	CHECK_EQ(o->read(&u, 0, 1), 'b');
	CHECK_EQ(o->read(&u, 5, 1) & 1, 0);
	CHECK_EQ(irq_level[4], 0);
	/* without OUT2 the line stays low (PC wiring) */
	o->write(&u, 4, 1, 0x00);
	uart16550_rx(&u, (const uint8_t *)"c", 1);
	CHECK_EQ(irq_level[4], 0);
	o->read(&u, 0, 1);
	/* THR-empty interrupt: raised on enable, cleared by reading IIR */
	o->write(&u, 4, 1, 0x08);
	o->write(&u, 1, 1, 0x02);
	CHECK_EQ(irq_level[4], 1);
	CHECK_EQ(o->read(&u, 2, 1) & 0x0F, 0x02);
	CHECK_EQ(irq_level[4], 0);
	/* divisor latch */
	o->write(&u, 3, 1, 0x80);
	o->write(&u, 0, 1, 0x01);
	o->write(&u, 1, 1, 0x00);
	CHECK_EQ(o->read(&u, 0, 1), 0x01);
	o->write(&u, 3, 1, 0x03);
	CHECK_EQ(txlen, 2); /* the divisor write did not transmit */
	/* loopback: what is sent comes back */
	o->write(&u, 4, 1, 0x10);
	o->write(&u, 0, 1, 'z');
	CHECK_EQ(o->read(&u, 0, 1), 'z');
	CHECK_EQ(txlen, 2);
	/* the receive queue is bounded and says how much it took */
	o->write(&u, 4, 1, 0x00);
	uint8_t big[1000];
	memset(big, 'q', sizeof(big));
	CHECK_EQ(uart16550_rx(&u, big, sizeof(big)), UART_RX_RING);
	CHECK_EQ(uart16550_rx_space(&u), 0);
	uart16550_destroy(&u);
}

static int64_t fake_now;
static int64_t fake_clock(void)
{
	return fake_now;
}

static uint8_t cmos(struct rtc_mc146818 *r, uint8_t idx)
{
	rtc_mc146818_ops.write(r, 0, 1, idx);
	return (uint8_t)rtc_mc146818_ops.read(r, 1, 1);
}

static void cmos_set(struct rtc_mc146818 *r, uint8_t idx, uint8_t v)
{
	rtc_mc146818_ops.write(r, 0, 1, idx);
	rtc_mc146818_ops.write(r, 1, 1, v);
}

static void test_rtc(void)
{
	struct rtc_mc146818 r;
	/* 2026-11-28 13:45:07 UTC, a Saturday */
	int64_t t = rtc_days_from_civil(2026, 11, 28) * 86400 + 13 * 3600 + 45 * 60 + 7;
	fake_now = t * 1000000000LL + 1000;
	rtc_mc146818_init(&r, NULL, fake_clock);
	CHECK_EQ(cmos(&r, 0x00), 0x07);
	CHECK_EQ(cmos(&r, 0x02), 0x45);
	CHECK_EQ(cmos(&r, 0x04), 0x13);
	CHECK_EQ(cmos(&r, 0x07), 0x28);
	CHECK_EQ(cmos(&r, 0x08), 0x11);
	CHECK_EQ(cmos(&r, 0x09), 0x26);
	CHECK_EQ(cmos(&r, 0x32), 0x20);
	CHECK_EQ(cmos(&r, 0x06), 7); /* Saturday; Sunday = 1 */
	CHECK_EQ(cmos(&r, 0x0D), 0x80);
	CHECK_EQ(cmos(&r, 0x0A) & 0x80, 0); /* UIP clear early in the second */
	fake_now = t * 1000000000LL + 999900000LL;
	CHECK_EQ(cmos(&r, 0x0A) & 0x80, 0x80); /* set in the last 244 us */
	/* binary, 12-hour mode */
	cmos_set(&r, 0x0B, 0x04);
	CHECK_EQ(cmos(&r, 0x04), 0x80 | 1); /* 1 PM */
	CHECK_EQ(cmos(&r, 0x09), 26);
	/* the guest sets the clock: SET, write, clear SET; time then runs from there */
	cmos_set(&r, 0x0B, 0x82);
	cmos_set(&r, 0x09, 0x30);
	cmos_set(&r, 0x08, 0x01);
	cmos_set(&r, 0x07, 0x01);
	cmos_set(&r, 0x04, 0x00);
	cmos_set(&r, 0x02, 0x00);
	cmos_set(&r, 0x00, 0x00);
	cmos_set(&r, 0x0B, 0x02);
	fake_now += 5 * 1000000000LL;
	CHECK_EQ(cmos(&r, 0x09), 0x30);
	CHECK_EQ(cmos(&r, 0x08), 0x01);
	CHECK_EQ(cmos(&r, 0x00), 0x05);
	/* update-ended flag when a second passed since the last read of C */
	cmos(&r, 0x0C);
	CHECK_EQ(cmos(&r, 0x0C) & 0x10, 0);
	fake_now += 1000000000LL;
	CHECK_EQ(cmos(&r, 0x0C) & 0x10, 0x10);
	/* CMOS RAM */
	cmos_set(&r, 0x34, 0x5A);
	CHECK_EQ(cmos(&r, 0x34), 0x5A);
	/* index bit 7 (NMI mask) does not change the register */
	rtc_mc146818_ops.write(&r, 0, 1, 0x80 | 0x34);
	CHECK_EQ(rtc_mc146818_ops.read(&r, 1, 1), 0x5A);
	/* CMOS RAM and the clock setting survive a reset (a new device restored from the old) */
	uint8_t saved[128];
	int64_t off;
	rtc_mc146818_save(&r, saved, &off);
	struct rtc_mc146818 r2;
	rtc_mc146818_init(&r2, NULL, fake_clock);
	rtc_mc146818_restore(&r2, saved, off);
	CHECK_EQ(cmos(&r2, 0x34), 0x5A);
	CHECK_EQ(cmos(&r2, 0x09), 0x30);
	rtc_mc146818_destroy(&r2);
	/* calendar round trips over centuries */
	for (int64_t d = -800000; d < 800000; d += 997) {
		int64_t y;
		unsigned m, dd;
		rtc_civil_from_days(d, &y, &m, &dd);
		CHECK_EQ(rtc_days_from_civil(y, m, dd), d);
	}
	rtc_mc146818_destroy(&r);
}

static int resets;
static void fake_reset(void *ctx)
{
	(void)ctx;
	resets++;
}

static void test_i8042(void)
{
	struct irq_line irq = { .set = fake_irq, .gsi = 1 };
	struct i8042 k;
	const struct io_ops *o = &i8042_ops;
	i8042_init(&k, &irq, fake_reset, NULL);
	o->write(&k, 4, 1, 0xAA);
	CHECK_EQ(o->read(&k, 4, 1) & 1, 1);
	CHECK_EQ(o->read(&k, 0, 1), 0x55);
	o->write(&k, 4, 1, 0x20);
	uint8_t cb = (uint8_t)o->read(&k, 0, 1);
	CHECK(cb & 0x01);
	o->write(&k, 0, 1, 0xFF); /* keyboard reset */
	CHECK_EQ(o->read(&k, 0, 1), 0xFA);
	CHECK_EQ(o->read(&k, 0, 1), 0xAA);
	CHECK_EQ(irq_level[1], 0);
	CHECK_EQ(i8042_key(&k, (const uint8_t *)"\x1e\x9e", 2), 2);
	CHECK_EQ(irq_level[1], 1);
	CHECK_EQ(o->read(&k, 0, 1), 0x1E);
	CHECK_EQ(o->read(&k, 0, 1), 0x9E);
	CHECK_EQ(irq_level[1], 0);
	CHECK_EQ(resets, 0);
	o->write(&k, 4, 1, 0xFE);
	CHECK_EQ(resets, 1);
	o->write(&k, 4, 1, 0xD1);
	o->write(&k, 0, 1, 0xFE); /* output port with reset bit low */
	CHECK_EQ(resets, 2);
	o->write(&k, 4, 1, 0xFF); /* pulse of no line: no reset */
	CHECK_EQ(resets, 2);
	i8042_destroy(&k);
}

static unsigned slept = 99;
static void fake_sleep(void *ctx, unsigned typ)
{
	(void)ctx;
	slept = typ;
}

static void test_acpi_pm(void)
{
	struct irq_line sci = { .set = fake_irq, .gsi = 9 };
	struct acpi_pm p;
	const struct io_ops *o = &acpi_pm_ops;
	acpi_pm_init(&p, &sci, fake_sleep, NULL, 1);
	CHECK_EQ(o->read(&p, 4, 2) & 1, 1); /* SCI_EN: always in ACPI mode */
	acpi_pm_power_button(&p);
	CHECK_EQ(irq_level[9], 0); /* not enabled yet */
	CHECK(o->read(&p, 0, 2) & 0x100);
	o->write(&p, 2, 2, 0x100);
	CHECK_EQ(irq_level[9], 1);
	o->write(&p, 0, 2, 0x100); /* write 1 to clear */
	CHECK_EQ(o->read(&p, 0, 2) & 0x100, 0);
	CHECK_EQ(irq_level[9], 0);
	uint32_t t1 = (uint32_t)o->read(&p, 8, 4);
	CHECK(t1 <= 0xFFFFFF);
	o->write(&p, 4, 2, (ACPI_S5_TYP << 10) | 0x2000 | 1);
	CHECK_EQ(slept, ACPI_S5_TYP);
	CHECK_EQ(o->read(&p, 4, 2) & 0x2000, 0); /* SLP_EN reads 0 */
	/* a byte write to the high half of PM1a_CNT also sleeps */
	slept = 99;
	o->write(&p, 5, 1, ((ACPI_S5_TYP << 10) | 0x2000) >> 8);
	CHECK_EQ(slept, ACPI_S5_TYP);
	acpi_pm_destroy(&p);

	struct reset_cf9 r = { .reset = fake_reset };
	resets = 0;
	reset_cf9_ops.write(&r, 0, 1, 0x02);
	CHECK_EQ(resets, 0);
	reset_cf9_ops.write(&r, 0, 1, 0x06);
	CHECK_EQ(resets, 1);
}

static uint64_t dev_read(void *ctx, uint64_t off, unsigned size)
{
	(void)size;
	return (uintptr_t)ctx + off;
}
static const struct io_ops dev_ops = { .read = dev_read };

static void test_bus_and_mem(void)
{
	struct bus b;
	bus_init(&b, "test");
	CHECK_EQ(bus_add(&b, 0x100, 0x10, &dev_ops, (void *)0x1000, "a"), 0);
	CHECK_EQ(bus_add(&b, 0x200, 0x10, &dev_ops, (void *)0x2000, "b"), 0);
	CHECK(bus_add(&b, 0x10F, 2, &dev_ops, NULL, "overlap") < 0);
	CHECK(bus_add(&b, 0xF0, 0x11, &dev_ops, NULL, "overlap") < 0);
	CHECK(bus_add(&b, ~0ull - 1, 4, &dev_ops, NULL, "wrap") < 0);
	CHECK(bus_add(&b, 0x300, 0, &dev_ops, NULL, "empty") < 0);
	uint64_t v;
	CHECK(bus_read(&b, 0x105, 1, &v) && v == 0x1005);
	CHECK(bus_read(&b, 0x20F, 1, &v) && v == 0x200F);
	CHECK(!bus_read(&b, 0x110, 2, &v) && v == 0xFFFF);
	CHECK(!bus_read(&b, 0x0, 8, &v) && v == ~0ull);
	CHECK(!bus_write(&b, 0x105, 1, 0)); /* no write callback: unhandled */
	CHECK_EQ(bus_remove(&b, 0x100, (void *)0x1000), 0);
	CHECK(!bus_read(&b, 0x105, 1, &v));
	bus_destroy(&b);

	struct guest_mem m = { 0 };
	static uint8_t low[4096], high[4096];
	CHECK_EQ(guest_mem_add(&m, 0, sizeof(low), low), 0);
	CHECK_EQ(guest_mem_add(&m, 1ull << 32, sizeof(high), high), 0);
	CHECK(guest_mem_add(&m, 100, 10, low) < 0);
	CHECK(gpa_to_hva(&m, 0, 4096) == low);
	CHECK(gpa_to_hva(&m, 1, 4096) == NULL);
	CHECK(gpa_to_hva(&m, 4096, 1) == NULL);
	CHECK(gpa_to_hva(&m, (1ull << 32) + 4095, 1) == high + 4095);
	CHECK(gpa_to_hva(&m, ~0ull, 2) == NULL);
	CHECK(gpa_to_hva(&m, 8, ~0ull) == NULL);
}

UNIT_MAIN(test_uart, test_rtc, test_i8042, test_acpi_pm, test_bus_and_mem)
