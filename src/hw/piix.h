/* The PIIX south-bridge functions of the FV PC, as QEMU's "pc" machine has them at 00:01, on the
 * PCI layer of hw/pci.h:
 *   .0 PIIX3 PCI-to-ISA bridge (82371SB, 8086:7000): PIRQ route registers 0x60-0x63 (reset
 *      0x80: disabled; kept for the firmware, the machine's INTx wiring is hw/pci.c's), the
 *      multi-function header. The ELCR (0x4D0/0x4D1) is in KVM's 8259.
 *   .1 PIIX3 IDE (8086:7010): legacy-mode ports and IRQs 14/15 (prog-if 0x80), the bus-master
 *      registers of both channels in BAR4 (16 bytes of I/O), both channels decoding.
 *   .3 PIIX4 power management (82371AB, 8086:7113): PMBA (0x40) and PMREGMISC (0x80) place the
 *      ACPI registers in I/O space; DEVACTB byte 0x5B has APMC_EN (0x02) set, telling firmware
 *      SMM is already set up, so SeaBIOS does not try to install an SMI handler.
 * piix_i440fx() adds what firmware expects of the host bridge at 00:00.0: the QEMU subsystem id
 * (1af4:1100, how SeaBIOS recognises a board it knows) and PAM/SMRAM registers that read 0 at
 * power-on and keep what is written (memory below 1 MiB is RAM either way here). */
#ifndef DOMUS_PIIX_H
#define DOMUS_PIIX_H
#include <stdint.h>

#include "hw/pci.h"
#include "vmm/bus.h"

#define PIIX_DEVFN_ISA 0x08
#define PIIX_DEVFN_IDE 0x09
#define PIIX_DEVFN_PM 0x0B
#define PIIX_PIRQ_RC 0x60
#define PIIX_IDE_BM_BAR 4
#define PIIX_IDE_BM_LEN 16
#define PIIX4_PMBA 0x40
#define PIIX4_DEVACTB 0x58
#define PIIX4_PMREGMISC 0x80
#define PIIX4_SMBHSTBASE 0x90
#define I440FX_PAM0 0x59
#define I440FX_SMRAM 0x72
#define PIIX_NO_PM (~0ull)

struct piix {
	struct pci_device isa, ide, pm;
	uint64_t pm_base; /* PIIX_NO_PM when disabled */
	void *ctx;
	void (*pm_moved)(void *ctx, uint64_t old_base, uint64_t new_base);
	/* bus-master registers: channel 0 at BAR4 + 0, channel 1 at + 8 */
	const struct io_ops *bm_ops;
	void *bm_ctx[2];
};

/* bm_ops/bm_ctx serve the two channels' 8 bus-master bytes each. */
void piix_init(struct piix *p, void *ctx, void (*pm_moved)(void *, uint64_t, uint64_t),
	       const struct io_ops *bm_ops, void *bm0, void *bm1);
/* Set PMBA and the PM I/O enable as firmware does, without calling pm_moved (the owner has
 * already placed the block at base). */
void piix_preset_pm(struct piix *p, uint16_t base);
/* Make the host bridge function look like the i440FX firmware knows. */
void piix_i440fx(struct pci_device *host);

#endif
