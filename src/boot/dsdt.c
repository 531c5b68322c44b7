#include "boot/dsdt.h"

#include "hw/acpi_pm.h"

void dsdt_s5(struct aml *a)
{
	aml_name(a, "_S5_");
	aml_open_package(a, 4);
	aml_int(a, ACPI_S5_TYP);
	aml_int(a, ACPI_S5_TYP);
	aml_int(a, 0);
	aml_int(a, 0);
	aml_close(a);
}

void dsdt_pci0(struct aml *a, const struct acpi_pci *pci)
{
	aml_open_scope(a, "\\_SB_");
	aml_open_device(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A03");
	aml_name(a, "_ADR");
	aml_int(a, 0);
	aml_name(a, "_UID");
	aml_int(a, 0);
	aml_name(a, "_BBN");
	aml_int(a, 0);

	aml_name(a, "_CRS");
	aml_open_buffer(a);
	aml_res_bus(a, 0, 0xFF);
	aml_res_io(a, 0xCF8, 8);
	/* All ports but the configuration mechanism pass down to the bus, as on a PC. */
	aml_res_io_window(a, 0x0000, 0x0CF7);
	aml_res_io_window(a, 0x0D00, 0xFFFF);
	aml_res_mem32_window(a, 0x000A0000, 0x000BFFFF, false); /* legacy VGA */
	aml_res_mem32_window(a, (uint32_t)pci->mem32_base, (uint32_t)(pci->mem32_end - 1), false);
	if (pci->mem64_end > pci->mem64_base)
		aml_res_mem64_window(a, pci->mem64_base, pci->mem64_end - 1, true);
	aml_res_end(a);
	aml_close(a);

	/* _PRT: Package { Address (slot << 16 | 0xFFFF), Pin (0 = INTA), Source (0 = a GSI),
	 * Source index (the GSI) } for every slot and pin, the same swizzle hw/pci.c wires. */
	aml_name(a, "_PRT");
	aml_open_package(a, 31 * 4);
	for (unsigned slot = 1; slot < 32; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			aml_open_package(a, 4);
			aml_int(a, (uint64_t)slot << 16 | 0xFFFF);
			aml_int(a, pin);
			aml_int(a, 0);
			aml_int(a, pci->pirq_gsi[(slot + pin) % 4]);
			aml_close(a);
		}
	}
	aml_close(a);

	aml_close(a); /* Device */
	aml_close(a); /* Scope */
}

/* \_SB.PEVT: the pvpanic port, so Linux's pvpanic driver finds it (CONFIG_PVPANIC_MMIO). */
static void dsdt_pvpanic(struct aml *a, uint16_t port)
{
	static const char hid[] = "QEMU0001";
	aml_open_scope(a, "\\_SB_");
	aml_open_device(a, "PEVT");
	aml_name(a, "_HID");
	aml_byte(a, 0x0D); /* StringPrefix */
	aml_bytes(a, hid, sizeof(hid)); /* with its NUL */
	aml_name(a, "_CRS");
	aml_open_buffer(a);
	aml_res_io(a, port, 1);
	aml_res_end(a);
	aml_close(a);
	aml_close(a); /* Device */
	aml_close(a); /* Scope */
}

void dsdt_build(struct aml *a, const struct acpi_config *cfg)
{
	dsdt_s5(a);
	if (cfg->pvpanic_port)
		dsdt_pvpanic(a, cfg->pvpanic_port);
	if (cfg->pci)
		dsdt_pci0(a, cfg->pci);
}
