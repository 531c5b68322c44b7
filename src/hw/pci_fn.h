/* One PCI function's type-0 configuration space (PCI Local Bus 3.0, chapter 6): 256 bytes with
 * a per-bit write mask, write-1-to-clear status bits, and up to six BARs whose decoding follows
 * the command register. The owner learns of every BAR move through bar_map() and of every write
 * through written(), so chipset registers (PAM, PIRQ, PMBA) live in the owner's code.
 *
 * Pure: no KVM, no bus. i440fx.c routes configuration cycles here. */
#ifndef DOMUS_PCI_FN_H
#define DOMUS_PCI_FN_H
#include <stdint.h>

#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_PROG_IF 0x09
#define PCI_CLASS 0x0A /* sub-class, then class at 0x0B */
#define PCI_HEADER_TYPE 0x0E
#define PCI_BAR0 0x10
#define PCI_SUBSYS_VENDOR 0x2C
#define PCI_SUBSYS_ID 0x2E
#define PCI_INT_LINE 0x3C
#define PCI_INT_PIN 0x3D

#define PCI_CMD_IO 0x0001
#define PCI_CMD_MEM 0x0002
#define PCI_CMD_MASTER 0x0004
#define PCI_HEADER_MULTI 0x80
#define PCI_NO_BAR (~0ull)

struct pci_fn {
	uint8_t cfg[256];
	uint8_t wmask[256];
	uint8_t w1c[256];
	uint32_t bar_size[6]; /* 0: no BAR; a power of two otherwise */
	uint8_t bar_io[6];
	uint64_t bar_mapped[6]; /* current decoded base, or PCI_NO_BAR */
	void *ctx;
	/* Called when BAR bar starts, stops (PCI_NO_BAR) or moves decoding. */
	void (*bar_map)(void *ctx, int bar, uint64_t old_base, uint64_t new_base);
	/* Called after a guest write of size bytes at off. */
	void (*written)(void *ctx, unsigned off, unsigned size);
};

/* Header with ids and class; command, BARs and interrupt line writable. */
void pci_fn_init(struct pci_fn *f, uint16_t vendor, uint16_t device, uint8_t rev, uint8_t class,
		 uint8_t subclass, uint8_t prog_if);
/* Declare BAR bar of size bytes (power of two, I/O ≥ 4, memory ≥ 16). */
void pci_fn_set_bar(struct pci_fn *f, int bar, uint32_t size, int io);
uint32_t pci_fn_read(struct pci_fn *f, unsigned off, unsigned size);
void pci_fn_write(struct pci_fn *f, unsigned off, unsigned size, uint32_t val);
/* Recompute BAR decoding (after reset or an owner's change of the command register). */
void pci_fn_update_bars(struct pci_fn *f);

#endif
