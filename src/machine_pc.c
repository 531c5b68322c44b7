#include "machine_pc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/acpi_fv.h"
#include "boot/acpi_tables.h"
#include "boot/boot.h"
#include "boot/e820.h"
#include "config/cpuset.h"
#include "machine_fv.h"
#include "vmm/ioeventfd.h"
#include "hw/pc_platform.h"
#include "lib/log.h"

#define PCI_MEM32_BASE PCI_HOLE_START

static void pc_reset(void *ctx)
{
	struct machine *m = ctx;
	vm_request_stop(&m->vm, VM_STOP_RESET, NULL);
}

static void pc_panicked(void *ctx, unsigned events)
{
	struct machine *m = ctx;
	(void)events;
	vm_request_stop(&m->vm, VM_STOP_PANIC, "guest stopped: the guest kernel panicked (pvpanic)");
}

/* COM1 output: to the console, and past the PVM user-space watch when there is one. */
static void pc_com1_tx(void *ctx, const uint8_t *buf, size_t len)
{
	struct machine *m = ctx;
	console_write(m->con, buf, len);
	if (m->user_watch && pvm_user_watch_feed(m->user_watch, buf, len)) {
		vm_request_stop(&m->vm, VM_STOP_EMULATION,
				"guest stopped: its user space cannot run on this PVM host: the first "
				"system call of /init faulted at the kernel's SYSCALL entry (0x%llx), "
				"because SYSCALL from a guest's user mode does not enter its kernel here "
				"unless the kernel is PVM-aware or carries Domus's PV patches; boot the "
				"Domus guest kit (tools/kit/build.sh) or a PVM-aware kernel "
				"(--pvm-aware), or use a host with VT-x/AMD-V",
				(unsigned long long)m->user_watch->addr);
	}
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
	{ PVPANIC_PORT, 1, &pvpanic_ops, offsetof(struct machine, pvpanic), "pvpanic" },
	{ PORT_ACPI_PM, ACPI_PM_LEN, &acpi_pm_ops, offsetof(struct machine, pm), "acpi-pm" },
	/* 0xCF8-0xCFF: PCI configuration; the byte at 0xCF9 is the reset register, forwarded. */
	{ PCI_HOST_PORT, PCI_HOST_PORT_LEN, &pci_host_ops, offsetof(struct machine, pci_host),
	  "pci-host" },
};

/* A kind of virtio device the PC attaches: the size of its struct (struct machine_virtio
 * first), where its transport lies in it, how to set it up and how to tear it down. */
struct machine_virtio_kind {
	const char *what; /* "virtio-net", for messages */
	size_t size;
	size_t vp_off;
	/* Set the device up from arg, its interrupts going to msi. 0, or -errno (with the reason
	 * in err, or machine_virtio_attach() says which device failed how). */
	int (*init)(struct machine_virtio *v, const char *name, const void *arg,
		    const struct virtio_env *env, const struct msi_sink *msi, char *err,
		    size_t errlen);
	/* Tear down what init set up (also after init failed half way). */
	void (*destroy)(struct machine_virtio *v);
};

/* Vectors of each device: one per queue the transport can have, one for config changes. */
#define MACHINE_VIRTIO_VECTORS (VIRTIO_PCI_MAX_QUEUES + 1)

/* Attach a virtio device: allocate it, give it its MSI-X vectors through KVM irqfds, set it
 * up (its transport registers the queue ioeventfds when the guest places its BAR) and plug it
 * into the next free slot of bus 0. It joins m->virtio[] before anything can fail, so
 * machine_destroy() tears down whatever part of it came up. The device, or NULL with err. */
static struct machine_virtio *machine_virtio_attach(struct machine *m,
						    const struct machine_virtio_kind *kind,
						    const char *name, const void *arg, char *err,
						    size_t errlen)
{
	if (m->nvirtio >= MACHINE_MAX_VIRTIO) {
		snprintf(err, errlen, "%s: more than %d virtio devices", name, MACHINE_MAX_VIRTIO);
		return NULL;
	}
	struct machine_virtio *v = calloc(1, kind->size);
	if (!v) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	m->virtio[m->nvirtio++] = v;
	int e = msi_kvm_init(&v->msi, m->vm.vm_fd, &m->vm.routing, MACHINE_VIRTIO_VECTORS);
	if (e < 0) {
		snprintf(err, errlen, "%s: MSI setup: %s", name, strerror(-e));
		return NULL;
	}
	struct msi_sink sink = msi_kvm_sink(&v->msi);
	struct virtio_env env = { .mem = &m->vm.mem, .loop = &m->io, .ioeventfd = vm_ioeventfd,
				  .ioeventfd_ctx = &m->vm };
	v->kind = kind;
	if (errlen)
		err[0] = '\0';
	e = kind->init(v, name, arg, &env, &sink, err, errlen);
	if (e < 0) {
		if (errlen && !err[0])
			snprintf(err, errlen, "%s %s: %s", kind->what, name, strerror(-e));
		return NULL;
	}
	struct pci_device *d = &((struct virtio_pci *)((char *)v + kind->vp_off))->pci;
	if (m->next_slot >= 32 || pci_bus_add(&m->pci, d, PCI_DEVFN(m->next_slot, 0)) < 0) {
		snprintf(err, errlen, "%s: no free PCI slot", d->name);
		return NULL;
	}
	m->next_slot++;
	return v;
}

/* Every virtio device, the last attached first: the device (while the I/O thread still
 * completes its in-flight requests), then its vectors. */
static void machine_virtio_destroy_all(struct machine *m)
{
	for (unsigned i = m->nvirtio; i-- > 0;) {
		struct machine_virtio *v = m->virtio[i];
		if (v->kind)
			v->kind->destroy(v);
		msi_kvm_destroy(&v->msi);
		free(v);
		m->virtio[i] = NULL;
	}
	m->nvirtio = 0;
	m->nnet = 0;
}

/* virtio-blk: arg is the struct machine_disk. */
struct machine_blk {
	struct machine_virtio v;
	struct virtio_blk blk;
};

static int blk_init(struct machine_virtio *v, const char *name, const void *arg,
		    const struct virtio_env *env, const struct msi_sink *msi, char *err,
		    size_t errlen)
{
	const struct machine_disk *d = arg;
	struct machine_blk *b = (struct machine_blk *)v;
	return virtio_blk_init(&b->blk, name, d->path, d->readonly, d->name, env, msi, err,
			       errlen);
}

static void blk_destroy(struct machine_virtio *v)
{
	virtio_blk_destroy(&((struct machine_blk *)v)->blk);
}

static const struct machine_virtio_kind blk_kind = {
	.what = "virtio-blk",
	.size = sizeof(struct machine_blk),
	.vp_off = offsetof(struct machine_blk, blk.vp),
	.init = blk_init,
	.destroy = blk_destroy,
};

/* virtio-net on a TAP the machine opens: arg is the struct machine_nic. */
static int net_init(struct machine_virtio *v, const char *name, const void *arg,
		    const struct virtio_env *env, const struct msi_sink *msi, char *err,
		    size_t errlen)
{
	const struct machine_nic *c = arg;
	struct machine_net *n = (struct machine_net *)v;
	n->tap_fd = tap_open(c->tap, c->bridge, n->ifname, err, errlen);
	if (n->tap_fd < 0)
		return -EIO; /* tap_open() says why in err */
	return virtio_net_init(&n->net, name, n->tap_fd, c->mac, env, msi);
}

static void net_destroy(struct machine_virtio *v)
{
	struct machine_net *n = (struct machine_net *)v;
	virtio_net_destroy(&n->net);
	if (n->tap_fd >= 0)
		close(n->tap_fd);
}

static const struct machine_virtio_kind net_kind = {
	.what = "virtio-net",
	.size = sizeof(struct machine_net),
	.vp_off = offsetof(struct machine_net, net.vp),
	.init = net_init,
	.destroy = net_destroy,
};

/* virtio-console: arg is the machine_config (hvc_out, hvc_in). */
struct machine_hvc {
	struct machine_virtio v;
	struct virtio_console con;
};

static int hvc_init(struct machine_virtio *v, const char *name, const void *arg,
		    const struct virtio_env *env, const struct msi_sink *msi, char *err,
		    size_t errlen)
{
	const struct machine_config *cfg = arg;
	(void)err, (void)errlen;
	return virtio_console_init(&((struct machine_hvc *)v)->con, name, cfg->hvc_out,
				   cfg->hvc_in, env, msi);
}

static void hvc_destroy(struct machine_virtio *v)
{
	virtio_console_destroy(&((struct machine_hvc *)v)->con);
}

static const struct machine_virtio_kind hvc_kind = {
	.what = "virtio-console",
	.size = sizeof(struct machine_hvc),
	.vp_off = offsetof(struct machine_hvc, con.vp),
	.init = hvc_init,
	.destroy = hvc_destroy,
};

/* virtio-rng: no arg. */
struct machine_rng {
	struct machine_virtio v;
	struct virtio_rng rng;
};

static int rng_init(struct machine_virtio *v, const char *name, const void *arg,
		    const struct virtio_env *env, const struct msi_sink *msi, char *err,
		    size_t errlen)
{
	(void)arg, (void)err, (void)errlen;
	return virtio_rng_init(&((struct machine_rng *)v)->rng, name, env, msi);
}

static void rng_destroy(struct machine_virtio *v)
{
	virtio_rng_destroy(&((struct machine_rng *)v)->rng);
}

static const struct machine_virtio_kind rng_kind = {
	.what = "virtio-rng",
	.size = sizeof(struct machine_rng),
	.vp_off = offsetof(struct machine_rng, rng.vp),
	.init = rng_init,
	.destroy = rng_destroy,
};

/* Virtio devices on bus 0 from slot 1 up: disks in the order given, then the NICs, the console
 * and the entropy source. */
static int add_pv_devices(struct machine *m, const struct machine_config *cfg, char *err,
			  size_t errlen)
{
	/* slot 1 is the PIIX on the FV PC */
	m->next_slot = cfg->fv_devices ? 2 : 1;
	if (cfg->ndisks > DOMUS_MAX_DISKS) {
		snprintf(err, errlen, "%u disks: at most %d", cfg->ndisks, DOMUS_MAX_DISKS);
		return -1;
	}
	for (unsigned i = 0; i < cfg->ndisks; i++)
		if (!machine_virtio_attach(m, &blk_kind, cfg->disks[i].name, &cfg->disks[i], err,
					   errlen))
			return -1;
	if (cfg->nnics > DOMUS_MAX_NICS) {
		snprintf(err, errlen, "%u NICs: at most %d", cfg->nnics, DOMUS_MAX_NICS);
		return -1;
	}
	for (unsigned i = 0; i < cfg->nnics; i++) {
		const struct machine_nic *c = &cfg->nics[i];
		char name[16];
		snprintf(name, sizeof(name), "net%u", i);
		struct machine_net *n =
			(struct machine_net *)machine_virtio_attach(m, &net_kind, name, c, err, errlen);
		if (!n)
			return -1;
		m->net[m->nnet++] = n;
		if (cfg->persist && (cfg->persist->nic_link_down >> i & 1))
			virtio_net_set_link(&n->net, false);
		log_debug("%s: TAP %s on bridge %s, MAC %02x:%02x:%02x:%02x:%02x:%02x", name,
			  n->ifname, c->bridge ? c->bridge : "(none)", c->mac[0], c->mac[1],
			  c->mac[2], c->mac[3], c->mac[4], c->mac[5]);
	}
	if (cfg->hvc_out >= 0 && !machine_virtio_attach(m, &hvc_kind, "hvc0", cfg, err, errlen))
		return -1;
	if (cfg->rng && !machine_virtio_attach(m, &rng_kind, "rng0", NULL, err, errlen))
		return -1;
	return 0;
}

/* The host CPUs of each vCPU: cfg->cpus checked against this host, then what vcpu-pin set
 * before a reboot. *sets and *pinned NULL: no pinning. 0, or -1 with err naming the key. */
static int vcpu_affinity(const struct machine_config *cfg, cpu_set_t **sets, bool **pinned,
			 char *err, size_t errlen)
{
	*sets = NULL;
	*pinned = NULL;
	bool any = cfg->cpus != NULL;
	for (unsigned i = 0; cfg->persist && i < cfg->vcpus && i < DOMUS_MAX_VCPUS; i++)
		any |= cfg->persist->vcpu_pinned[i];
	if (!any || cfg->vcpus == 0 || cfg->vcpus > DOMUS_MAX_VCPUS)
		return 0; /* vm_create() refuses a bad vCPU count */
	struct cpuset_host *host = malloc(sizeof(*host));
	*sets = calloc(cfg->vcpus, sizeof(**sets));
	*pinned = calloc(cfg->vcpus, sizeof(**pinned));
	char e[384];
	int r = -1;
	if (!host || !*sets || !*pinned)
		snprintf(err, errlen, "out of memory");
	else if (cpuset_host_read(host, e, sizeof(e)) < 0)
		snprintf(err, errlen, "cpus: %s", e);
	else if (cpuset_parse_pinning(cfg->cpus, cfg->vcpus, host, *sets, *pinned, e,
				      sizeof(e)) < 0)
		snprintf(err, errlen, "cpus \"%.64s\": %s", cfg->cpus, e);
	else
		r = 0;
	free(host);
	if (r < 0) {
		free(*sets);
		free(*pinned);
		*sets = NULL;
		*pinned = NULL;
		return -1;
	}
	for (unsigned i = 0; cfg->persist && i < cfg->vcpus; i++)
		if (cfg->persist->vcpu_pinned[i]) {
			(*sets)[i] = cfg->persist->vcpu_pin[i];
			(*pinned)[i] = true;
		}
	return 0;
}

int machine_create(struct machine *m, const struct machine_config *cfg, struct console *con,
		   char *err, size_t errlen)
{
	memset(m, 0, sizeof(*m));
	m->con = con;
	cpu_set_t *affinity;
	bool *pinned;
	if (vcpu_affinity(cfg, &affinity, &pinned, err, errlen) < 0)
		return -1;
	struct vm_config vc = { .mem_bytes = cfg->mem_bytes,
				.nr_vcpus = cfg->vcpus,
				.triple_fault_reset = cfg->triple_fault_reset,
				.vga_hole = cfg->firmware != NULL || cfg->fv_devices,
				.affinity = affinity,
				.pinned = pinned };
	int vr = vm_create(&m->vm, &vc, err, errlen);
	free(affinity);
	free(pinned);
	if (vr < 0)
		return -1;
	struct vm *vm = &m->vm;

	irq_init(&m->irq_kbd, vm, IRQ_KBD);
	irq_init(&m->irq_com1, vm, IRQ_COM1);
	irq_init(&m->irq_rtc, vm, IRQ_RTC);
	irq_init(&m->irq_sci, vm, IRQ_SCI);
	if (cfg->watch_pvm_user) {
		m->user_watch = malloc(sizeof(*m->user_watch));
		if (!m->user_watch) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		pvm_user_watch_init(m->user_watch);
	}
	uart16550_init(&m->com1, &m->irq_com1, pc_com1_tx, m);
	rtc_mc146818_init(&m->rtc, &m->irq_rtc, NULL);
	m->persist = cfg->persist;
	if (m->persist && m->persist->valid)
		rtc_mc146818_restore(&m->rtc, m->persist->cmos, m->persist->rtc_offset_s);
	i8042_init(&m->kbc, &m->irq_kbd, pc_reset, m);
	acpi_pm_init(&m->pm, &m->irq_sci, pc_sleep, m, 1);
	m->cf9 = (struct reset_cf9){ .reset = pc_reset, .ctx = m };
	m->pvpanic = (struct pvpanic){ .panicked = pc_panicked, .ctx = m };
	m->devices_up = 1;
	struct ram_layout l;
	ram_layout_for(cfg->mem_bytes, &l);
	uint64_t m64 = (HIGH_RAM_START + l.high_size + (1ull << 30) - 1) & ~((1ull << 30) - 1);
	struct pci_windows pw = { .io_base = PCI_IO_BASE, .io_end = PCI_IO_END,
				  .mem32_base = PCI_MEM32_BASE, .mem32_end = PCI_MEM32_END,
				  .mem64_base = m64, .mem64_end = m64 + PCI_MEM64_SIZE };
	pci_bus_init(&m->pci, &vm->pio, &vm->mmio, vm_irq_set, vm, &pw);
	m->pci_up = 1;
	if (pci_host_init(&m->pci_host, &m->pci, &m->cf9) < 0) {
		snprintf(err, errlen, "PCI host bridge: slot 0 taken");
		return -1;
	}
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

	int e = evl_init(&m->io);
	if (e < 0) {
		snprintf(err, errlen, "I/O thread: %s", strerror(-e));
		return -1;
	}
	m->io_up = 1;
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
	if (add_pv_devices(m, cfg, err, errlen) < 0)
		return -1;
	if (pci_bus_assign(&m->pci) < 0) {
		snprintf(err, errlen, "PCI: the BARs do not fit in the PCI windows");
		return -1;
	}
	struct e820_table e820;
	if (e820_build(&e820, &l) < 0) {
		snprintf(err, errlen, "memory map: too little RAM");
		return -1;
	}
	struct acpi_pci acpi_pci = { .mem32_base = pw.mem32_base, .mem32_end = pw.mem32_end,
				     .mem64_base = pw.mem64_base, .mem64_end = pw.mem64_end };
	memcpy(acpi_pci.pirq_gsi, pci_pirq_gsi, sizeof(acpi_pci.pirq_gsi));
	struct acpi_config ac = { .nr_cpus = cfg->vcpus,
				  .with_ioapic = !vm_isa_irqs_via_pic(vm),
				  .pm_base = PORT_ACPI_PM,
				  .sci_irq = IRQ_SCI,
				  .pci = &acpi_pci,
				  .pvpanic_port = PVPANIC_PORT };
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
	int e = evl_start(&m->io);
	if (e < 0) {
		snprintf(err, errlen, "cannot start the I/O thread: %s", strerror(-e));
		return -1;
	}
	return vm_start(&m->vm, err, errlen);
}

void machine_power_button(struct machine *m)
{
	acpi_pm_power_button(&m->pm);
}

int machine_find_nic(const struct machine *m, const char *what)
{
	char *end;
	unsigned long i = strtoul(what, &end, 10);
	if (*what >= '0' && *what <= '9' && !*end)
		return i < m->nnet ? (int)i : -1;
	for (unsigned j = 0; j < m->nnet; j++)
		if (!strcmp(what, m->net[j]->net.vp.name) || !strcmp(what, m->net[j]->ifname))
			return (int)j;
	return -1;
}

int machine_set_nic_link(struct machine *m, unsigned i, bool up)
{
	if (i >= m->nnet)
		return -ENODEV;
	virtio_net_set_link(&m->net[i]->net, up);
	if (m->persist) {
		if (up)
			m->persist->nic_link_down &= ~(1u << i);
		else
			m->persist->nic_link_down |= 1u << i;
	}
	return 0;
}

int machine_pin_vcpus(struct machine *m, bool all, unsigned i, const cpu_set_t *set, char *err,
		      size_t errlen)
{
	unsigned first = all ? 0 : i, end = all ? m->vm.nr_vcpus : i + 1;
	if (!all && i >= m->vm.nr_vcpus) {
		snprintf(err, errlen, "no vCPU %u (this domain has %u: 0-%u)", i, m->vm.nr_vcpus,
			 m->vm.nr_vcpus - 1);
		return -1;
	}
	for (unsigned v = first; v < end; v++)
		if (vm_vcpu_pin(&m->vm, v, set, err, errlen) < 0)
			return -1;
	for (unsigned v = first; m->persist && v < end && v < DOMUS_MAX_VCPUS; v++) {
		m->persist->vcpu_pin[v] = *set;
		m->persist->vcpu_pinned[v] = true;
	}
	return 0;
}

void machine_destroy(struct machine *m)
{
	if (m->con)
		console_set_sink(m->con, NULL, NULL);
	if (vm_stopped(&m->vm) == VM_RUNNING)
		vm_request_stop(&m->vm, VM_STOP_SIGNAL, NULL);
	vm_wait(&m->vm);
	if (m->pci_up)
		pci_bus_unmap_all(&m->pci);
	/* Devices first, while the I/O thread still completes their in-flight requests. */
	machine_virtio_destroy_all(m);
	if (m->io_up)
		evl_destroy(&m->io);
	if (m->pci_up)
		pci_bus_destroy(&m->pci);
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
	free(m->user_watch);
	memset(m, 0, sizeof(*m));
}
