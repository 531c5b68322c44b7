/* ACPI tables for the PC platform: RSDP (rev 2), XSDT, FADT (rev 6) with the PM1a blocks, PM
 * timer and reset register, a DSDT (boot/dsdt.c: \_S5, the PCI host bridge), and a MADT with one LAPIC per vCPU.
 *
 * acpi_build() writes the tables into buf as they will sit at guest physical address base (RSDP
 * first) and returns the bytes used, or 0 when cap is too small. The IOAPIC is listed only when
 * with_ioapic is set: on PVM hosts IOAPIC-routed interrupts are lost, so there the guest must
 * fall back to the 8259 PIC, which it does when the MADT lists no IOAPIC. */
#ifndef DOMUS_ACPI_TABLES_H
#define DOMUS_ACPI_TABLES_H
#include <stddef.h>
#include <stdint.h>

#include "boot/e820.h"

/* Where the PV PC's tables sit (the RSDP first), in the reserved BIOS area. */
#define ACPI_TABLES_ADDR BIOS_AREA_START
#define ACPI_TABLES_MAX 0x10000

/* The PCI host bridge as the DSDT describes it (hw/pci.h keeps the same windows). */
struct acpi_pci {
	uint64_t mem32_base, mem32_end; /* [base, end) */
	uint64_t mem64_base, mem64_end; /* empty when equal */
	unsigned pirq_gsi[4];           /* GSI of PIRQ A..D; slot s pin p uses (s + p) % 4 */
};

struct acpi_config {
	unsigned nr_cpus;
	int with_ioapic;
	uint16_t pm_base; /* PM1a event block; control at +4, timer at +8 */
	uint8_t sci_irq;
	int legacy_devices; /* IAPC_BOOT_ARCH: ISA devices, VGA present (FV) */
	const struct acpi_pci *pci; /* NULL: no PCI host bridge in the DSDT */
	uint16_t pvpanic_port;      /* 0: no pvpanic device */
};

size_t acpi_build(uint8_t *buf, size_t cap, uint64_t base, const struct acpi_config *cfg);
/* Sum of bytes modulo 256: 0 for a table with a right checksum. */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

#endif
