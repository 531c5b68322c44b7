#include "hw/pci_fn.h"

#include <string.h>

void pci_fn_init(struct pci_fn *f, uint16_t vendor, uint16_t device, uint8_t rev, uint8_t class,
		 uint8_t subclass, uint8_t prog_if)
{
	memset(f->cfg, 0, sizeof(f->cfg));
	memset(f->wmask, 0, sizeof(f->wmask));
	memset(f->w1c, 0, sizeof(f->w1c));
	memset(f->bar_size, 0, sizeof(f->bar_size));
	for (int i = 0; i < 6; i++)
		f->bar_mapped[i] = PCI_NO_BAR;
	f->cfg[PCI_VENDOR_ID] = (uint8_t)vendor;
	f->cfg[PCI_VENDOR_ID + 1] = (uint8_t)(vendor >> 8);
	f->cfg[PCI_DEVICE_ID] = (uint8_t)device;
	f->cfg[PCI_DEVICE_ID + 1] = (uint8_t)(device >> 8);
	f->cfg[PCI_REVISION] = rev;
	f->cfg[PCI_PROG_IF] = prog_if;
	f->cfg[PCI_CLASS] = subclass;
	f->cfg[PCI_CLASS + 1] = class;
	f->wmask[PCI_COMMAND] = PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER;
	f->wmask[PCI_COMMAND + 1] = 0x04; /* interrupt disable */
	f->w1c[PCI_STATUS + 1] = 0xF9;    /* error bits */
	f->wmask[PCI_INT_LINE] = 0xFF;
	f->wmask[0x0C] = 0xFF; /* cache line size */
	f->wmask[0x0D] = 0xFF; /* latency timer */
}

void pci_fn_set_bar(struct pci_fn *f, int bar, uint32_t size, int io)
{
	unsigned off = PCI_BAR0 + 4u * (unsigned)bar;
	uint32_t mask = ~(size - 1) & (io ? ~3u : ~15u);
	f->bar_size[bar] = size;
	f->bar_io[bar] = (uint8_t)io;
	for (int i = 0; i < 4; i++)
		f->wmask[off + i] = (uint8_t)(mask >> (8 * i));
	f->cfg[off] = io ? 1 : 0;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void pci_fn_update_bars(struct pci_fn *f)
{
	uint16_t cmd = (uint16_t)(f->cfg[PCI_COMMAND] | f->cfg[PCI_COMMAND + 1] << 8);
	for (int i = 0; i < 6; i++) {
		if (!f->bar_size[i])
			continue;
		uint32_t raw = get32(&f->cfg[PCI_BAR0 + 4 * i]);
		uint64_t base = f->bar_io[i] ? (raw & ~3u) : (raw & ~15u);
		int on = f->bar_io[i] ? (cmd & PCI_CMD_IO) : (cmd & PCI_CMD_MEM);
		/* A BAR at 0, or an I/O BAR beyond 64 KiB (the sizing pattern), decodes nothing. */
		if (!on || base == 0 || (f->bar_io[i] && base + f->bar_size[i] > 0x10000))
			base = PCI_NO_BAR;
		if (base != f->bar_mapped[i]) {
			uint64_t old = f->bar_mapped[i];
			f->bar_mapped[i] = base;
			if (f->bar_map)
				f->bar_map(f->ctx, i, old, base);
		}
	}
}

uint32_t pci_fn_read(struct pci_fn *f, unsigned off, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size && off + i < 256; i++)
		v |= (uint32_t)f->cfg[off + i] << (8 * i);
	return v;
}

void pci_fn_write(struct pci_fn *f, unsigned off, unsigned size, uint32_t val)
{
	int bars = 0;
	for (unsigned i = 0; i < size && off + i < 256; i++) {
		unsigned o = off + i;
		uint8_t b = (uint8_t)(val >> (8 * i));
		f->cfg[o] = (uint8_t)((f->cfg[o] & ~f->wmask[o]) | (b & f->wmask[o]));
		f->cfg[o] &= (uint8_t)~(b & f->w1c[o]);
		if (o == PCI_COMMAND || (o >= PCI_BAR0 && o < PCI_BAR0 + 24))
			bars = 1;
	}
	if (bars)
		pci_fn_update_bars(f);
	if (f->written)
		f->written(f->ctx, off, size);
}
