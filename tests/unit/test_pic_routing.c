/* DOMUS_FORCE_PIC_ROUTING: the one decision "ISA interrupts through the 8259 PIC only"
 * (host_pic_routing, used by vm_isa_irqs_via_pic for the GSI routing table and both
 * machines' MADT), and the MADT it leads to: no IOAPIC entry when PIC routing is on. */
#include "le_bytes.h"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>

#include "boot/acpi_tables.h"
#include "hw/pc_platform.h"
#include "vmm/kvm_host.h"

static void test_decision(void)
{
	CHECK(host_pic_routing(HOST_PVM, NULL));
	CHECK(host_pic_routing(HOST_PVM, "0"));
	CHECK(!host_pic_routing(HOST_SVM, NULL));
	CHECK(!host_pic_routing(HOST_VMX, NULL));
	CHECK(!host_pic_routing(HOST_SVM, ""));
	CHECK(!host_pic_routing(HOST_SVM, "0"));
	CHECK(!host_pic_routing(HOST_VMX, "yes"));
	CHECK(host_pic_routing(HOST_SVM, "1"));
	CHECK(host_pic_routing(HOST_VMX, "1"));
	CHECK_STR(HOST_FORCE_PIC_ENV, "DOMUS_FORCE_PIC_ROUTING");
	/* What vm.c passes: the environment variable's value. */
	setenv(HOST_FORCE_PIC_ENV, "1", 1);
	CHECK(host_pic_routing(HOST_SVM, getenv(HOST_FORCE_PIC_ENV)));
	unsetenv(HOST_FORCE_PIC_ENV);
	CHECK(!host_pic_routing(HOST_SVM, getenv(HOST_FORCE_PIC_ENV)));
}

/* Build the PV PC's tables as machine_pc.c does for a host mode / force value and count the
 * MADT's entries of each type (0 LAPIC, 1 IOAPIC, 2 interrupt source override). */
static uint8_t buf[0x10000];
#define BASE 0xE0000u

static void madt_entries(enum host_mode m, const char *force, unsigned cpus, unsigned n[8],
			 uint32_t *ioapic_addr)
{
	memset(n, 0, 8 * sizeof(n[0]));
	*ioapic_addr = 0;
	struct acpi_config ac = { .nr_cpus = cpus, .with_ioapic = !host_pic_routing(m, force),
				  .pm_base = PORT_ACPI_PM, .sci_irq = IRQ_SCI };
	memset(buf, 0, sizeof(buf));
	size_t len = acpi_build(buf, sizeof(buf), BASE, &ac);
	CHECK(len > 0);
	if (!len)
		return;
	uint64_t xsdt = get64(buf + 24) - BASE;
	const uint8_t *madt = NULL;
	uint32_t xlen = get32(buf + xsdt + 4);
	for (uint32_t o = 36; o + 8 <= xlen; o += 8) {
		const uint8_t *t = buf + (get64(buf + xsdt + o) - BASE);
		if (!memcmp(t, "APIC", 4))
			madt = t;
	}
	CHECK(madt != NULL);
	if (!madt)
		return;
	uint32_t mlen = get32(madt + 4);
	CHECK_EQ(acpi_checksum(madt, mlen), 0);
	for (uint32_t o = 44; o + 2 <= mlen && madt[o + 1]; o += madt[o + 1]) {
		if (madt[o] < 8)
			n[madt[o]]++;
		if (madt[o] == 1)
			*ioapic_addr = get32(madt + o + 4);
	}
}

static void test_madt(void)
{
	unsigned n[8];
	uint32_t ioapic;
	madt_entries(HOST_SVM, NULL, 2, n, &ioapic);
	CHECK_EQ(n[0], 2);
	CHECK_EQ(n[1], 1);
	CHECK_EQ(ioapic, 0xFEC00000u);
	CHECK_EQ(n[2], 1); /* the SCI override goes with the IOAPIC */

	madt_entries(HOST_SVM, "1", 2, n, &ioapic); /* forced on AMD-V */
	CHECK_EQ(n[0], 2);
	CHECK_EQ(n[1], 0);
	CHECK_EQ(n[2], 0);
	madt_entries(HOST_VMX, "1", 1, n, &ioapic);
	CHECK_EQ(n[0], 1);
	CHECK_EQ(n[1], 0);
	madt_entries(HOST_PVM, NULL, 1, n, &ioapic);
	CHECK_EQ(n[1], 0);
}

UNIT_MAIN(test_decision, test_madt)
