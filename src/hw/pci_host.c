#include "hw/pci_host.h"

#define CONFIG_ENABLE 0x80000000u
#define PCI_CLASS_HOST_BRIDGE 0x060000

int pci_host_init(struct pci_host *h, struct pci_bus *bus, struct reset_cf9 *cf9)
{
	h->bus = bus;
	h->cf9 = cf9;
	atomic_store(&h->addr, 0);
	pci_device_init(&h->dev, "i440fx", 0x8086, 0x1237, PCI_CLASS_HOST_BRIDGE, 0x02, 0, 0, 0);
	return pci_bus_add(bus, &h->dev, PCI_DEVFN(0, 0));
}

static uint64_t pci_host_read(void *ctx, uint64_t off, unsigned size)
{
	struct pci_host *h = ctx;
	uint64_t ones = (1ull << (8 * size)) - 1;
	if (off == 1 && size == 1)
		return reset_cf9_ops.read(h->cf9, 0, 1);
	if (off == 0 && size == 4)
		return atomic_load(&h->addr);
	if (off < 4)
		return ones;
	uint32_t a = atomic_load(&h->addr);
	/* Only bus 0 exists; disabled or other-bus cycles end in master abort (all ones). */
	if (!(a & CONFIG_ENABLE) || ((a >> 16) & 0xFF) != 0)
		return ones;
	unsigned reg = (a & 0xFC) + (unsigned)(off - 4);
	if (reg % size)
		return ones;
	return pci_cfg_read(h->bus, (uint8_t)(a >> 8), reg, size);
}

static void pci_host_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct pci_host *h = ctx;
	if (off == 1 && size == 1) {
		reset_cf9_ops.write(h->cf9, 0, 1, val);
		return;
	}
	if (off == 0 && size == 4) {
		/* Bits 1:0 are reserved and read as zero. */
		atomic_store(&h->addr, (uint32_t)val & ~3u);
		return;
	}
	if (off < 4)
		return; /* e.g. Linux's 0xCFB probe byte: nothing to select here */
	uint32_t a = atomic_load(&h->addr);
	if (!(a & CONFIG_ENABLE) || ((a >> 16) & 0xFF) != 0)
		return;
	unsigned reg = (a & 0xFC) + (unsigned)(off - 4);
	if (reg % size)
		return;
	pci_cfg_write(h->bus, (uint8_t)(a >> 8), reg, size, (uint32_t)val);
}

const struct io_ops pci_host_ops = { .read = pci_host_read, .write = pci_host_write };
