#include "machine_pc.h"

#include <stdio.h>
#include <string.h>

#include "boot/acpi_fv.h"
#include "boot/acpi_tables.h"
#include "boot/boot.h"
#include "boot/e820.h"
#include "machine_fv.h"
#include "vmm/log.h"

/* Fixed PC resources; docs/platform.md is the same table for guest authors. */
#define PORT_PIT_SPEAKER 0x61
#define PORT_I8042 0x60
#define PORT_RTC 0x70
#define PORT_POST 0x80
#define PORT_COM1 0x3F8
#define PORT_ACPI_PM 0x600
#define PORT_RESET 0xCF9
#define IRQ_KBD 1
#define IRQ_COM1 4
#define IRQ_RTC 8
#define IRQ_SCI 9
#define ACPI_TABLES_ADDR BIOS_AREA_START
#define ACPI_TABLES_MAX 0x10000

static void pc_reset(void *ctx)
{
	struct machine *m = ctx;
	vm_request_stop(&m->vm, VM_STOP_RESET, NULL);
}

static void pc_sleep(void *ctx, unsigned slp_typ)
{
	struct machine *m = ctx;
	/* The FV PC's PIIX4 encodes soft-off as SLP_TYP 0 (its DSDT says so in \_S5). */
	if (slp_typ == ACPI_S5_TYP || (m->fv && slp_typ == PIIX4_SLP_TYP_SOFF))
		vm_request_stop(&m->vm, VM_STOP_POWEROFF, NULL);
	else
		log_debug("guest asked for ACPI sleep type %u, which this platform lacks", slp_typ);
}

/* Port 0x80: POST codes from firmware, and Linux's I/O delay. Kept for debugging. */
static uint64_t post_read(void *ctx, uint64_t off, unsigned size)
{
	(void)off, (void)size;
	return ((struct machine *)ctx)->post_code;
}

static void post_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	(void)off, (void)size;
	((struct machine *)ctx)->post_code = (uint8_t)val;
}

static const struct io_ops post_ops = { .read = post_read, .write = post_write };

static size_t com1_input(void *ctx, const uint8_t *buf, size_t len)
{
	return uart16550_rx(ctx, buf, len);
}

static void irq_init(struct irq_line *l, struct vm *vm, unsigned gsi)
{
	l->set = vm_irq_set;
	l->ctx = vm;
	l->gsi = gsi;
	atomic_store(&l->level, 0);
}

struct pc_port {
	uint16_t base, len;
	const struct io_ops *ops;
	size_t dev_off; /* offset of the device state in struct machine */
	const char *name;
};

/* Every port device, top to bottom. The PIT (0x40) and PICs (0x20, 0xA0, 0x4D0) live in KVM. */
static const struct pc_port pc_ports[] = {
	{ PORT_I8042, 5, &i8042_ops, offsetof(struct machine, kbc), "i8042" },
	{ PORT_RTC, 2, &rtc_mc146818_ops, offsetof(struct machine, rtc), "rtc" },
	{ PORT_POST, 1, &post_ops, 0, "post" },
	{ PORT_COM1, 8, &uart16550_ops, offsetof(struct machine, com1), "com1" },
	{ PORT_ACPI_PM, ACPI_PM_LEN, &acpi_pm_ops, offsetof(struct machine, pm), "acpi-pm" },
	{ PORT_RESET, 1, &reset_cf9_ops, offsetof(struct machine, cf9), "reset" },
};

int machine_create(struct machine *m, const struct machine_config *cfg, struct console *con,
		   char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	m->con = con;
	struct vm_config vc = { .mem_bytes = cfg->mem_bytes,
				.nr_vcpus = cfg->vcpus,
				.triple_fault_reset = cfg->triple_fault_reset,
				.vga_hole = cfg->firmware != NULL || cfg->fv_devices };
	if (vm_create(&m->vm, &vc, err, errlen) < 0)
		return -1;
	struct vm *vm = &m->vm;

	irq_init(&m->irq_kbd, vm, IRQ_KBD);
	irq_init(&m->irq_com1, vm, IRQ_COM1);
	irq_init(&m->irq_rtc, vm, IRQ_RTC);
	irq_init(&m->irq_sci, vm, IRQ_SCI);
	uart16550_init(&m->com1, &m->irq_com1, console_write, con);
	rtc_mc146818_init(&m->rtc, &m->irq_rtc, NULL);
	m->persist = cfg->persist;
	if (m->persist && m->persist->valid)
		rtc_mc146818_restore(&m->rtc, m->persist->cmos, m->persist->rtc_offset_s);
	i8042_init(&m->kbc, &m->irq_kbd, pc_reset, m);
	acpi_pm_init(&m->pm, &m->irq_sci, pc_sleep, m, 1);
	m->cf9 = (struct reset_cf9){ .reset = pc_reset, .ctx = m };
	m->devices_up = 1;
	for (size_t i = 0; i < sizeof(pc_ports) / sizeof(pc_ports[0]); i++) {
		const struct pc_port *p = &pc_ports[i];
		/* On the FV PC the PIIX4 function places the PM block where firmware says. */
		if (cfg->firmware && p->ops == &acpi_pm_ops)
			continue;
		if (bus_add(&vm->pio, p->base, p->len, p->ops, (char *)m + p->dev_off, p->name) < 0) {
			snprintf(err, errlen, "port 0x%x for %s is taken", p->base, p->name);
			return -1;
		}
	}

	if (cfg->firmware) {
		if (vm_create_vcpus(vm, err, errlen) < 0 ||
		    machine_fv_create(m, cfg, err, errlen) < 0)
			return -1;
		console_set_sink(con, com1_input, &m->com1);
		return 0;
	}

	/* Direct kernel boot on the FV PC (tiny test guests of the chipset, IDE and VGA). */
	if (cfg->fv_devices && machine_fv_create(m, cfg, err, errlen) < 0)
		return -1;

	struct ram_layout l;
	struct e820_table e820;
	ram_layout_for(cfg->mem_bytes, &l);
	if (e820_build(&e820, &l) < 0) {
		snprintf(err, errlen, "memory map: too little RAM");
		return -1;
	}
	struct acpi_config ac = { .nr_cpus = cfg->vcpus,
				  .with_ioapic = !vm_isa_irqs_via_pic(vm),
				  .pm_base = PORT_ACPI_PM,
				  .sci_irq = IRQ_SCI };
	uint8_t *tables = gpa_to_hva(&vm->mem, ACPI_TABLES_ADDR, ACPI_TABLES_MAX);
	if (!tables || !acpi_build(tables, ACPI_TABLES_MAX, ACPI_TABLES_ADDR, &ac)) {
		snprintf(err, errlen, "ACPI tables do not fit");
		return -1;
	}

	if (vm_create_vcpus(vm, err, errlen) < 0)
		return -1;
	struct boot_request req = {
		.kernel = cfg->kernel,
		.kernel_len = cfg->kernel_len,
		.initrd = cfg->initrd,
		.initrd_len = cfg->initrd_len,
		.cmdline = cfg->cmdline,
		.e820 = &e820,
		.rsdp = ACPI_TABLES_ADDR,
		.low_ram_end = l.low_size,
	};
	struct boot_entry entry;
	if (boot_load(&vm->mem, &req, &entry, err, errlen) < 0)
		return -1;
	if (vm_set_boot_entry(vm, &entry, err, errlen) < 0)
		return -1;
	console_set_sink(con, com1_input, &m->com1);
	return 0;
}

int machine_start(struct machine *m, char *err, size_t errlen)
{
	return vm_start(&m->vm, err, errlen);
}

void machine_power_button(struct machine *m)
{
	acpi_pm_power_button(&m->pm);
}

void machine_destroy(struct machine *m)
{
	if (m->con)
		console_set_sink(m->con, NULL, NULL);
	if (vm_stopped(&m->vm) == VM_RUNNING)
		vm_request_stop(&m->vm, VM_STOP_SIGNAL, NULL);
	vm_wait(&m->vm);
	vm_destroy(&m->vm);
	if (m->fv)
		machine_fv_destroy(m);
	if (m->devices_up) {
		if (m->persist) {
			rtc_mc146818_save(&m->rtc, m->persist->cmos, &m->persist->rtc_offset_s);
			m->persist->valid = 1;
		}
		uart16550_destroy(&m->com1);
		rtc_mc146818_destroy(&m->rtc);
		i8042_destroy(&m->kbc);
		acpi_pm_destroy(&m->pm);
	}
	memset(m, 0, sizeof(*m));
}
