/* CPUID shaping, ACPI tables and the emulation fix-ups: pure functions. */
#include <stdint.h>

#include "acpi_s5.h"
#include "boot/acpi_tables.h"
#include "hw/acpi_pm.h"
#include "unit.h"
#include "vmm/cpuid.h"
#include "vmm/emulate.h"

static void test_cpuid(void)
{
	struct kvm_cpuid_entry2 e[6];
	memset(e, 0, sizeof(e));
	e[0].function = 1;
	e[0].ebx = 0x00000800; /* clflush 64 */
	e[1].function = 0xB;
	e[1].index = 0;
	e[2].function = 0xB;
	e[2].index = 1;
	e[3].function = 4;
	e[3].eax = 0x121 | (3 << 5) | (63u << 26); /* an L3 data cache, nonsense sharing */
	e[4].function = 0x40000000;
	e[4].ebx = 0x4b4d564b;
	e[5].function = 0xB;
	e[5].index = 2;
	cpuid_shape(e, 6, 5, 6);
	CHECK_EQ(e[0].ebx >> 24, 5);
	CHECK_EQ((e[0].ebx >> 16) & 0xFF, 6);
	CHECK_EQ(e[0].ebx & 0xFFFF, 0x0800);
	CHECK(e[0].edx & (1u << 28));
	CHECK(e[0].ecx & (1u << 31));
	CHECK_EQ(e[1].ebx, 1);
	CHECK_EQ(e[1].edx, 5);
	CHECK_EQ((e[1].ecx >> 8) & 0xFF, 1);
	CHECK_EQ(e[2].eax, 3); /* 6 cores need 3 bits */
	CHECK_EQ(e[2].ebx, 6);
	CHECK_EQ((e[2].ecx >> 8) & 0xFF, 2);
	CHECK_EQ(e[3].eax >> 26, 7);
	CHECK_EQ((e[3].eax >> 14) & 0xFFF, 7);
	CHECK_EQ(e[4].ebx, 0x4b4d564b); /* KVM leaves pass through */
	CHECK_EQ(e[5].ecx & 0xFF, 2);
	CHECK_EQ((e[5].ecx >> 8) & 0xFF, 0); /* invalid level terminates the list */
	memset(e, 0, sizeof(e));
	e[0].function = 1;
	cpuid_shape(e, 1, 0, 1);
	CHECK_EQ(e[0].edx & (1u << 28), 0);
	CHECK_EQ(cpuid_bits_for(1), 0);
	CHECK_EQ(cpuid_bits_for(2), 1);
	CHECK_EQ(cpuid_bits_for(5), 3);
	/* TSC-deadline goes into leaf 1 only, and shaping keeps it */
	memset(e, 0, sizeof(e));
	e[0].function = 1;
	e[1].function = 7;
	cpuid_offer_tsc_deadline(e, 2);
	cpuid_shape(e, 2, 0, 2);
	CHECK(e[0].ecx & (1u << 24));
	CHECK_EQ(e[1].ecx, 0);
}

static void test_emulate(void)
{
	struct emu_fix f;
	emu_classify((const uint8_t *)"\xcc", 1, 1, &f);
	CHECK_EQ(f.action, EMU_INJECT_BP);
	CHECK_EQ(f.len, 1);
	emu_classify((const uint8_t *)"\x9b\xdb\xe3", 3, 0, &f);
	CHECK_EQ(f.action, EMU_SKIP);
	CHECK_EQ(f.len, 1);
	emu_classify((const uint8_t *)"\xdb\xe3", 2, 0, &f);
	CHECK_EQ(f.action, EMU_UNHANDLED);
	CHECK_STR(f.name, "fninit");
	emu_classify((const uint8_t *)"\x48\x0f\xc7\x0e", 4, 1, &f);
	CHECK_STR(f.name, "cmpxchg16b");
	emu_classify((const uint8_t *)"\xf3\x48\x0f\xb8\xc0", 5, 1, &f);
	CHECK_STR(f.name, "popcnt");
	emu_classify((const uint8_t *)"\x0f\x01\xca", 3, 1, &f);
	CHECK_STR(f.name, "clac");
	emu_classify((const uint8_t *)"\x0f\xae\x27", 3, 1, &f);
	CHECK_STR(f.name, "xsave");
	emu_classify((const uint8_t *)"\xcf", 1, 0, &f);
	CHECK_STR(f.name, "iret (32-bit)");
	emu_classify((const uint8_t *)"\x90", 1, 1, &f);
	CHECK_EQ(f.action, EMU_UNHANDLED);
	CHECK(f.name == NULL);
	emu_classify(NULL, 0, 1, &f);
	CHECK_EQ(f.action, EMU_UNHANDLED);
	char buf[64];
	emu_format_bytes((const uint8_t *)"\x0f\x01\xca", 3, buf, sizeof(buf));
	CHECK_STR(buf, "0f 01 ca");
	emu_format_bytes((const uint8_t *)"\x0f\x01\xca", 3, buf, 5);
	CHECK_STR(buf, "0f");
}

static const uint8_t *find_table(const uint8_t *buf, size_t len, const char *sig)
{
	for (size_t off = 36; off + 36 <= len; off++)
		if (!memcmp(buf + off, sig, 4))
			return buf + off;
	return NULL;
}

static void test_acpi(void)
{
	static uint8_t buf[0x10000];
	struct acpi_config c = { .nr_cpus = 4, .with_ioapic = 1, .pm_base = 0x600, .sci_irq = 9 };
	size_t n = acpi_build(buf, sizeof(buf), 0xE0000, &c);
	CHECK(n > 0);
	CHECK(!memcmp(buf, "RSD PTR ", 8));
	CHECK_EQ(acpi_checksum(buf, 20), 0);
	CHECK_EQ(acpi_checksum(buf, 36), 0);
	uint64_t xsdt;
	memcpy(&xsdt, buf + 24, 8);
	CHECK(!memcmp(buf + (xsdt - 0xE0000), "XSDT", 4));
	const char *sigs[] = { "XSDT", "FACP", "DSDT", "APIC" };
	for (int i = 0; i < 4; i++) {
		const uint8_t *t = find_table(buf, n, sigs[i]);
		CHECK(t != NULL);
		if (!t)
			continue;
		uint32_t len;
		memcpy(&len, t + 4, 4);
		CHECK_EQ(acpi_checksum(t, len), 0);
	}
	const uint8_t *fadt = find_table(buf, n, "FACP");
	uint32_t pm1a_cnt;
	memcpy(&pm1a_cnt, fadt + 64, 4);
	CHECK_EQ(pm1a_cnt, 0x604);
	CHECK_EQ(fadt[46], 9);
	const uint8_t *madt = find_table(buf, n, "APIC");
	uint32_t mlen;
	memcpy(&mlen, madt + 4, 4);
	int lapics = 0, ioapics = 0;
	for (const uint8_t *e = madt + 44; e < madt + mlen; e += e[1]) {
		CHECK(e[1] >= 2);
		if (e[1] < 2)
			break;
		lapics += e[0] == 0;
		ioapics += e[0] == 1;
	}
	CHECK_EQ(lapics, 4);
	CHECK_EQ(ioapics, 1);
	const uint8_t *dsdt = find_table(buf, n, "DSDT");
	/* \_S5_: the one Name (_S5_, Package (4) { 5, 5, 0, 0 }) guests read SLP_TYP from. */
	uint64_t s5[4];
	check_s5(dsdt, ACPI_S5_TYP, s5); /* SLP_TYP: what hw/acpi_pm takes as S5 */
	CHECK_EQ(s5[2], 0);
	CHECK_EQ(s5[3], 0);
	/* the pvpanic device is declared only when asked for */
	CHECK(memmem(dsdt, 200, "QEMU0001", 8) == NULL);
	c.pvpanic_port = 0x505;
	n = acpi_build(buf, sizeof(buf), 0xE0000, &c);
	dsdt = find_table(buf, n, "DSDT");
	uint32_t dlen;
	memcpy(&dlen, dsdt + 4, 4);
	CHECK(memmem(dsdt, dlen, "QEMU0001", 8) != NULL);
	CHECK(memmem(dsdt, dlen, "PEVT", 4) != NULL);
	CHECK_EQ(acpi_checksum(dsdt, dlen), 0);
	c.pvpanic_port = 0;
	/* PVM hosts: no IOAPIC, so guests use the PIC */
	c.with_ioapic = 0;
	n = acpi_build(buf, sizeof(buf), 0xE0000, &c);
	madt = find_table(buf, n, "APIC");
	memcpy(&mlen, madt + 4, 4);
	ioapics = 0;
	for (const uint8_t *e = madt + 44; e < madt + mlen; e += e[1])
		ioapics += e[0] == 1;
	CHECK_EQ(ioapics, 0);
	/* too small a buffer, or absurd CPU counts, give 0 rather than overflow */
	CHECK_EQ(acpi_build(buf, 100, 0xE0000, &c), 0);
	c.nr_cpus = 0;
	CHECK_EQ(acpi_build(buf, sizeof(buf), 0xE0000, &c), 0);
}

UNIT_MAIN(test_cpuid, test_emulate, test_acpi)
