#include "boot/acpi_fv.h"

#include <string.h>

#include "boot/aml.h"
#include "hw/acpi_pm.h"
#include "hw/pc_platform.h"

#define HDR_LEN 36
#define FILE_RSDP "etc/acpi/rsdp"
#define FILE_TABLES "etc/acpi/tables"
#define CMD_ALLOCATE 1
#define CMD_ADD_POINTER 2
#define CMD_ADD_CHECKSUM 3
#define ZONE_HIGH 1
#define ZONE_FSEG 2
#define FADT_LEN 276
#define FACS_LEN 64

/* The IRQs SeaBIOS routes PIRQA-D to (PIIX3 route registers 0x60-0x63). */
static const uint8_t pirq_irq[4] = { 10, 10, 11, 11 };

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void header(uint8_t *h, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(h, sig, 4);
	put32(h + 4, len);
	h[8] = rev;
	h[9] = 0; /* the loader's ADD_CHECKSUM fills it in */
	memcpy(h + 10, "DOMUS ", 6);
	memcpy(h + 16, "DOMUSFV ", 8);
	put32(h + 24, 1);
	memcpy(h + 28, "DOMU", 4);
	put32(h + 32, 1);
}

static void gas_io(uint8_t *g, uint16_t port, uint8_t bits, uint8_t access)
{
	g[0] = 1;
	g[1] = bits;
	g[2] = 0;
	g[3] = access;
	put64(g + 4, port);
}

struct loader {
	struct acpi_fv *t;
	int overflow;
};

static uint8_t *entry(struct loader *l, uint32_t cmd)
{
	if (l->t->loader_len + ACPI_FV_LOADER_ENTRY > sizeof(l->t->loader)) {
		l->overflow = 1;
		return NULL;
	}
	uint8_t *e = l->t->loader + l->t->loader_len;
	memset(e, 0, ACPI_FV_LOADER_ENTRY);
	put32(e, cmd);
	l->t->loader_len += ACPI_FV_LOADER_ENTRY;
	return e;
}

static void allocate(struct loader *l, const char *file, uint32_t align, uint8_t zone)
{
	uint8_t *e = entry(l, CMD_ALLOCATE);
	if (!e)
		return;
	strcpy((char *)e + 4, file);
	put32(e + 60, align);
	e[64] = zone;
}

/* dest[offset..+size) += address of src */
static void add_pointer(struct loader *l, const char *dest, const char *src, uint32_t offset,
			uint8_t size)
{
	uint8_t *e = entry(l, CMD_ADD_POINTER);
	if (!e)
		return;
	strcpy((char *)e + 4, dest);
	strcpy((char *)e + 60, src);
	put32(e + 116, offset);
	e[120] = size;
}

static void add_checksum(struct loader *l, const char *file, uint32_t at, uint32_t start,
			 uint32_t len)
{
	uint8_t *e = entry(l, CMD_ADD_CHECKSUM);
	if (!e)
		return;
	strcpy((char *)e + 4, file);
	put32(e + 60, at);
	put32(e + 64, start);
	put32(e + 68, len);
}

static size_t build_dsdt(uint8_t *p, size_t cap, const struct acpi_fv_config *cfg)
{
	struct aml a;
	if (cap < HDR_LEN)
		return 0;
	aml_init(&a, p + HDR_LEN, cap - HDR_LEN);
	aml_open_scope(&a, "\\_SB_");
	aml_open_device(&a, "PCI0");
	aml_name(&a, "_HID");
	aml_eisaid(&a, "PNP0A03");
	aml_name(&a, "_ADR");
	aml_int(&a, 0);
	aml_name(&a, "_UID");
	aml_int(&a, 0);
	aml_name(&a, "_CRS");
	aml_open_buffer(&a);
	aml_res_bus(&a, 0, 0xFF);
	aml_res_io(&a, 0xCF8, 8);
	aml_res_io_window(&a, 0x0000, 0x0CF7);
	aml_res_io_window(&a, 0x0D00, 0xFFFF);
	aml_res_mem32_window(&a, 0xA0000, 0xBFFFF, false);
	aml_res_mem32_window(&a, cfg->pci_mem_start, cfg->pci_mem_end, false);
	aml_res_end(&a);
	aml_close(&a);
	/* _PRT with global interrupt numbers: INTx of slot s pin p goes to PIRQ (s-1+p)&3, which
	 * the firmware routes as pirq_irq says. No PCI device of this machine uses INTx yet
	 * (IDE is in legacy mode, the SCI is fixed), so the table only has to be truthful. */
	aml_name(&a, "_PRT");
	aml_open_package(&a, 31 * 4);
	for (unsigned slot = 1; slot < 32; slot++) {
		for (unsigned pin = 0; pin < 4; pin++) {
			aml_open_package(&a, 4);
			aml_int(&a, (uint64_t)slot << 16 | 0xFFFF);
			aml_int(&a, pin);
			aml_int(&a, 0);
			aml_int(&a, pirq_irq[(slot - 1 + pin) & 3]);
			aml_close(&a);
		}
	}
	aml_close(&a);
	aml_open_device(&a, "ISA_");
	aml_name(&a, "_ADR");
	aml_int(&a, 0x00010000);
	struct {
		const char *name, *hid;
		uint16_t io[2];
		uint8_t len[2];
		unsigned irq;
	} isa[] = {
		{ "KBD_", "PNP0303", { PORT_I8042, PORT_I8042 + 4 }, { 1, 1 }, IRQ_KBD },
		{ "COM1", "PNP0501", { PORT_COM1, 0 }, { 8, 0 }, IRQ_COM1 },
		{ "RTC_", "PNP0B00", { PORT_RTC, 0 }, { 2, 0 }, IRQ_RTC },
	};
	for (size_t i = 0; i < sizeof(isa) / sizeof(isa[0]); i++) {
		aml_open_device(&a, isa[i].name);
		aml_name(&a, "_HID");
		aml_eisaid(&a, isa[i].hid);
		aml_name(&a, "_UID");
		aml_int(&a, 1);
		aml_name(&a, "_CRS");
		aml_open_buffer(&a);
		for (int j = 0; j < 2; j++)
			if (isa[i].len[j])
				aml_res_io(&a, isa[i].io[j], isa[i].len[j]);
		aml_res_irq(&a, isa[i].irq);
		aml_res_end(&a);
		aml_close(&a);
		aml_close(&a);
	}
	aml_close(&a); /* ISA */
	aml_close(&a); /* PCI0 */
	aml_close(&a); /* \_SB */
	/* \_S5: the PIIX4 soft-off sleep type, for PM1a and PM1b */
	aml_name(&a, "\\_S5_");
	aml_open_package(&a, 4);
	aml_int(&a, PIIX4_SLP_TYP_SOFF);
	aml_int(&a, PIIX4_SLP_TYP_SOFF);
	aml_int(&a, 0);
	aml_int(&a, 0);
	aml_close(&a);
	if (!aml_ok(&a))
		return 0;
	header(p, "DSDT", (uint32_t)(HDR_LEN + a.len), 2);
	return HDR_LEN + a.len;
}

int acpi_fv_build(struct acpi_fv *t, const struct acpi_fv_config *cfg)
{
	struct loader l = { .t = t };
	uint8_t *b = t->tables;
	size_t o = 0;
	memset(t, 0, sizeof(*t));
	if (cfg->nr_cpus == 0 || cfg->nr_cpus > 255)
		return -1;

	/* FACS first: it must be 64-byte aligned, and the file is allocated so. */
	size_t facs = o;
	memcpy(b + facs, "FACS", 4);
	put32(b + facs + 4, FACS_LEN);
	b[facs + 32] = 2; /* version */
	o += FACS_LEN;

	size_t dsdt = o;
	size_t dsdt_len = build_dsdt(b + dsdt, sizeof(t->tables) - o, cfg);
	if (!dsdt_len)
		return -1;
	o += dsdt_len;

	size_t fadt = o;
	if (o + FADT_LEN > sizeof(t->tables))
		return -1;
	uint8_t *f = b + fadt;
	header(f, "FACP", FADT_LEN, 6);
	put16(f + 46, cfg->sci_irq);
	put32(f + 48, 0); /* no SMI_CMD: the machine starts in ACPI mode (SCI_EN set) */
	put32(f + 56, cfg->pm_base + ACPI_PM1_EVT_OFF);
	put32(f + 64, cfg->pm_base + ACPI_PM1_CNT_OFF);
	put32(f + 76, cfg->pm_base + ACPI_PM_TMR_OFF);
	f[88] = 4;
	f[89] = 2;
	f[91] = 4;
	put16(f + 96, 101);
	put16(f + 98, 1001);
	f[108] = 0x32;
	put16(f + 109, 0x0003); /* legacy devices, 8042 */
	/* WBINVD, C1 on all CPUs, no fixed sleep button (PWR_BUTTON clear: the fixed power
	 * button exists), reset register supported */
	put32(f + 112, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 10));
	gas_io(f + 116, 0xCF9, 8, 1);
	f[128] = 0x06;
	f[131] = 3;
	memcpy(f + 268, "DOMUS   ", 8);
	gas_io(f + 148, (uint16_t)(cfg->pm_base + ACPI_PM1_EVT_OFF), 32, 2);
	gas_io(f + 172, (uint16_t)(cfg->pm_base + ACPI_PM1_CNT_OFF), 16, 2);
	gas_io(f + 208, (uint16_t)(cfg->pm_base + ACPI_PM_TMR_OFF), 32, 3);
	/* FIRMWARE_CTRL, DSDT, X_FIRMWARE_CTRL, X_DSDT hold offsets; the loader adds the base. */
	put32(f + 36, (uint32_t)facs);
	put32(f + 40, (uint32_t)dsdt);
	put64(f + 132, facs);
	put64(f + 140, dsdt);
	o += FADT_LEN;

	size_t madt = o;
	size_t madt_len = HDR_LEN + 8 + cfg->nr_cpus * 8 + 6 + (cfg->with_ioapic ? 12 + 10 : 0);
	if (o + madt_len > sizeof(t->tables))
		return -1;
	uint8_t *m = b + madt;
	header(m, "APIC", (uint32_t)madt_len, 5);
	put32(m + HDR_LEN, PC_LAPIC_ADDR);
	put32(m + HDR_LEN + 4, 1); /* PCAT_COMPAT */
	uint8_t *e = m + HDR_LEN + 8;
	for (unsigned i = 0; i < cfg->nr_cpus; i++, e += 8) {
		e[0] = 0;
		e[1] = 8;
		e[2] = (uint8_t)i;
		e[3] = (uint8_t)i;
		put32(e + 4, 1);
	}
	if (cfg->with_ioapic) {
		e[0] = 1;
		e[1] = 12;
		put32(e + 4, PC_IOAPIC_ADDR);
		e += 12;
		e[0] = 2; /* SCI: level, active high */
		e[1] = 10;
		e[3] = cfg->sci_irq;
		put32(e + 4, cfg->sci_irq);
		put16(e + 8, 0x000D);
		e += 10;
	}
	e[0] = 4; /* LINT1 is NMI on every CPU */
	e[1] = 6;
	e[2] = 0xFF;
	put16(e + 3, 0x0005);
	e[5] = 1;
	o += madt_len;

	size_t rsdt = o, xsdt = o + HDR_LEN + 8;
	if (xsdt + HDR_LEN + 16 > sizeof(t->tables))
		return -1;
	header(b + rsdt, "RSDT", HDR_LEN + 8, 1);
	put32(b + rsdt + HDR_LEN, (uint32_t)fadt);
	put32(b + rsdt + HDR_LEN + 4, (uint32_t)madt);
	header(b + xsdt, "XSDT", HDR_LEN + 16, 1);
	put64(b + xsdt + HDR_LEN, fadt);
	put64(b + xsdt + HDR_LEN + 8, madt);
	o = xsdt + HDR_LEN + 16;
	t->tables_len = o;

	memcpy(t->rsdp, "RSD PTR ", 8);
	memcpy(t->rsdp + 9, "DOMUS ", 6);
	t->rsdp[15] = 2;
	put32(t->rsdp + 16, (uint32_t)rsdt);
	put32(t->rsdp + 20, 36);
	put64(t->rsdp + 24, xsdt);

	/* The script: allocate, link, then checksum (checksums last: they cover pointers). */
	allocate(&l, FILE_RSDP, 16, ZONE_FSEG);
	allocate(&l, FILE_TABLES, 64, ZONE_HIGH);
	add_pointer(&l, FILE_TABLES, FILE_TABLES, (uint32_t)(fadt + 36), 4);
	add_pointer(&l, FILE_TABLES, FILE_TABLES, (uint32_t)(fadt + 40), 4);
	add_pointer(&l, FILE_TABLES, FILE_TABLES, (uint32_t)(fadt + 132), 8);
	add_pointer(&l, FILE_TABLES, FILE_TABLES, (uint32_t)(fadt + 140), 8);
	add_pointer(&l, FILE_TABLES, FILE_TABLES, (uint32_t)(rsdt + HDR_LEN), 4);
	add_pointer(&l, FILE_TABLES, FILE_TABLES, (uint32_t)(rsdt + HDR_LEN + 4), 4);
	add_pointer(&l, FILE_TABLES, FILE_TABLES, (uint32_t)(xsdt + HDR_LEN), 8);
	add_pointer(&l, FILE_TABLES, FILE_TABLES, (uint32_t)(xsdt + HDR_LEN + 8), 8);
	add_pointer(&l, FILE_RSDP, FILE_TABLES, 16, 4);
	add_pointer(&l, FILE_RSDP, FILE_TABLES, 24, 8);
	size_t tabs[][2] = { { dsdt, dsdt_len }, { fadt, FADT_LEN }, { madt, madt_len },
			     { rsdt, HDR_LEN + 8 }, { xsdt, HDR_LEN + 16 } };
	for (size_t i = 0; i < sizeof(tabs) / sizeof(tabs[0]); i++)
		add_checksum(&l, FILE_TABLES, (uint32_t)(tabs[i][0] + 9), (uint32_t)tabs[i][0],
			     (uint32_t)tabs[i][1]);
	add_checksum(&l, FILE_RSDP, 8, 0, 20);
	add_checksum(&l, FILE_RSDP, 32, 0, 36);
	return l.overflow ? -1 : 0;
}
