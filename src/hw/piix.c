#include "hw/piix.h"

#include <string.h>

static void pm_written(struct pci_device *d, unsigned off, unsigned size, uint32_t val)
{
	struct piix *p = d->ctx;
	(void)val;
	if (!(off < PIIX4_PMBA + 4 && off + size > PIIX4_PMBA) &&
	    !(off <= PIIX4_PMREGMISC && off + size > PIIX4_PMREGMISC))
		return;
	const uint8_t *c = p->pm.cfg;
	uint64_t base = (uint64_t)(c[PIIX4_PMBA] | c[PIIX4_PMBA + 1] << 8) & 0xFFC0;
	if (!(c[PIIX4_PMREGMISC] & 1) || base == 0)
		base = PIIX_NO_PM;
	if (base != p->pm_base) {
		uint64_t old = p->pm_base;
		p->pm_base = base;
		if (p->pm_moved)
			p->pm_moved(p->ctx, old, base);
	}
}

static const struct pci_device_ops pm_ops = { .cfg_written = pm_written };

/* BAR4 holds both channels' registers; each channel's model sees its own 8 bytes. */
static uint64_t bm_read(void *ctx, uint64_t off, unsigned size)
{
	struct piix *p = ctx;
	return p->bm_ops->read(p->bm_ctx[off >= 8], off & 7, size);
}

static void bm_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct piix *p = ctx;
	p->bm_ops->write(p->bm_ctx[off >= 8], off & 7, size, val);
}

static const struct io_ops bm_split_ops = { .read = bm_read, .write = bm_write };

void piix_init(struct piix *p, void *ctx, void (*pm_moved)(void *, uint64_t, uint64_t),
	       const struct io_ops *bm_ops, void *bm0, void *bm1)
{
	memset(p, 0, sizeof(*p));
	p->ctx = ctx;
	p->pm_moved = pm_moved;
	p->pm_base = PIIX_NO_PM;
	p->bm_ops = bm_ops;
	p->bm_ctx[0] = bm0;
	p->bm_ctx[1] = bm1;

	struct pci_device *f = &p->isa;
	pci_device_init(f, "piix3-isa", 0x8086, 0x7000, 0x060100, 0x00, 0, 0, 0);
	f->cfg[PCI_HEADER_TYPE] = 0x80; /* multi-function */
	pci_cfg_set16(f, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	f->cfg[PCI_STATUS + 1] = 0x02; /* medium DEVSEL */
	for (unsigned o = 0x4C; o < 0xB0; o++) /* chipset registers: kept, no effect here */
		f->wmask[o] = 0xFF;
	for (unsigned i = 0; i < 4; i++) {
		f->cfg[PIIX_PIRQ_RC + i] = 0x80;
		f->wmask[PIIX_PIRQ_RC + i] = 0x8F;
	}

	f = &p->ide;
	pci_device_init(f, "piix3-ide", 0x8086, 0x7010, 0x010180, 0x00, 0, 0, 0);
	f->cfg[PCI_STATUS + 1] = 0x02;
	pci_add_bar(f, PIIX_IDE_BM_BAR, PCI_BAR_IO, false, PIIX_IDE_BM_LEN, &bm_split_ops, p);
	for (unsigned o = 0x40; o < 0x48; o++) /* IDETIM, SIDETIM: timings only */
		f->wmask[o] = 0xFF;
	f->cfg[0x41] = 0x80; /* primary channel decode enable */
	f->cfg[0x43] = 0x80; /* secondary channel decode enable */

	f = &p->pm;
	pci_device_init(f, "piix4-pm", 0x8086, 0x7113, 0x068000, 0x03, 0, 0, 1);
	f->ops = &pm_ops;
	f->ctx = p;
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

void piix_i440fx(struct pci_device *h)
{
	pci_cfg_set16(h, PCI_SUBSYSTEM_VENDOR_ID, 0x1AF4);
	pci_cfg_set16(h, PCI_SUBSYSTEM_ID, 0x1100);
	for (unsigned i = 0; i < 7; i++) {
		h->cfg[I440FX_PAM0 + i] = 0;
		h->wmask[I440FX_PAM0 + i] = i == 0 ? 0x30 : 0x33;
	}
	h->cfg[I440FX_SMRAM] = 0x02; /* C_BASE_SEG: compatible SMRAM at 0xA0000 */
	h->wmask[I440FX_SMRAM] = 0x78;
}
