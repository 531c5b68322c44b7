#include "boot/acpi_tables.h"

#include <string.h>

#include "boot/aml.h"
#include "boot/dsdt.h"
#include "hw/acpi_pm.h"
#include "hw/pc_platform.h"

#define HDR_LEN 36

struct tbuf {
	uint8_t *p;
	size_t cap, len;
	int overflow;
};

static uint8_t *take(struct tbuf *t, size_t n)
{
	if (t->overflow || n > t->cap - t->len) {
		t->overflow = 1;
		return NULL;
	}
	uint8_t *r = t->p + t->len;
	memset(r, 0, n);
	t->len += n;
	return r;
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}
static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}
static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
	uint8_t s = 0;
	while (len--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void header(uint8_t *h, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(h, sig, 4);
	put32(h + 4, len);
	h[8] = rev;
	memcpy(h + 10, "DOMUS ", 6);
	memcpy(h + 16, "DOMUSPC ", 8);
	put32(h + 24, 1);
	memcpy(h + 28, "DOMU", 4);
	put32(h + 32, 1);
}

static void finish(uint8_t *h)
{
	uint32_t len;
	memcpy(&len, h + 4, 4);
	h[9] = 0;
	h[9] = (uint8_t)(0 - acpi_checksum(h, len));
}

/* Generic Address Structure for a system I/O port register. */
static void gas_io(uint8_t *g, uint16_t port, uint8_t bits, uint8_t access)
{
	g[0] = 1; /* system I/O */
	g[1] = bits;
	g[2] = 0;
	g[3] = access;
	put64(g + 4, port);
}

size_t acpi_build(uint8_t *buf, size_t cap, uint64_t base, const struct acpi_config *cfg)
{
	struct tbuf t = { .p = buf, .cap = cap };
	uint8_t *rsdp = take(&t, 36);
	size_t xsdt_off = t.len;
	uint8_t *xsdt = take(&t, HDR_LEN + 2 * 8);
	size_t fadt_off = t.len;
	uint8_t *fadt = take(&t, 276);
	size_t madt_off = t.len;
	size_t madt_len = HDR_LEN + 8 + cfg->nr_cpus * 8 + 6 +
			  (cfg->with_ioapic ? 12 + 10 : 0);
	uint8_t *madt = take(&t, madt_len);
	/* The DSDT goes last: its size is known only once its AML is written. */
	size_t dsdt_off = t.len;
	uint8_t *dsdt = take(&t, HDR_LEN);
	if (t.overflow || cfg->nr_cpus == 0 || cfg->nr_cpus > 255)
		return 0;
	struct aml aml;
	aml_init(&aml, t.p + t.len, t.cap - t.len);
	dsdt_build(&aml, cfg);
	if (!aml_ok(&aml))
		return 0;
	t.len += aml.len;

	/* RSDP (ACPI 6.x 5.2.5.3) */
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "DOMUS ", 6);
	rsdp[15] = 2;
	put32(rsdp + 20, 36);
	put64(rsdp + 24, base + xsdt_off);
	rsdp[8] = (uint8_t)(0 - acpi_checksum(rsdp, 20));
	rsdp[32] = (uint8_t)(0 - acpi_checksum(rsdp, 36));

	header(xsdt, "XSDT", HDR_LEN + 16, 1);
	put64(xsdt + HDR_LEN, base + fadt_off);
	put64(xsdt + HDR_LEN + 8, base + madt_off);
	finish(xsdt);

	/* FADT (ACPI 6.3 5.2.9), revision 6 */
	header(fadt, "FACP", 276, 6);
	put32(fadt + 40, (uint32_t)(base + dsdt_off));
	fadt[45] = 0; /* unspecified PM profile */
	put16(fadt + 46, cfg->sci_irq);
	put32(fadt + 48, 0); /* no SMI_CMD: the platform is always in ACPI mode */
	put32(fadt + 56, cfg->pm_base + ACPI_PM1_EVT_OFF);
	put32(fadt + 64, cfg->pm_base + ACPI_PM1_CNT_OFF);
	put32(fadt + 76, cfg->pm_base + ACPI_PM_TMR_OFF);
	fadt[88] = 4; /* PM1_EVT_LEN */
	fadt[89] = 2; /* PM1_CNT_LEN */
	fadt[91] = 4; /* PM_TMR_LEN */
	put16(fadt + 96, 101);  /* C2 latency > 100: no C2 */
	put16(fadt + 98, 1001); /* C3 latency > 1000: no C3 */
	fadt[108] = 0x32;       /* RTC century byte */
	uint16_t boot_arch = 0x0002; /* 8042 present */
	if (cfg->legacy_devices)
		boot_arch |= 0x0001;
	else
		boot_arch |= 0x0004; /* no VGA */
	put16(fadt + 109, boot_arch);
	/* WBINVD, C1 on all CPUs, no fixed sleep button, reset register supported;
	 * PWR_BUTTON clear = the fixed-feature power button exists. */
	put32(fadt + 112, (1u << 0) | (1u << 2) | (1u << 5) | (1u << 10));
	gas_io(fadt + 116, 0xCF9, 8, 1);
	fadt[128] = 0x06;
	fadt[131] = 3; /* FADT minor version: 6.3 */
	put64(fadt + 140, base + dsdt_off);
	gas_io(fadt + 148, (uint16_t)(cfg->pm_base + ACPI_PM1_EVT_OFF), 32, 2);
	gas_io(fadt + 172, (uint16_t)(cfg->pm_base + ACPI_PM1_CNT_OFF), 16, 2);
	gas_io(fadt + 208, (uint16_t)(cfg->pm_base + ACPI_PM_TMR_OFF), 32, 3);
	memcpy(fadt + 268, "DOMUS   ", 8);
	finish(fadt);

	header(dsdt, "DSDT", (uint32_t)(HDR_LEN + aml.len), 2);
	finish(dsdt);

	/* MADT (ACPI 6.3 5.2.12) */
	header(madt, "APIC", (uint32_t)madt_len, 5);
	put32(madt + HDR_LEN, PC_LAPIC_ADDR);
	put32(madt + HDR_LEN + 4, 1); /* PCAT_COMPAT: 8259s present */
	uint8_t *e = madt + HDR_LEN + 8;
	for (unsigned i = 0; i < cfg->nr_cpus; i++, e += 8) {
		e[0] = 0; /* processor local APIC */
		e[1] = 8;
		e[2] = (uint8_t)i; /* ACPI processor UID */
		e[3] = (uint8_t)i; /* APIC ID */
		put32(e + 4, 1);   /* enabled */
	}
	if (cfg->with_ioapic) {
		e[0] = 1; /* I/O APIC */
		e[1] = 12;
		e[2] = 0; /* IOAPIC ID: after the CPUs' IDs is customary, 0 works with KVM */
		put32(e + 4, PC_IOAPIC_ADDR);
		put32(e + 8, 0);
		e += 12;
		e[0] = 2; /* interrupt source override: SCI is level, active high */
		e[1] = 10;
		e[2] = 0;
		e[3] = cfg->sci_irq;
		put32(e + 4, cfg->sci_irq);
		put16(e + 8, 0x000D);
		e += 10;
	}
	e[0] = 4; /* local APIC NMI on LINT1 of all CPUs */
	e[1] = 6;
	e[2] = 0xFF;
	put16(e + 3, 0x0005);
	e[5] = 1;
	finish(madt);
	return t.len;
}
