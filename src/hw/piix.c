#include "hw/piix.h"

#include <string.h>

static void ide_bar_map(void *ctx, int bar, uint64_t old_base, uint64_t new_base)
{
	struct piix *p = ctx;
	if (bar == PIIX_IDE_BM_BAR && p->bm_moved)
		p->bm_moved(p->ctx, old_base, new_base);
}

static void pm_written(void *ctx, unsigned off, unsigned size)
{
	struct piix *p = ctx;
	if (!(off < PIIX4_PMBA + 4 && off + size > PIIX4_PMBA) &&
	    !(off <= PIIX4_PMREGMISC && off + size > PIIX4_PMREGMISC))
		return;
	const uint8_t *c = p->pm.cfg;
	uint64_t base = (uint64_t)(c[PIIX4_PMBA] | c[PIIX4_PMBA + 1] << 8) & 0xFFC0;
	if (!(c[PIIX4_PMREGMISC] & 1) || base == 0)
		base = PCI_NO_BAR;
	if (base != p->pm_base) {
		uint64_t old = p->pm_base;
		p->pm_base = base;
		if (p->pm_moved)
			p->pm_moved(p->ctx, old, base);
	}
}

void piix_init(struct piix *p, void *ctx, void (*pm_moved)(void *, uint64_t, uint64_t),
	       void (*bm_moved)(void *, uint64_t, uint64_t))
{
	memset(p, 0, sizeof(*p));
	p->ctx = ctx;
	p->pm_moved = pm_moved;
	p->bm_moved = bm_moved;
	p->pm_base = PCI_NO_BAR;

	struct pci_fn *f = &p->isa;
	pci_fn_init(f, 0x8086, 0x7000, 0x00, 0x06, 0x01, 0x00);
	f->cfg[PCI_HEADER_TYPE] = PCI_HEADER_MULTI;
	f->cfg[PCI_COMMAND] = PCI_CMD_IO | PCI_CMD_MEM | PCI_CMD_MASTER;
	f->cfg[PCI_STATUS + 1] = 0x02; /* medium DEVSEL */
	for (unsigned i = 0; i < 4; i++) {
		f->cfg[PIIX_PIRQ_RC + i] = 0x80;
		f->wmask[PIIX_PIRQ_RC + i] = 0x8F;
	}
	for (unsigned o = 0x4C; o < 0xB0; o++) /* misc chipset registers: kept, no effect */
		if (o < PIIX_PIRQ_RC || o > PIIX_PIRQ_RC + 3)
			f->wmask[o] = 0xFF;

	f = &p->ide;
	pci_fn_init(f, 0x8086, 0x7010, 0x00, 0x01, 0x01, 0x80);
	f->ctx = p;
	f->bar_map = ide_bar_map;
	f->cfg[PCI_STATUS + 1] = 0x02;
	pci_fn_set_bar(f, PIIX_IDE_BM_BAR, PIIX_IDE_BM_LEN, 1);
	for (unsigned o = 0x40; o < 0x48; o++) /* IDETIM, SIDETIM: timings only */
		f->wmask[o] = 0xFF;
	f->cfg[0x41] = 0x80; /* primary channel decode enable */
	f->cfg[0x43] = 0x80; /* secondary channel decode enable */

	f = &p->pm;
	pci_fn_init(f, 0x8086, 0x7113, 0x03, 0x06, 0x80, 0x00);
	f->ctx = p;
	f->written = pm_written;
	f->cfg[PCI_INT_PIN] = 1;
	f->cfg[PIIX4_PMBA] = 0x01; /* I/O space indicator */
	f->wmask[PIIX4_PMBA] = 0xC0;
	f->wmask[PIIX4_PMBA + 1] = 0xFF;
	f->cfg[PIIX4_DEVACTB + 3] = 0x02; /* APMC_EN */
	f->wmask[PIIX4_PMREGMISC] = 0x01;
	f->cfg[PIIX4_SMBHSTBASE] = 0x01;
	f->wmask[PIIX4_SMBHSTBASE] = 0xF0;
	f->wmask[PIIX4_SMBHSTBASE + 1] = 0xFF;
	f->wmask[0xD2] = 0x0F; /* SMBHSTCFG */
}

void piix_preset_pm(struct piix *p, uint16_t base)
{
	p->pm.cfg[PIIX4_PMBA] = (uint8_t)((base & 0xC0) | 1);
	p->pm.cfg[PIIX4_PMBA + 1] = (uint8_t)(base >> 8);
	p->pm.cfg[PIIX4_PMREGMISC] = 1;
	p->pm_base = base & 0xFFC0;
}

int piix_pci_irq(const struct piix *p, unsigned dev, unsigned pin)
{
	if (pin < 1 || pin > 4)
		return -1;
	uint8_t r = p->isa.cfg[PIIX_PIRQ_RC + ((dev + pin - 2) & 3)];
	if (r & 0x80)
		return -1;
	r &= 0x0F;
	/* IRQs 0, 1, 2, 8 and 13 are reserved in the route registers. */
	if (r < 3 || r == 8 || r == 13)
		return -1;
	return r;
}
