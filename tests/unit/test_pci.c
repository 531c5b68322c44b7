/* PCI layer: config space masks, BAR sizing and mapping, assignment, INTx swizzle, and the
 * host bridge's configuration mechanism #1 with the 0xCF9 reset forward. */
#include "unit.h"

#include <errno.h>

#include "hw/pci.h"
#include "hw/pci_host.h"

static uint64_t bar_hits;
static uint64_t dummy_read(void *ctx, uint64_t off, unsigned size)
{
	(void)ctx, (void)size;
	bar_hits++;
	return 0xAB00 + off;
}
static void dummy_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	(void)ctx, (void)off, (void)size, (void)val;
	bar_hits++;
}
static const struct io_ops dummy_ops = { .read = dummy_read, .write = dummy_write };

static unsigned irq_gsi[64];
static int irq_level[64];
static void fake_irq(void *ctx, unsigned gsi, int level)
{
	(void)ctx;
	irq_gsi[gsi]++;
	irq_level[gsi] = level;
}

static int resets;
static void on_reset(void *ctx)
{
	(void)ctx;
	resets++;
}

static const struct pci_windows win = { 0xC000, 0x10000, 0xC0000000, 0xFC000000,
					0x200000000ull, 0x600000000ull };

static void test_config_masks(void)
{
	struct bus pio, mmio;
	struct pci_bus b;
	struct pci_device d;
	bus_init(&pio, "port");
	bus_init(&mmio, "mmio");
	pci_bus_init(&b, &pio, &mmio, fake_irq, NULL, &win);
	pci_device_init(&d, "t", 0x1AF4, 0x1042, 0x010000, 1, 0x1AF4, 2, 1);
	CHECK_EQ(pci_bus_add(&b, &d, PCI_DEVFN(3, 0)), 0);
	CHECK_EQ(pci_bus_add(&b, &d, PCI_DEVFN(3, 0)), -EEXIST);
	CHECK_EQ(pci_cfg_read(&b, PCI_DEVFN(3, 0), 0, 4), 0x10421AF4);
	CHECK_EQ(pci_cfg_read(&b, PCI_DEVFN(4, 0), 0, 4), 0xFFFFFFFF);
	CHECK_EQ(pci_cfg_read(&b, PCI_DEVFN(4, 0), 0, 2), 0xFFFF);
	/* IDs are read-only; unaligned accesses are dropped. */
	pci_cfg_write(&b, PCI_DEVFN(3, 0), 0, 4, 0);
	CHECK_EQ(pci_cfg_read(&b, PCI_DEVFN(3, 0), 0, 4), 0x10421AF4);
	CHECK_EQ(pci_cfg_read(&b, PCI_DEVFN(3, 0), 1, 2), 0xFFFFFFFF);
	CHECK_EQ(pci_cfg_read(&b, PCI_DEVFN(3, 0), 254, 4), 0xFFFFFFFF);
	CHECK_EQ(pci_cfg_read(&b, PCI_DEVFN(3, 0), PCI_CLASS_PROG + 1, 2), 0x0100);
	pci_cfg_write(&b, PCI_DEVFN(3, 0), PCI_INTERRUPT_LINE, 1, 0x77);
	CHECK_EQ(pci_cfg_read(&b, PCI_DEVFN(3, 0), PCI_INTERRUPT_LINE, 1), 0x77);
	CHECK_EQ(pci_cfg_read(&b, PCI_DEVFN(3, 0), PCI_INTERRUPT_PIN, 1), 1);
	/* Capabilities chain in order of declaration. */
	int c1 = pci_add_cap(&d, PCI_CAP_ID_VNDR, 16);
	int c2 = pci_add_cap(&d, PCI_CAP_ID_MSIX, 12);
	CHECK_EQ(c1, 0x40);
	CHECK_EQ(c2, 0x50);
	CHECK(pci_cfg_read(&b, PCI_DEVFN(3, 0), PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	CHECK_EQ(pci_cfg_read(&b, PCI_DEVFN(3, 0), PCI_CAPABILITY_LIST, 1), 0x40);
	CHECK_EQ(pci_cfg_read(&b, PCI_DEVFN(3, 0), 0x41, 1), 0x50);
	CHECK_EQ(pci_cfg_read(&b, PCI_DEVFN(3, 0), 0x51, 1), 0);
	CHECK_EQ(pci_add_cap(&d, PCI_CAP_ID_VNDR, 200), -ENOSPC);
	pci_bus_destroy(&b);
	bus_destroy(&pio);
	bus_destroy(&mmio);
}

static void test_bars(void)
{
	struct bus pio, mmio;
	struct pci_bus b;
	struct pci_device d;
	uint64_t v;
	bus_init(&pio, "port");
	bus_init(&mmio, "mmio");
	pci_bus_init(&b, &pio, &mmio, fake_irq, NULL, &win);
	pci_device_init(&d, "t", 0x1AF4, 0x1042, 0x010000, 1, 0x1AF4, 2, 1);
	CHECK_EQ(pci_add_bar(&d, 0, PCI_BAR_IO, false, 32, &dummy_ops, NULL), 0);
	CHECK_EQ(pci_add_bar(&d, 1, PCI_BAR_MEM32, false, 4096, &dummy_ops, NULL), 0);
	CHECK_EQ(pci_add_bar(&d, 4, PCI_BAR_MEM64, true, 0x4000, &dummy_ops, NULL), 0);
	CHECK_EQ(pci_add_bar(&d, 5, PCI_BAR_MEM32, false, 4096, &dummy_ops, NULL), -EINVAL);
	CHECK_EQ(pci_add_bar(&d, 2, PCI_BAR_MEM32, false, 3000, &dummy_ops, NULL), -EINVAL);
	CHECK_EQ(pci_bus_add(&b, &d, PCI_DEVFN(5, 0)), 0);
	uint8_t df = PCI_DEVFN(5, 0);

	/* Sizing: all ones in, size mask and flags out. */
	pci_cfg_write(&b, df, PCI_BAR0, 4, 0xFFFFFFFF);
	CHECK_EQ(pci_cfg_read(&b, df, PCI_BAR0, 4), 0xFFFFFFE1);
	pci_cfg_write(&b, df, PCI_BAR0 + 4, 4, 0xFFFFFFFF);
	CHECK_EQ(pci_cfg_read(&b, df, PCI_BAR0 + 4, 4), 0xFFFFF000);
	pci_cfg_write(&b, df, PCI_BAR0 + 16, 4, 0xFFFFFFFF);
	pci_cfg_write(&b, df, PCI_BAR0 + 20, 4, 0xFFFFFFFF);
	CHECK_EQ(pci_cfg_read(&b, df, PCI_BAR0 + 16, 4), 0xFFFFC00C);
	CHECK_EQ(pci_cfg_read(&b, df, PCI_BAR0 + 20, 4), 0xFFFFFFFF);
	/* Unused BARs read as zero and stay zero. */
	pci_cfg_write(&b, df, PCI_BAR0 + 8, 4, 0xFFFFFFFF);
	CHECK_EQ(pci_cfg_read(&b, df, PCI_BAR0 + 8, 4), 0);

	/* Assignment: largest first, 64-bit BAR above 4 GiB, decoding on. */
	CHECK_EQ(pci_bus_assign(&b), 0);
	CHECK_EQ(pci_bar_addr(&d, 0), 0xC000);
	CHECK_EQ(pci_bar_addr(&d, 1), 0xC0000000);
	CHECK_EQ(pci_bar_addr(&d, 4), 0x200000000ull);
	CHECK_EQ(pci_cfg_read(&b, df, PCI_COMMAND, 2) & 7, 7);
	CHECK_EQ(pci_cfg_read(&b, df, PCI_INTERRUPT_LINE, 1), pci_pirq_gsi[(5 + 0) % 4]);
	CHECK(bus_read(&pio, 0xC004, 1, &v) && v == 0xAB04);
	CHECK(bus_read(&mmio, 0xC0000010, 4, &v) && v == 0xAB10);
	CHECK(bus_read(&mmio, 0x200003FF0ull, 4, &v) && v == 0xAB00 + 0x3FF0);
	CHECK(!bus_read(&mmio, 0x200004000ull, 4, &v));

	/* Moving a BAR while decoding is on remaps it; disabling decode unmaps all. */
	pci_cfg_write(&b, df, PCI_BAR0 + 4, 4, 0xD0000000);
	CHECK(!bus_read(&mmio, 0xC0000010, 4, &v));
	CHECK(bus_read(&mmio, 0xD0000010, 4, &v));
	pci_cfg_write(&b, df, PCI_COMMAND, 2, 0);
	CHECK(!bus_read(&mmio, 0xD0000010, 4, &v));
	CHECK(!bus_read(&pio, 0xC004, 1, &v));
	pci_cfg_write(&b, df, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	CHECK(bus_read(&mmio, 0xD0000010, 4, &v));
	CHECK(!bus_read(&pio, 0xC004, 1, &v));
	/* A BAR moved onto another device's range stays unmapped instead of clobbering it. */
	CHECK_EQ(bus_add(&mmio, 0xE0000000, 0x1000, &dummy_ops, &b, "other"), 0);
	pci_cfg_write(&b, df, PCI_BAR0 + 4, 4, 0xE0000000);
	CHECK(!d.bar[1].mapped);
	pci_bus_unmap_all(&b);
	pci_bus_destroy(&b);
	CHECK(bus_read(&mmio, 0xE0000000, 4, &v));
	CHECK(!bus_read(&mmio, 0x200000000ull, 4, &v));
	bus_destroy(&pio);
	bus_destroy(&mmio);
}

static void test_intx(void)
{
	struct bus pio, mmio;
	struct pci_bus b;
	struct pci_device d1, d2;
	bus_init(&pio, "port");
	bus_init(&mmio, "mmio");
	memset(irq_gsi, 0, sizeof(irq_gsi));
	pci_bus_init(&b, &pio, &mmio, fake_irq, NULL, &win);
	pci_device_init(&d1, "a", 1, 1, 0, 0, 0, 0, 1);
	pci_device_init(&d2, "b", 1, 2, 0, 0, 0, 0, 1);
	pci_bus_add(&b, &d1, PCI_DEVFN(1, 0));
	pci_bus_add(&b, &d2, PCI_DEVFN(5, 0)); /* same PIRQ as slot 1: (1+0)%4 == (5+0)%4 */
	unsigned g = pci_pirq_gsi[1];
	pci_set_intx(&d1, true);
	CHECK_EQ(irq_level[g], 1);
	CHECK(pci_cfg_read(&b, d1.devfn, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_set_intx(&d2, true);
	pci_set_intx(&d1, false);
	CHECK_EQ(irq_level[g], 1); /* wired-OR: d2 still holds the line */
	pci_set_intx(&d2, false);
	CHECK_EQ(irq_level[g], 0);
	/* INTX_DISABLE masks the pin but the status bit still shows the device's level. */
	pci_cfg_write(&b, d1.devfn, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
	pci_set_intx(&d1, true);
	CHECK_EQ(irq_level[g], 0);
	CHECK(pci_cfg_read(&b, d1.devfn, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
	pci_cfg_write(&b, d1.devfn, PCI_COMMAND, 2, 0);
	CHECK_EQ(irq_level[g], 1);
	pci_bus_destroy(&b);
	bus_destroy(&pio);
	bus_destroy(&mmio);
}

static void test_host_bridge(void)
{
	struct bus pio, mmio;
	struct pci_bus b;
	struct pci_host h;
	struct reset_cf9 cf9 = { .reset = on_reset };
	uint64_t v;
	bus_init(&pio, "port");
	bus_init(&mmio, "mmio");
	pci_bus_init(&b, &pio, &mmio, fake_irq, NULL, &win);
	CHECK_EQ(pci_host_init(&h, &b, &cf9), 0);
	CHECK_EQ(bus_add(&pio, PCI_HOST_PORT, PCI_HOST_PORT_LEN, &pci_host_ops, &h, "pci"), 0);
	/* Linux's type-1 probe: write the enable bit, read it back. */
	bus_write(&pio, 0xCF8, 4, 0x80000000);
	CHECK(bus_read(&pio, 0xCF8, 4, &v) && v == 0x80000000);
	CHECK(bus_read(&pio, 0xCFC, 4, &v) && v == 0x12378086);
	CHECK(bus_read(&pio, 0xCFE, 2, &v) && v == 0x1237);
	bus_write(&pio, 0xCF8, 4, 0x80000008);
	CHECK(bus_read(&pio, 0xCFE, 2, &v) && v == 0x0600);
	bus_write(&pio, 0xCF8, 4, 0x80000800); /* 00:01.0: nothing */
	CHECK(bus_read(&pio, 0xCFC, 4, &v) && v == 0xFFFFFFFF);
	bus_write(&pio, 0xCF8, 4, 0x80010000); /* bus 1: nothing */
	CHECK(bus_read(&pio, 0xCFC, 4, &v) && v == 0xFFFFFFFF);
	bus_write(&pio, 0xCF8, 4, 0x00000000); /* disabled */
	CHECK(bus_read(&pio, 0xCFC, 4, &v) && v == 0xFFFFFFFF);
	/* 0xCF9 byte accesses are the reset register, not CONFIG_ADDRESS. */
	bus_write(&pio, 0xCF8, 4, 0x80000000);
	bus_write(&pio, 0xCF9, 1, 0x02);
	CHECK_EQ(resets, 0);
	CHECK(bus_read(&pio, 0xCF9, 1, &v) && v == 0x02);
	CHECK(bus_read(&pio, 0xCF8, 4, &v) && v == 0x80000000);
	bus_write(&pio, 0xCF9, 1, 0x06);
	CHECK_EQ(resets, 1);
	bus_write(&pio, 0xCFB, 1, 0x01); /* Linux's mechanism probe byte: ignored */
	CHECK(bus_read(&pio, 0xCF8, 4, &v) && v == 0x80000000);
	pci_bus_destroy(&b);
	bus_destroy(&pio);
	bus_destroy(&mmio);
}

UNIT_MAIN(test_config_masks, test_bars, test_intx, test_host_bridge)
