#include "le_bytes.h"
#include "unit.h"

#include <stdint.h>

#include "acpi_s5.h"
#include "boot/acpi_fv.h"
#include "boot/acpi_tables.h"

/* Run the linker/loader script the way firmware does, with the RSDP at 0xF5A00 and the tables
 * at 0x7FF0000 in a fake memory; then walk the tables from the RSDP. */
static uint8_t mem[0x100000];
#define RSDP_AT 0xF5A00u
#define TABLES_AT 0x40000u

static uint8_t *file_base(const char *name)
{
	return !strcmp(name, "etc/acpi/rsdp") ? mem + RSDP_AT : mem + TABLES_AT;
}

static uint32_t file_addr(const char *name)
{
	return !strcmp(name, "etc/acpi/rsdp") ? RSDP_AT : TABLES_AT;
}

static void run_loader(const struct acpi_fv *t)
{
	memcpy(mem + RSDP_AT, t->rsdp, sizeof(t->rsdp));
	memcpy(mem + TABLES_AT, t->tables, t->tables_len);
	for (size_t o = 0; o < t->loader_len; o += ACPI_FV_LOADER_ENTRY) {
		const uint8_t *e = t->loader + o;
		uint32_t cmd = get32(e);
		if (cmd == 2) {
			uint8_t *p = file_base((const char *)e + 4) + get32(e + 116);
			uint64_t v = 0;
			memcpy(&v, p, e[120]);
			v += file_addr((const char *)e + 60);
			memcpy(p, &v, e[120]);
		} else if (cmd == 3) {
			uint8_t *f = file_base((const char *)e + 4);
			uint8_t *sum = f + get32(e + 60);
			*sum = (uint8_t)(*sum - acpi_checksum(f + get32(e + 64), get32(e + 68)));
		} else {
			CHECK_EQ(cmd, 1);
		}
	}
}

static void test_tables_link_and_checksum(void)
{
	static struct acpi_fv t;
	struct acpi_fv_config cfg = { .nr_cpus = 3, .with_ioapic = 0, .pm_base = 0x600,
				      .sci_irq = 9, .pci_mem_start = 0x80000000u,
				      .pci_mem_end = 0xFEBFFFFFu };
	CHECK_EQ(acpi_fv_build(&t, &cfg), 0);
	run_loader(&t);
	const uint8_t *rsdp = mem + RSDP_AT;
	CHECK(!memcmp(rsdp, "RSD PTR ", 8));
	CHECK_EQ(acpi_checksum(rsdp, 20), 0);
	CHECK_EQ(acpi_checksum(rsdp, 36), 0);
	const uint8_t *xsdt = mem + get64(rsdp + 24);
	const uint8_t *rsdt = mem + get32(rsdp + 16);
	CHECK(!memcmp(xsdt, "XSDT", 4));
	CHECK(!memcmp(rsdt, "RSDT", 4));
	CHECK_EQ(acpi_checksum(xsdt, get32(xsdt + 4)), 0);
	CHECK_EQ(acpi_checksum(rsdt, get32(rsdt + 4)), 0);
	const uint8_t *fadt = mem + get64(xsdt + 36);
	const uint8_t *madt = mem + get64(xsdt + 44);
	CHECK_EQ(get32(rsdt + 36), get64(xsdt + 36));
	CHECK(!memcmp(fadt, "FACP", 4));
	CHECK_EQ(acpi_checksum(fadt, get32(fadt + 4)), 0);
	CHECK_EQ(get32(fadt + 64), 0x604); /* PM1a_CNT */
	CHECK_EQ(get32(fadt + 112) & (1u << 4), 0); /* fixed power button */
	CHECK_EQ(fadt[46], 9);
	const uint8_t *dsdt = mem + get64(fadt + 140);
	CHECK_EQ(get32(fadt + 40), get64(fadt + 140));
	CHECK(!memcmp(dsdt, "DSDT", 4));
	CHECK_EQ(acpi_checksum(dsdt, get32(dsdt + 4)), 0);
	const uint8_t *facs = mem + get32(fadt + 36);
	CHECK(!memcmp(facs, "FACS", 4));
	CHECK_EQ((get32(fadt + 36)) % 64, 0);
	/* \_S5 with the PIIX4 soft-off type 0, the way GRUB and Linux find it */
	uint32_t dlen = get32(dsdt + 4);
	uint64_t s5[4];
	check_s5(dsdt, PIIX4_SLP_TYP_SOFF, s5);
	CHECK(memmem(dsdt, dlen, "PCI0", 4) != NULL);
	CHECK(memmem(dsdt, dlen, "_PRT", 4) != NULL);
	/* MADT: three CPUs, no IOAPIC */
	CHECK(!memcmp(madt, "APIC", 4));
	CHECK_EQ(acpi_checksum(madt, get32(madt + 4)), 0);
	unsigned cpus = 0, ioapics = 0;
	for (uint32_t o = 44; o < get32(madt + 4); o += madt[o + 1]) {
		cpus += madt[o] == 0;
		ioapics += madt[o] == 1;
	}
	CHECK_EQ(cpus, 3);
	CHECK_EQ(ioapics, 0);
}

static void test_ioapic_and_limits(void)
{
	static struct acpi_fv t;
	struct acpi_fv_config cfg = { .nr_cpus = 255, .with_ioapic = 1, .pm_base = 0xB000,
				      .sci_irq = 9, .pci_mem_start = 0xC0000000u,
				      .pci_mem_end = 0xFEBFFFFFu };
	CHECK_EQ(acpi_fv_build(&t, &cfg), 0);
	run_loader(&t);
	cfg.nr_cpus = 0;
	CHECK_EQ(acpi_fv_build(&t, &cfg), -1);
	cfg.nr_cpus = 256;
	CHECK_EQ(acpi_fv_build(&t, &cfg), -1);
}

UNIT_MAIN(test_tables_link_and_checksum, test_ioapic_and_limits)
