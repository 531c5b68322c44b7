/* docs/platform.md against the code: every hex number and every "IRQ n" / "GSI a, b, ..." /
 * "SCI n" in the document must be one this test knows for that table row, and the value the
 * code has for it (a constant, or what the code builds: the e820 map, the ACPI tables, the
 * MSI-X capability, the firmware's ROM address) must be the document's. Every entry here must
 * also still be in the document. So a wrong number in the document, a new unchecked one, or a
 * changed constant fails `make unit`. Run from the top directory (as `make unit` does). */
#include "le_bytes.h"
#include "unit.h"

#include <regex.h>
#include <stdint.h>
#include <unistd.h>

#include "boot/acpi_tables.h"
#include "boot/boot.h"
#include "boot/e820.h"
#include "boot/firmware.h"
#include "hw/acpi_pm.h"
#include "hw/debugcon.h"
#include "hw/fw_cfg.h"
#include "hw/i8042.h"
#include "hw/pc_platform.h"
#include "hw/pci.h"
#include "hw/pci_host.h"
#include "hw/pvpanic.h"
#include "hw/vga.h"
#include "virtio/virtio_pci.h"
#include "vmm/boot_entry.h"
#include "vmm/ram_layout.h"

#define DOC "docs/platform.md"

struct fact {
	const char *row;   /* the table row's first cell ("-" outside the tables) */
	uint64_t doc;      /* the number as the document writes it */
	uint64_t code;     /* what the code has */
	bool seen;
};

#define MAX_FACTS 160
static struct fact facts[MAX_FACTS];
static unsigned nfacts;

static void fact(const char *row, uint64_t doc, uint64_t code)
{
	if (nfacts < MAX_FACTS)
		facts[nfacts++] = (struct fact){ row, doc, code, false };
	else
		CHECK(!"too many facts");
}

static int resets;
static void on_reset(void *ctx)
{
	(void)ctx;
	resets++;
}

/* The values the code produces, besides plain constants. */
static struct e820_table e820;
static uint8_t acpi[ACPI_TABLES_MAX];
static uint64_t fadt_reset_addr, fadt_reset_value, madt_lapic;
static uint32_t msix_table, msix_pba;
static uint64_t rom_gpa;

static void build_code_views(void)
{
	struct ram_layout l;
	ram_layout_for(256ull << 20, &l);
	CHECK_EQ(e820_build(&e820, &l), 0);
	CHECK(e820.nr >= 4);

	struct acpi_config ac = { .nr_cpus = 1, .with_ioapic = 1, .pm_base = PORT_ACPI_PM,
				  .sci_irq = IRQ_SCI };
	CHECK(acpi_build(acpi, sizeof(acpi), ACPI_TABLES_ADDR, &ac) > 0);
	/* RSDP -> XSDT -> FADT (first) and MADT (second). */
	uint64_t xsdt, fadt, madt;
	memcpy(&xsdt, acpi + 24, 8);
	memcpy(&fadt, acpi + (xsdt - ACPI_TABLES_ADDR) + 36, 8);
	memcpy(&madt, acpi + (xsdt - ACPI_TABLES_ADDR) + 44, 8);
	const uint8_t *f = acpi + (fadt - ACPI_TABLES_ADDR);
	CHECK(!memcmp(f, "FACP", 4));
	memcpy(&fadt_reset_addr, f + 116 + 4, 8);
	fadt_reset_value = f[128];
	CHECK(!memcmp(acpi + (madt - ACPI_TABLES_ADDR), "APIC", 4));
	madt_lapic = get32(acpi + (madt - ACPI_TABLES_ADDR) + 36);

	static struct virtio_pci vp;
	static const struct virtio_dev_ops ops = { .device_id = 4, .pci_class = 0xFF0000 };
	static const struct msi_sink sink = { 0 };
	struct virtio_env env = { 0 };
	CHECK_EQ(virtio_pci_init(&vp, "doc", &ops, NULL, 0, 1, 8, 0, &env, &sink), 0);
	msix_table = pci_cfg_get32(&vp.pci, vp.msix.cap + 4);
	msix_pba = pci_cfg_get32(&vp.pci, vp.msix.cap + 8);
	CHECK_EQ(msix_table & 7, VIRTIO_MSIX_BAR);
	CHECK_EQ(msix_pba & 7, VIRTIO_MSIX_BAR);
	virtio_pci_destroy(&vp);

	/* bios-256k.bin: the ROM's address as firmware_load() places a 256 KiB image. */
	char path[] = "/tmp/domus-platform-doc-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	static uint8_t img[256 << 10];
	img[sizeof(img) - 16] = 0xEA;
	CHECK_EQ(write(fd, img, sizeof(img)), (long)sizeof(img));
	close(fd);
	struct firmware fw;
	char err[256];
	CHECK_EQ(firmware_load(&fw, path, err, sizeof(err)), 0);
	rom_gpa = fw.gpa;
	firmware_free(&fw);
	unlink(path);
}

static void add_facts(void)
{
	const struct e820_entry *e = e820.e;
	/* The PV PC */
	fact("RAM (low)", 0x9FC00, e[0].addr + e[0].size);
	fact("RAM (low)", 0x9FC00, e[1].addr);
	fact("RAM (low)", 0xA0000, e[1].addr + e[1].size);
	fact("RAM (low)", 0xE0000, e[2].addr);
	fact("RAM (low)", 0x100000, e[2].addr + e[2].size);
	fact("RAM (low)", 0x100000, e[3].addr);
	fact("32-bit PCI hole", 0xC0000000, PCI_HOLE_START);
	fact("32-bit PCI hole", 0xFFFFFFFF, HIGH_RAM_START - 1);
	fact("32-bit PCI hole", 0xC0000000, PCI_HOLE_START); /* PCI_MEM32_BASE in machine_pc.c */
	fact("32-bit PCI hole", 0xFBFFFFFF, PCI_MEM32_END - 1);
	fact("32-bit PCI hole", 0xFEC00000, PC_IOAPIC_ADDR);
	fact("32-bit PCI hole", 0xFEE00000, madt_lapic);
	fact("PVH start info", 0x6000, BOOT_PVH_INFO);
	fact("PVH start info", 0x6100, BOOT_PVH_MEMMAP);
	fact("PVH start info", 0x6800, BOOT_PVH_MODLIST);
	fact("PVH start info", 0x20000, BOOT_CMDLINE);
	fact("bzImage boot", 0x7000, BOOT_ZEROPAGE);
	fact("bzImage boot", 0x20000, BOOT_CMDLINE);
	fact("bzImage boot", 0x500, BOOT_GDT_ADDR);
	fact("bzImage boot", 0x9000, BOOT_PML4);
	fact("bzImage boot", 0xA000, BOOT_PDPT);
	fact("bzImage boot", 0xB000, BOOT_PD);
	fact("bzImage boot", 0xEFFF, BOOT_PD + 4 * 0x1000 - 1);
	fact("bzImage boot", 0x9000, BOOT_PML4);
	fact("bzImage boot", 0xEFFF, BOOT_PD + 4 * 0x1000 - 1);
	fact("bzImage boot", 0x100000, BOOT_KERNEL_ADDR);
	fact("ACPI tables", 0xE0000, ACPI_TABLES_ADDR);
	fact("ACPI tables", 0xEFFFF, ACPI_TABLES_ADDR + ACPI_TABLES_MAX - 1);
	fact("ACPI tables", 0xE0000, memcmp(acpi, "RSD PTR ", 8) ? 0 : ACPI_TABLES_ADDR);
	/* i8042: the reset command really resets. */
	struct i8042 k;
	struct irq_line irq = { 0 };
	i8042_init(&k, &irq, on_reset, NULL);
	i8042_ops.write(&k, 4, 1, 0xFE);
	i8042_destroy(&k);
	fact("i8042", 0x60, PORT_I8042);
	fact("i8042", 0x64, PORT_I8042 + 4);
	fact("i8042", 0xFE, resets == 1 ? 0xFE : 0);
	fact("i8042", 1, IRQ_KBD);
	fact("CMOS RTC", 0x70, PORT_RTC);
	fact("CMOS RTC", 0x71, PORT_RTC + 1);
	fact("CMOS RTC", 8, IRQ_RTC);
	fact("COM1 16550", 0x3F8, PORT_COM1);
	fact("COM1 16550", 0x3FF, PORT_COM1 + 7);
	fact("COM1 16550", 4, IRQ_COM1);
	fact("ACPI PM1a event", 0x600, PORT_ACPI_PM + ACPI_PM1_EVT_OFF);
	fact("ACPI PM1a event", 9, IRQ_SCI);
	fact("ACPI PM1a control", 0x604, PORT_ACPI_PM + ACPI_PM1_CNT_OFF);
	fact("ACPI PM timer", 0x608, PORT_ACPI_PM + ACPI_PM_TMR_OFF);
	fact("reset", 0xCF9, fadt_reset_addr);
	fact("reset", 0x06, fadt_reset_value);
	fact("reset", 0xCF8, PCI_HOST_PORT);
	fact("reset", 0xCFF, PCI_HOST_PORT + PCI_HOST_PORT_LEN - 1);
	fact("PCI config", 0xCF8, PCI_HOST_PORT);
	fact("PCI config", 0xCFC, PCI_HOST_PORT + 4);
	fact("PCI windows", 0xC000, PCI_IO_BASE);
	fact("PCI windows", 0xFFFF, PCI_IO_END - 1);
	fact("PCI windows", 0xC0000000, PCI_HOLE_START);
	fact("PCI windows", 0xFBFFFFFF, PCI_MEM32_END - 1);
	fact("PCI INTx", 10, pci_pirq_gsi[0]);
	fact("PCI INTx", 11, pci_pirq_gsi[1]);
	fact("PCI INTx", 5, pci_pirq_gsi[2]);
	fact("PCI INTx", 3, pci_pirq_gsi[3]);
	fact("virtio BARs", 0x1000, VIRTIO_MSIX_BAR_SIZE);
	fact("virtio BARs", 0x0, msix_table & ~7u);
	fact("virtio BARs", 0x800, msix_pba & ~7u);
	fact("virtio BARs", 0x4000, VIRTIO_BAR_SIZE);
	fact("virtio BARs", 0x0, VIRTIO_COMMON_OFF);
	fact("virtio BARs", 0x1000, VIRTIO_ISR_OFF);
	fact("virtio BARs", 0x2000, VIRTIO_DEVCFG_OFF);
	fact("virtio BARs", 0x3000, VIRTIO_NOTIFY_OFF);
	fact("pvpanic", 0x505, PVPANIC_PORT);
	/* The FV PC */
	fact("-", 0x600, PORT_ACPI_PM);
	fact("firmware", 0xFFFC0000, rom_gpa);
	fact("firmware", 0xE0000, FIRMWARE_LOW_ALIAS);
	fact("firmware", 0xC0000, VGA_MEM + VGA_MEM_LEN);
	fact("firmware", 0xFFFFF, ONE_MIB - 1);
	fact("VGA window", 0xA0000, VGA_MEM);
	fact("VGA window", 0xBFFFF, VGA_MEM + VGA_MEM_LEN - 1);
	fact("VGA window", 0x3B0, VGA_PORT);
	fact("VGA window", 0x3DF, VGA_PORT + VGA_PORT_LEN - 1);
	fact("fw_cfg", 0x510, FW_CFG_PORT);
	fact("fw_cfg", 0x511, FW_CFG_PORT + 1);
	fact("fw_cfg", 0x514, FW_CFG_PORT + 4);
	fact("fw_cfg", 0x3F8, PORT_COM1);
	fact("firmware debug log", 0x402, DEBUGCON_PORT);
	fact("PCI bus 0", 0xCF8, PCI_HOST_PORT);
	fact("IDE", 0x1F0, PORT_IDE0);
	fact("IDE", 0x1F7, PORT_IDE0 + 7);
	fact("IDE", 0x3F6, PORT_IDE0_CTL);
	fact("IDE", 14, IRQ_IDE0);
	fact("IDE", 0x170, PORT_IDE1);
	fact("IDE", 0x177, PORT_IDE1 + 7);
	fact("IDE", 0x376, PORT_IDE1_CTL);
	fact("IDE", 15, IRQ_IDE1);
	fact("ACPI", 0x600, PORT_ACPI_PM + ACPI_PM1_EVT_OFF);
	fact("ACPI", 9, IRQ_SCI);
	fact("ACPI", 0xCF9, fadt_reset_addr);
}

/* A number of the document in row: it must be a fact of that row whose code value is the
 * same. A row may repeat a number with another meaning: occurrences match that row's facts
 * with the number in order. */
static void doc_number(const char *row, uint64_t v, unsigned lineno)
{
	for (unsigned i = 0; i < nfacts; i++) {
		struct fact *f = &facts[i];
		if (strcmp(f->row, row) || f->seen || f->doc != v)
			continue;
		f->seen = true;
		unit_checks++;
		if (f->code != v) {
			unit_failed++;
			fprintf(stderr, DOC ":%u: row \"%s\": the document says 0x%llx (%llu), the "
				"code has 0x%llx\n", lineno, row, (unsigned long long)v,
				(unsigned long long)v, (unsigned long long)f->code);
		}
		return;
	}
	unit_checks++;
	unit_failed++;
	fprintf(stderr, DOC ":%u: row \"%s\": 0x%llx (%llu) is not checked against the code "
		"(add it to tests/unit/test_platform_doc.c, or take it out of the document)\n",
		lineno, row, (unsigned long long)v, (unsigned long long)v);
}

static void test_document(void)
{
	build_code_views();
	add_facts();
	FILE *f = fopen(DOC, "r");
	CHECK(f != NULL);
	if (!f)
		return;
	regex_t hex, irq;
	CHECK_EQ(regcomp(&hex, "0x[0-9A-Fa-f]+", REG_EXTENDED), 0);
	CHECK_EQ(regcomp(&irq, "(IRQ|GSI|SCI) ([0-9]+(, [0-9]+)*)", REG_EXTENDED), 0);
	char line[2048], row[128];
	unsigned lineno = 0, numbers = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		strcpy(row, "-");
		if (line[0] == '|' && line[1] == ' ') {
			const char *end = strstr(line + 2, " |");
			if (!end)
				continue;
			size_t n = (size_t)(end - (line + 2));
			if (n >= sizeof(row))
				n = sizeof(row) - 1;
			memcpy(row, line + 2, n);
			row[n] = 0;
			if (!strcmp(row, "what"))
				continue;
		}
		regmatch_t m[4];
		for (const char *p = line; !regexec(&hex, p, 1, m, 0); p += m[0].rm_eo) {
			doc_number(row, strtoull(p + m[0].rm_so, NULL, 16), lineno);
			numbers++;
		}
		for (const char *p = line; !regexec(&irq, p, 4, m, 0); p += m[0].rm_eo) {
			for (const char *q = p + m[2].rm_so; q < p + m[2].rm_eo;) {
				char *e;
				doc_number(row, strtoull(q, &e, 10), lineno);
				numbers++;
				q = e;
				while (*q == ',' || *q == ' ')
					q++;
			}
		}
	}
	fclose(f);
	regfree(&hex);
	regfree(&irq);
	CHECK(numbers >= 80);
	for (unsigned i = 0; i < nfacts; i++) {
		if (!facts[i].seen) {
			unit_failed++;
			fprintf(stderr, "test_platform_doc: row \"%s\" 0x%llx is no longer in " DOC
				" (drop it here)\n", facts[i].row, (unsigned long long)facts[i].doc);
		}
		unit_checks++;
	}
}

UNIT_MAIN(test_document)
