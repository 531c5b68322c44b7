/* ACPI tables of the FV PC, handed to the firmware through fw_cfg: "etc/acpi/rsdp" (the RSDP,
 * placed by the firmware in the F segment), "etc/acpi/tables" (FACS, DSDT, FADT, MADT, RSDT,
 * XSDT; placed in high memory) and "etc/table-loader", the QEMU linker/loader script telling
 * the firmware to allocate both, patch the pointers between them and fix the checksums.
 *
 * Why our own tables and not SeaBIOS's built-in ones: on PVM hosts the MADT must not list the
 * IOAPIC (interrupts routed through it are lost there, docs/pvm-host.md), which
 * SeaBIOS's MADT always does; and the FADT must describe the fixed power button that
 * `domus shutdown` presses, the PIIX4 PM block and the \_S5 value our PM device acts on. */
#ifndef DOMUS_ACPI_FV_H
#define DOMUS_ACPI_FV_H
#include <stddef.h>
#include <stdint.h>

#define ACPI_FV_LOADER_ENTRY 128
#define ACPI_FV_MAX_LOADER 64
#define PIIX4_SLP_TYP_SOFF 0 /* PIIX4 datasheet: SUS_TYP 000b is soft off (S5) */

struct acpi_fv_config {
	unsigned nr_cpus;
	int with_ioapic;
	uint16_t pm_base;
	uint8_t sci_irq;
	uint32_t pci_mem_start, pci_mem_end; /* 32-bit PCI window for the host bridge's _CRS */
};

struct acpi_fv {
	uint8_t rsdp[36];
	uint8_t tables[8192];
	size_t tables_len;
	uint8_t loader[ACPI_FV_MAX_LOADER * ACPI_FV_LOADER_ENTRY];
	size_t loader_len;
};

/* Build everything; 0, or -1 when the tables do not fit (too many CPUs). */
int acpi_fv_build(struct acpi_fv *t, const struct acpi_fv_config *cfg);

#endif
