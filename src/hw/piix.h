/* The PIIX south-bridge functions of the FV PC, as QEMU's "pc" machine has them at 00:01:
 *   .0 PIIX3 PCI-to-ISA bridge (82371SB, 8086:7000): PIRQ route registers 0x60-0x63 (reset
 *      0x80: disabled), multi-function header. The ELCR (0x4D0/0x4D1) is in KVM's 8259.
 *   .1 PIIX3 IDE (8086:7010): legacy-mode ports and IRQs 14/15 (prog-if 0x80), the bus-master
 *      registers in BAR4, IDE timing registers with both channels decoding.
 *   .3 PIIX4 power management (82371AB, 8086:7113): PMBA (0x40) and PMREGMISC (0x80) place the
 *      ACPI registers in I/O space; DEVACTB byte 0x5B has APMC_EN (0x02) set, telling firmware
 *      SMM is already set up, so SeaBIOS does not try to install an SMI handler.
 * The owner is told when the bus-master BAR or the PM I/O block moves. */
#ifndef DOMUS_PIIX_H
#define DOMUS_PIIX_H
#include <stdint.h>

#include "hw/pci_fn.h"

#define PIIX_DEVFN_ISA 0x08
#define PIIX_DEVFN_IDE 0x09
#define PIIX_DEVFN_PM 0x0B
#define PIIX_PIRQ_RC 0x60
#define PIIX_IDE_BM_BAR 4
#define PIIX_IDE_BM_LEN 16
#define PIIX4_PMBA 0x40
#define PIIX4_DEVACTB 0x58
#define PIIX4_PMREGMISC 0x80
#define PIIX4_PM_LEN 64
#define PIIX4_SMBHSTBASE 0x90

struct piix {
	struct pci_fn isa, ide, pm;
	uint64_t pm_base; /* PCI_NO_BAR when disabled */
	void *ctx;
	void (*pm_moved)(void *ctx, uint64_t old_base, uint64_t new_base);
	void (*bm_moved)(void *ctx, uint64_t old_base, uint64_t new_base);
};

void piix_init(struct piix *p, void *ctx, void (*pm_moved)(void *, uint64_t, uint64_t),
	       void (*bm_moved)(void *, uint64_t, uint64_t));
/* Set PMBA and the PM I/O enable as firmware does, without calling pm_moved (the owner has
 * already placed the block at base). */
void piix_preset_pm(struct piix *p, uint16_t base);
/* ISA IRQ that PCI interrupt pin (1 = INTA) of device dev is routed to, or -1 if disabled;
 * the swizzle of this board is (dev - 1 + pin - 1) & 3 onto PIRQA-D. */
int piix_pci_irq(const struct piix *p, unsigned dev, unsigned pin);

#endif
