/* MSI-X (hw/pci_msix.c): the capability, table and PBA accesses, per-vector and function
 * masking with pending vectors delivered on unmask, and accesses out of range. */
#include "unit.h"

#include "hw/pci.h"
#include "hw/pci_msix.h"

#define NVEC 4
#define DEVFN PCI_DEVFN(2, 0)

static unsigned fired[NVEC + 1], routed[NVEC + 1];
static bool route_valid[NVEC + 1];
static uint64_t route_addr[NVEC + 1];
static uint32_t route_data[NVEC + 1];

static void fire(void *ctx, unsigned vec)
{
	(void)ctx;
	fired[vec < NVEC ? vec : NVEC]++;
}

static void route(void *ctx, unsigned vec, bool valid, uint64_t addr, uint32_t data)
{
	(void)ctx;
	unsigned v = vec < NVEC ? vec : NVEC;
	routed[v]++;
	route_valid[v] = valid;
	route_addr[v] = addr;
	route_data[v] = data;
}

static const struct msi_sink sink = { .route = route, .fire = fire };

static struct bus pio, mmio;
static struct pci_bus bus;
static struct pci_device dev;
static struct pci_msix m;

static void no_irq(void *ctx, unsigned gsi, int level)
{
	(void)ctx, (void)gsi, (void)level;
}

static void dev_cfg_written(struct pci_device *d, unsigned off, unsigned size, uint32_t val)
{
	(void)d, (void)val;
	pci_msix_cfg_written(&m, off, size);
}

static const struct pci_device_ops dev_ops = { .cfg_written = dev_cfg_written };

static void setup(void)
{
	memset(fired, 0, sizeof(fired));
	memset(routed, 0, sizeof(routed));
	bus_init(&pio, "port");
	bus_init(&mmio, "mmio");
	static const struct pci_windows win = { 0xC000, 0x10000, 0xC0000000, 0xFC000000, 0, 0 };
	pci_bus_init(&bus, &pio, &mmio, no_irq, NULL, &win);
	pci_device_init(&dev, "msix", 0x1AF4, 0x1041, 0x020000, 1, 0x1AF4, 1, 1);
	dev.ops = &dev_ops;
	CHECK_EQ(pci_msix_init(&m, &dev, NVEC, 1, 0, 0x800, &sink), 0);
	CHECK_EQ(pci_bus_add(&bus, &dev, DEVFN), 0);
}

static void teardown(void)
{
	pci_msix_destroy(&m);
	pci_bus_destroy(&bus);
}

static void ctrl(uint16_t v)
{
	pci_cfg_write(&bus, DEVFN, m.cap + 2, 2, v);
}

static void set_entry(unsigned v, uint64_t addr, uint32_t data, uint32_t vctrl)
{
	pci_msix_table_write(&m, true, v * 16 + 0, 8, addr);
	pci_msix_table_write(&m, true, v * 16 + 8, 4, data);
	pci_msix_table_write(&m, true, v * 16 + 12, 4, vctrl);
}

static void test_capability(void)
{
	struct pci_device d;
	struct pci_msix bad;
	pci_device_init(&d, "x", 1, 2, 0, 0, 1, 2, 0);
	CHECK(pci_msix_init(&bad, &d, 0, 1, 0, 0x800, &sink) < 0);
	CHECK(pci_msix_init(&bad, &d, MSIX_MAX_VECTORS + 1, 1, 0, 0x800, &sink) < 0);
	CHECK(pci_msix_init(&bad, &d, 1, 6, 0, 0x800, &sink) < 0);
	CHECK(pci_msix_init(&bad, &d, 1, 1, 4, 0x800, &sink) < 0);
	setup();
	/* Table size - 1, table and PBA offset | BIR; only enable and mask-all are writable. */
	CHECK_EQ(pci_cfg_read(&bus, DEVFN, m.cap, 1), PCI_CAP_ID_MSIX);
	CHECK_EQ(pci_cfg_read(&bus, DEVFN, m.cap + 2, 2), NVEC - 1);
	CHECK_EQ(pci_cfg_read(&bus, DEVFN, m.cap + 4, 4), 0x000 | 1);
	CHECK_EQ(pci_cfg_read(&bus, DEVFN, m.cap + 8, 4), 0x800 | 1);
	ctrl(0xFFFF);
	CHECK_EQ(pci_cfg_read(&bus, DEVFN, m.cap + 2, 2),
		 MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL | (NVEC - 1));
	CHECK(pci_msix_enabled(&m));
	ctrl(0);
	CHECK(!pci_msix_enabled(&m));
	teardown();
}

static void test_table_and_pba(void)
{
	setup();
	/* Power-on: every vector masked, zero message. */
	for (unsigned v = 0; v < NVEC; v++) {
		CHECK_EQ(pci_msix_table_read(&m, true, v * 16 + 12, 4), MSIX_VECTOR_MASKED);
		CHECK_EQ(pci_msix_table_read(&m, true, v * 16, 8), 0);
	}
	set_entry(2, 0xFEE01000ull | 0x123400000000ull, 0x4041, MSIX_VECTOR_MASKED);
	CHECK_EQ(pci_msix_table_read(&m, true, 2 * 16 + 0, 4), 0xFEE01000u);
	CHECK_EQ(pci_msix_table_read(&m, true, 2 * 16 + 4, 4), 0x1234);
	CHECK_EQ(pci_msix_table_read(&m, true, 2 * 16 + 0, 8), 0x1234FEE01000ull);
	CHECK_EQ(pci_msix_table_read(&m, true, 2 * 16 + 8, 8),
		 (uint64_t)MSIX_VECTOR_MASKED << 32 | 0x4041);
	/* The route follows the entry, valid only while MSI-X is enabled. */
	CHECK(routed[2] > 0);
	CHECK(!route_valid[2]);
	CHECK_EQ(route_addr[2], 0x1234FEE01000ull);
	CHECK_EQ(route_data[2], 0x4041);
	/* Reserved vector-control bits are dropped. */
	pci_msix_table_write(&m, true, 2 * 16 + 12, 4, 0xFFFFFFFF);
	CHECK_EQ(pci_msix_table_read(&m, true, 2 * 16 + 12, 4), MSIX_VECTOR_MASKED);
	/* Byte, word and misaligned table accesses are ignored (read 0). */
	pci_msix_table_write(&m, true, 2 * 16 + 8, 2, 0xFFFF);
	pci_msix_table_write(&m, true, 2 * 16 + 9, 4, 0xFFFFFFFF);
	pci_msix_table_write(&m, true, 2 * 16 + 4, 8, ~0ull);
	CHECK_EQ(pci_msix_table_read(&m, true, 2 * 16 + 8, 4), 0x4041);
	CHECK_EQ(pci_msix_table_read(&m, true, 2 * 16 + 8, 2), 0);
	CHECK_EQ(pci_msix_table_read(&m, true, 2 * 16 + 9, 4), 0);
	/* Past the last entry: reads 0, writes go nowhere (and touch no other entry). */
	CHECK_EQ(pci_msix_table_read(&m, true, NVEC * 16, 4), 0);
	CHECK_EQ(pci_msix_table_read(&m, true, NVEC * 16 - 4, 8), 0);
	pci_msix_table_write(&m, true, NVEC * 16 + 8, 4, 0x99);
	pci_msix_table_write(&m, true, 0x7F0, 8, ~0ull);
	CHECK_EQ(pci_msix_table_read(&m, true, NVEC * 16 + 8, 4), 0);
	for (unsigned v = 0; v < NVEC; v++)
		CHECK(pci_msix_table_read(&m, true, v * 16 + 8, 4) != 0x99);
	/* The PBA: 8 bytes of pending bits, read-only; beyond them reads 0. */
	pci_msix_notify(&m, 1);
	pci_msix_notify(&m, 3);
	CHECK_EQ(pci_msix_table_read(&m, false, 0, 8), 0xA);
	CHECK_EQ(pci_msix_table_read(&m, false, 0, 4), 0xA);
	CHECK_EQ(pci_msix_table_read(&m, false, 0, 1), 0xA);
	CHECK_EQ(pci_msix_table_read(&m, false, 4, 4), 0);
	CHECK_EQ(pci_msix_table_read(&m, false, 8, 4), 0);
	CHECK_EQ(pci_msix_table_read(&m, false, 6, 4), 0);
	pci_msix_table_write(&m, false, 0, 8, 0);
	CHECK_EQ(pci_msix_table_read(&m, false, 0, 8), 0xA);
	/* Out-of-range vectors are ignored. */
	pci_msix_notify(&m, NVEC);
	pci_msix_notify(&m, 63);
	CHECK_EQ(pci_msix_table_read(&m, false, 0, 8), 0xA);
	CHECK_EQ(fired[NVEC], 0);
	teardown();
}

static void test_masking(void)
{
	setup();
	set_entry(0, 0xFEE00000, 0x30, 0);
	set_entry(1, 0xFEE00000, 0x31, MSIX_VECTOR_MASKED);
	/* MSI-X off: a notify only sets the pending bit. */
	pci_msix_notify(&m, 0);
	CHECK_EQ(fired[0], 0);
	CHECK_EQ(pci_msix_table_read(&m, false, 0, 8), 1);
	/* Enabling delivers vector 0 (unmasked) and routes every vector as valid. */
	ctrl(MSIX_CTRL_ENABLE);
	CHECK_EQ(fired[0], 1);
	CHECK_EQ(pci_msix_table_read(&m, false, 0, 8), 0);
	CHECK(route_valid[0] && route_valid[1]);
	CHECK_EQ(route_data[1], 0x31);
	pci_msix_notify(&m, 0);
	CHECK_EQ(fired[0], 2);
	/* Vector 1 is masked: pending until unmasked, then delivered once. */
	pci_msix_notify(&m, 1);
	pci_msix_notify(&m, 1);
	CHECK_EQ(fired[1], 0);
	CHECK_EQ(pci_msix_table_read(&m, false, 0, 8), 2);
	pci_msix_table_write(&m, true, 1 * 16 + 12, 4, 0);
	CHECK_EQ(fired[1], 1);
	CHECK_EQ(pci_msix_table_read(&m, false, 0, 8), 0);
	/* Function mask: everything pends, unmasking the function delivers. */
	ctrl(MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL);
	pci_msix_notify(&m, 0);
	pci_msix_notify(&m, 1);
	CHECK_EQ(fired[0], 2);
	CHECK_EQ(fired[1], 1);
	CHECK_EQ(pci_msix_table_read(&m, false, 0, 8), 3);
	/* Unmasking one vector while the function is masked delivers nothing. */
	pci_msix_table_write(&m, true, 0 * 16 + 12, 4, 0);
	CHECK_EQ(fired[0], 2);
	ctrl(MSIX_CTRL_ENABLE);
	CHECK_EQ(fired[0], 3);
	CHECK_EQ(fired[1], 2);
	CHECK_EQ(pci_msix_table_read(&m, false, 0, 8), 0);
	/* Disabling invalidates the routes; a function reset masks all and forgets pending. */
	pci_msix_notify(&m, 2);
	ctrl(0);
	CHECK(!route_valid[0]);
	pci_msix_notify(&m, 0);
	CHECK_EQ(fired[0], 3);
	pci_msix_reset(&m);
	CHECK_EQ(pci_msix_table_read(&m, false, 0, 8), 0);
	CHECK_EQ(pci_msix_table_read(&m, true, 0 * 16 + 12, 4), MSIX_VECTOR_MASKED);
	CHECK_EQ(pci_msix_table_read(&m, true, 0 * 16 + 8, 4), 0);
	ctrl(MSIX_CTRL_ENABLE);
	CHECK_EQ(fired[0], 3);
	CHECK_EQ(fired[2], 0);
	teardown();
}

UNIT_MAIN(test_capability, test_table_and_pba, test_masking)
