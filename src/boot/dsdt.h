/* The DSDT body (AML after the table header), built from parts: one emitter per piece of the
 * platform, called in order by dsdt_build(). A machine that needs more in its DSDT (ISA devices
 * of the FV platform, ...) adds an emitter here and a field in struct acpi_config. */
#ifndef DOMUS_DSDT_H
#define DOMUS_DSDT_H
#include "boot/acpi_tables.h"
#include "boot/aml.h"

/* Emit every part the configuration asks for; errors stick in a (see aml_ok()). */
void dsdt_build(struct aml *a, const struct acpi_config *cfg);

/* \_S5: the sleep type the PM1a control register expects for soft-off. */
void dsdt_s5(struct aml *a);
/* \_SB.PCI0: the PCI host bridge with its bus, I/O and memory windows (_CRS) and the INTx
 * routing of every slot on bus 0 (_PRT, static GSIs). */
void dsdt_pci0(struct aml *a, const struct acpi_pci *pci);

#endif
