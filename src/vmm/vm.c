#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vmm/cpuid.h"
#include "vmm/ram_layout.h"
#include "vmm/emu_cpu.h"
#include "vmm/emulate.h"
#include "lib/atomic_file.h"
#include "lib/cpulist.h"
#include "lib/log.h"

#define KICK_SIGNAL SIGUSR1
#define KVM_TSS_ADDR 0xFFFBD000u
#define KVM_IDENTITY_MAP_ADDR 0xFFFBC000ull
#define MAX_VCPUS 64
#define VGA_HOLE_START 0xA0000ull
#define VGA_HOLE_END 0xC0000ull
#define ROM_SLOT 2


static uint8_t *map_ram(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	madvise(p, size, MADV_HUGEPAGE);  /* fewer EPT/shadow entries; fine to fail */
	madvise(p, size, MADV_DONTDUMP); /* a monitor core dump must not carry guest RAM */
	return p;
}

static int set_slot_flags(struct vm *vm, unsigned slot, uint64_t gpa, uint64_t size, void *hva,
			  uint32_t flags)
{
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};
	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

static int set_slot(struct vm *vm, unsigned slot, uint64_t gpa, uint64_t size, void *hva)
{
	return set_slot_flags(vm, slot, gpa, size, hva, 0);
}

int vm_add_rom(struct vm *vm, uint64_t gpa, void *hva, uint64_t size, char *err, size_t errlen)
{
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0)
		return errf(err, errlen, "this KVM cannot map read-only memory (firmware ROM)");
	if (set_slot_flags(vm, ROM_SLOT, gpa, size, hva, KVM_MEM_READONLY) < 0)
		return errf(err, errlen, "KVM_SET_USER_MEMORY_REGION (ROM at 0x%llx): %s",
			    (unsigned long long)gpa, strerror(errno));
	return 0;
}

int vm_isa_irqs_via_pic(const struct vm *vm)
{
	return host_pic_routing(vm->host.mode, getenv(HOST_FORCE_PIC_ENV));
}

static uint64_t host_mem_total(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long kb = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

int vm_create(struct vm *vm, const struct vm_config *cfg, char *err, size_t errlen)
{
	memset(vm, 0, sizeof(*vm));
	vm->kvm_fd = vm->vm_fd = vm->event_fd = -1;
	vm->cfg = *cfg;
	pthread_mutex_init(&vm->lock, NULL);
	pthread_cond_init(&vm->cond, NULL);
	bus_init(&vm->pio, "port");
	bus_init(&vm->mmio, "mmio");

	if (cfg->nr_vcpus == 0 || cfg->nr_vcpus > MAX_VCPUS)
		return errf(err, errlen, "vcpus %u: must be between 1 and %d", cfg->nr_vcpus,
			    MAX_VCPUS);
	vm->cfg.affinity = NULL;
	vm->cfg.pinned = NULL;
	if (cfg->affinity && cfg->pinned) {
		vm->affinity = calloc(cfg->nr_vcpus, sizeof(*vm->affinity));
		vm->pinned = calloc(cfg->nr_vcpus, sizeof(*vm->pinned));
		if (!vm->affinity || !vm->pinned)
			return errf(err, errlen, "out of memory");
		memcpy(vm->affinity, cfg->affinity, cfg->nr_vcpus * sizeof(*vm->affinity));
		memcpy(vm->pinned, cfg->pinned, cfg->nr_vcpus * sizeof(*vm->pinned));
	}
	if (cfg->mem_bytes < 16ull << 20)
		return errf(err, errlen, "memory %llu MiB: at least 16 MiB is needed",
			    (unsigned long long)(cfg->mem_bytes >> 20));
	uint64_t total = host_mem_total();
	if (total && cfg->mem_bytes > total)
		return errf(err, errlen, "memory %llu MiB: this host has only %llu MiB",
			    (unsigned long long)(cfg->mem_bytes >> 20),
			    (unsigned long long)(total >> 20));

	host_detect(&vm->host);
	if (!vm->host.kvm_usable)
		return errf(err, errlen, "KVM: %s", vm->host.why);
	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return errf(err, errlen, "cannot open /dev/kvm: %s", strerror(errno));
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return errf(err, errlen, "KVM_CREATE_VM: %s", strerror(errno));
	int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz <= 0)
		return errf(err, errlen, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
	vm->run_size = (size_t)sz;
	vm->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->event_fd < 0)
		return errf(err, errlen, "eventfd: %s", strerror(errno));

	/* VT-x needs these three pages below 4 GiB; other hosts ignore or refuse them. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
		log_debug("KVM_SET_TSS_ADDR: %s", strerror(errno));
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		log_debug("KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
	/* Report every emulation failure to us, with the instruction bytes, so that we can
	 * complete what KVM's emulator cannot (PVM hosts) or name it. */
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_EXIT_ON_EMULATION_FAILURE) > 0) {
		struct kvm_enable_cap cap = { .cap = KVM_CAP_EXIT_ON_EMULATION_FAILURE,
					      .args = { 1 } };
		if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
			log_debug("KVM_CAP_EXIT_ON_EMULATION_FAILURE: %s", strerror(errno));
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return errf(err, errlen, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return errf(err, errlen, "KVM_CREATE_PIT2: %s", strerror(errno));
	/* On PVM hosts interrupts routed through the in-kernel IOAPIC never reach the guest
	 * (measured; see docs/pvm-host.md), so ISA IRQs go to the 8259 PIC only and
	 * the MADT lists no IOAPIC. vmm/irq_routing.c owns the table (MSI routes join later). */
	if (vm_isa_irqs_via_pic(vm))
		log_debug("ISA interrupts through the 8259 PIC only, no IOAPIC in the MADT (%s)",
			  vm->host.mode == HOST_PVM ? "PVM host" : HOST_FORCE_PIC_ENV "=1");
	int re = irq_routing_init(&vm->routing, vm->vm_fd, vm_isa_irqs_via_pic(vm));
	if (re < 0)
		return errf(err, errlen, "KVM_SET_GSI_ROUTING: %s", strerror(-re));
	vm->routing_up = 1;

	struct ram_layout l;
	ram_layout_for(cfg->mem_bytes, &l);
	vm->low_size = l.low_size;
	vm->high_size = l.high_size;
	vm->ram_low = map_ram(vm->low_size);
	if (!vm->ram_low)
		return errf(err, errlen, "cannot map %llu MiB of guest RAM: %s",
			    (unsigned long long)(vm->low_size >> 20), strerror(errno));
	if (cfg->vga_hole) {
		/* The legacy VGA window is emulated video memory; RAM resumes at 0xC0000. */
		guest_mem_add(&vm->mem, 0, VGA_HOLE_START, vm->ram_low);
		guest_mem_add(&vm->mem, VGA_HOLE_END, vm->low_size - VGA_HOLE_END,
			      vm->ram_low + VGA_HOLE_END);
		if (set_slot(vm, 0, 0, VGA_HOLE_START, vm->ram_low) < 0 ||
		    set_slot(vm, 3, VGA_HOLE_END, vm->low_size - VGA_HOLE_END,
			     vm->ram_low + VGA_HOLE_END) < 0)
			return errf(err, errlen, "KVM_SET_USER_MEMORY_REGION: %s",
				    strerror(errno));
	} else {
		guest_mem_add(&vm->mem, 0, vm->low_size, vm->ram_low);
		if (set_slot(vm, 0, 0, vm->low_size, vm->ram_low) < 0)
			return errf(err, errlen, "KVM_SET_USER_MEMORY_REGION: %s",
				    strerror(errno));
	}
	if (vm->high_size) {
		vm->ram_high = map_ram(vm->high_size);
		if (!vm->ram_high)
			return errf(err, errlen, "cannot map %llu MiB of guest RAM: %s",
				    (unsigned long long)(vm->high_size >> 20), strerror(errno));
		guest_mem_add(&vm->mem, HIGH_RAM_START, vm->high_size, vm->ram_high);
		if (set_slot(vm, 1, HIGH_RAM_START, vm->high_size, vm->ram_high) < 0)
			return errf(err, errlen, "KVM_SET_USER_MEMORY_REGION (high): %s",
				    strerror(errno));
	}

	/* What KVM can offer; each vCPU gets a shaped copy. */
	for (unsigned n = 64; n <= 4096; n *= 2) {
		vm->cpuid = calloc(1, sizeof(*vm->cpuid) + n * sizeof(struct kvm_cpuid_entry2));
		if (!vm->cpuid)
			return errf(err, errlen, "out of memory");
		vm->cpuid->nent = n;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, vm->cpuid) == 0)
			break;
		int e = errno;
		free(vm->cpuid);
		vm->cpuid = NULL;
		if (e != E2BIG)
			return errf(err, errlen, "KVM_GET_SUPPORTED_CPUID: %s", strerror(e));
	}
	if (!vm->cpuid)
		return errf(err, errlen, "KVM_GET_SUPPORTED_CPUID: table too large");
	if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
		cpuid_offer_tsc_deadline(vm->cpuid->entries, vm->cpuid->nent);
	return 0;
}

/* LINT0 in ExtINT mode lets the 8259 PIC reach the CPU (virtual wire); LINT1 carries NMI. */
static int setup_lapic(struct vcpu *c)
{
	struct kvm_lapic_state s;
	if (ioctl(c->fd, KVM_GET_LAPIC, &s) < 0)
		return -1;
	uint32_t lvt0, lvt1;
	memcpy(&lvt0, &s.regs[0x350], 4);
	memcpy(&lvt1, &s.regs[0x360], 4);
	lvt0 = (lvt0 & ~0x1C7FFu) | (7u << 8); /* unmasked, ExtINT */
	lvt1 = (lvt1 & ~0x1C7FFu) | (4u << 8); /* unmasked, NMI */
	memcpy(&s.regs[0x350], &lvt0, 4);
	memcpy(&s.regs[0x360], &lvt1, 4);
	return ioctl(c->fd, KVM_SET_LAPIC, &s);
}

int vm_create_vcpus(struct vm *vm, char *err, size_t errlen)
{
	unsigned n = vm->cfg.nr_vcpus;
	vm->vcpus = calloc(n, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return errf(err, errlen, "out of memory");
	size_t csz = sizeof(*vm->cpuid) + vm->cpuid->nent * sizeof(struct kvm_cpuid_entry2);
	struct kvm_cpuid2 *cp = malloc(csz);
	if (!cp)
		return errf(err, errlen, "out of memory");
	for (unsigned i = 0; i < n; i++) {
		struct vcpu *c = &vm->vcpus[i];
		c->vm = vm;
		c->id = i;
		c->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, i);
		if (c->fd < 0) {
			free(cp);
			return errf(err, errlen, "KVM_CREATE_VCPU %u: %s", i, strerror(errno));
		}
		vm->nr_vcpus = i + 1;
		c->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
		if (c->run == MAP_FAILED) {
			c->run = NULL;
			free(cp);
			return errf(err, errlen, "mmap vCPU %u: %s", i, strerror(errno));
		}
		memcpy(cp, vm->cpuid, csz);
		cpuid_shape(cp->entries, cp->nent, i, n);
		if (ioctl(c->fd, KVM_SET_CPUID2, cp) < 0) {
			free(cp);
			return errf(err, errlen, "KVM_SET_CPUID2 %u: %s", i, strerror(errno));
		}
		if (setup_lapic(c) < 0) {
			free(cp);
			return errf(err, errlen, "vCPU %u local APIC: %s", i, strerror(errno));
		}
	}
	free(cp);
	return 0;
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int code64)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xFFFFFFFF,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = code64 ? 0 : 1,
		.s = 1,
		.l = code64 ? 1 : 0,
		.g = 1,
	};
}

int vm_set_boot_entry(struct vm *vm, const struct boot_entry *e, char *err, size_t errlen)
{
	struct vcpu *c = &vm->vcpus[0];
	struct kvm_sregs sr;
	struct kvm_regs r;
	if (ioctl(c->fd, KVM_GET_SREGS, &sr) < 0)
		return errf(err, errlen, "KVM_GET_SREGS: %s", strerror(errno));
	memset(&r, 0, sizeof(r));
	r.rflags = 0x2;
	r.rip = e->rip;
	if (e->mode == BOOT_ENTRY_PVH32) {
		/* Flat 32-bit protected mode, paging off (the PVH boot ABI). A small GDT in memory
		 * matches the hidden segment state, for guests that reload selectors. */
		uint64_t gdt[4] = { 0, 0, 0x00CF9B000000FFFFull, 0x00CF93000000FFFFull };
		if (guest_write(&vm->mem, BOOT_GDT_ADDR, gdt, sizeof(gdt)) < 0)
			return errf(err, errlen, "guest RAM too small");
		seg(&sr.cs, 0x10, 0xB, 0);
		seg(&sr.ds, 0x18, 0x3, 0);
		sr.cr0 = 0x11; /* PE | ET */
		sr.cr4 = 0;
		sr.efer = 0;
		r.rbx = e->arg;
	} else {
		seg(&sr.cs, 0x10, 0xB, 1);
		seg(&sr.ds, 0x18, 0x3, 0);
		sr.cr3 = e->pagetable;
		sr.cr4 = 0x20;                  /* PAE */
		sr.cr0 = 0x80000011;            /* PG | ET | PE */
		sr.efer = 0x500;                /* LME | LMA */
		r.rsi = e->arg;
	}
	sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
	sr.gdt.base = BOOT_GDT_ADDR;
	sr.gdt.limit = 4 * 8 - 1;
	sr.tr = (struct kvm_segment){ .limit = 0x67, .type = 0xB, .present = 1 };
	sr.ldt = (struct kvm_segment){ .limit = 0xFFFF, .type = 0x2, .present = 1 };
	if (ioctl(c->fd, KVM_SET_SREGS, &sr) < 0)
		return errf(err, errlen, "KVM_SET_SREGS: %s", strerror(errno));
	if (ioctl(c->fd, KVM_SET_REGS, &r) < 0)
		return errf(err, errlen, "KVM_SET_REGS: %s", strerror(errno));
	return 0;
}

static const char *cpu_mode(const struct kvm_sregs *s)
{
	if (!(s->cr0 & 1))
		return "real mode";
	if (s->efer & 0x400)
		return s->cs.l ? "64-bit mode" : "compatibility mode";
	return s->cs.db ? "32-bit protected mode" : "16-bit protected mode";
}

/* Instruction bytes at the guest's CS:RIP, through KVM_TRANSLATE when KVM gave none. */
static size_t fetch_insn(struct vcpu *c, const struct kvm_sregs *s, uint64_t rip, uint8_t *buf,
			 size_t len)
{
	uint64_t lin = (s->efer & 0x400) && s->cs.l ? rip : s->cs.base + rip;
	size_t got = 0;
	while (got < len) {
		struct kvm_translation t = { .linear_address = lin + got };
		if (ioctl(c->fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
			break;
		size_t in_page = 4096 - ((lin + got) & 0xFFF);
		size_t n = len - got < in_page ? len - got : in_page;
		if (guest_read(&c->vm->mem, t.physical_address, buf + got, n) < 0)
			break;
		got += n;
	}
	return got;
}

/* Guest linear memory for emu_cpu.c: KVM_TRANSLATE page by page, then guest RAM. Every page
 * is translated before any byte is copied: a write that faults on its second page must not
 * have changed the first, or the guest's retry (say of a CMPXCHG8B across a copy-on-write
 * page) would see its own half-written operand. */
static int emu_access(struct vcpu *c, uint64_t lin, void *buf, size_t len, int write,
		      uint32_t *pf_err, uint64_t *pf_addr)
{
	for (int copy = 0; copy < 2; copy++) {
		size_t done = 0;
		while (done < len) {
			uint64_t a = lin + done;
			struct kvm_translation t = { .linear_address = a };
			size_t n = 4096 - (a & 0xFFF);
			if (n > len - done)
				n = len - done;
			if (ioctl(c->fd, KVM_TRANSLATE, &t) < 0 || !t.valid ||
			    (write && !t.writeable)) {
				*pf_err = (t.valid ? 1u : 0u) | (write ? 2u : 0u);
				*pf_addr = a;
				return -1;
			}
			void *p = gpa_to_hva(&c->vm->mem, t.physical_address, n);
			if (!p) { /* MMIO or nothing: the fallback does not emulate devices */
				*pf_err = write ? 2u : 0u;
				*pf_addr = a;
				return -1;
			}
			if (copy && write)
				memcpy(p, (const uint8_t *)buf + done, n);
			else if (copy)
				memcpy((uint8_t *)buf + done, p, n);
			done += n;
		}
	}
	return 0;
}

static int emu_mem_read(void *ctx, uint64_t lin, void *buf, size_t len, uint32_t *pf_err,
			uint64_t *pf_addr)
{
	return emu_access(ctx, lin, buf, len, 0, pf_err, pf_addr);
}

static int emu_mem_write(void *ctx, uint64_t lin, const void *buf, size_t len,
			 uint32_t *pf_err, uint64_t *pf_addr)
{
	return emu_access(ctx, lin, (void *)(uintptr_t)buf, len, 1, pf_err, pf_addr);
}

static const struct emu_mem_ops emu_mem = { emu_mem_read, emu_mem_write };

/* FXSAVE image <-> struct kvm_fpu, for hosts without KVM_GET_XSAVE. */
static void fpu_to_fx(const struct kvm_fpu *f, uint8_t *fx)
{
	memset(fx, 0, 512);
	memcpy(fx + 0, &f->fcw, 2);
	memcpy(fx + 2, &f->fsw, 2);
	fx[4] = f->ftwx;
	memcpy(fx + 6, &f->last_opcode, 2);
	memcpy(fx + 8, &f->last_ip, 8);
	memcpy(fx + 16, &f->last_dp, 8);
	memcpy(fx + 24, &f->mxcsr, 4);
	memcpy(fx + 32, f->fpr, 128);
	memcpy(fx + 160, f->xmm, 256);
}

static void fx_to_fpu(const uint8_t *fx, struct kvm_fpu *f)
{
	memcpy(&f->fcw, fx + 0, 2);
	memcpy(&f->fsw, fx + 2, 2);
	f->ftwx = fx[4];
	memcpy(&f->last_opcode, fx + 6, 2);
	memcpy(&f->last_ip, fx + 8, 8);
	memcpy(&f->last_dp, fx + 16, 8);
	memcpy(&f->mxcsr, fx + 24, 4);
	memcpy(f->fpr, fx + 32, 128);
	memcpy(f->xmm, fx + 160, 256);
}

static int inject(struct vcpu *c, uint8_t vector, int has_error, uint32_t error)
{
	struct kvm_vcpu_events ev;
	if (ioctl(c->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
		return -1;
	ev.exception.injected = 1;
	ev.exception.nr = vector;
	ev.exception.has_error_code = (uint8_t)has_error;
	ev.exception.error_code = error;
	ev.flags = 0;
	return ioctl(c->fd, KVM_SET_VCPU_EVENTS, &ev);
}

/* Complete the instruction with emu_cpu.c. 1 done (or an exception injected), 0 declined,
 * -1 on a KVM failure (errno set). */
static int emulate_fallback(struct vcpu *c, const struct kvm_regs *regs,
			    const struct kvm_sregs *sregs, const uint8_t *insn, size_t n,
			    const char **name)
{
	struct emu_cpu *e = calloc(1, sizeof(*e));
	struct kvm_xsave *xs = NULL;
	struct kvm_fpu fpu;
	int r = -1;
	if (!e)
		return 0;
	e->regs = *regs;
	e->sregs = *sregs;
	e->mem = &emu_mem;
	e->mem_ctx = c;
	if (ioctl(c->vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0 &&
	    (xs = calloc(1, sizeof(*xs))) != NULL && ioctl(c->fd, KVM_GET_XSAVE, xs) == 0) {
		memcpy(e->xs, xs->region, EMU_XSAVE_SIZE);
		e->xsave_valid = 1;
		struct kvm_xcrs xcrs;
		if (ioctl(c->vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0 &&
		    ioctl(c->fd, KVM_GET_XCRS, &xcrs) == 0)
			for (unsigned i = 0; i < xcrs.nr_xcrs && i < KVM_MAX_XCRS; i++)
				if (xcrs.xcrs[i].xcr == 0)
					e->xcr0 = xcrs.xcrs[i].value;
	} else if (ioctl(c->fd, KVM_GET_FPU, &fpu) == 0) {
		fpu_to_fx(&fpu, e->xs);
	} else {
		goto out;
	}
	enum emu_result res = emu_execute(e, insn, n);
	*name = e->name;
	if (res == EMU_DECLINED) {
		r = 0;
		goto out;
	}
	if (res == EMU_FAULT) {
		if (e->vector == 14) {
			struct kvm_sregs s2 = *sregs;
			s2.cr2 = e->cr2;
			if (ioctl(c->fd, KVM_SET_SREGS, &s2) < 0)
				goto out;
		}
		if (inject(c, e->vector, e->has_error, e->error) < 0)
			goto out;
		log_debug("vCPU %u: %s at rip 0x%llx raised exception %u", c->id,
			  e->name ? e->name : "instruction", (unsigned long long)regs->rip,
			  e->vector);
		r = 1;
		goto out;
	}
	if ((e->dirty & EMU_DIRTY_SREGS) && ioctl(c->fd, KVM_SET_SREGS, &e->sregs) < 0)
		goto out;
	if ((e->dirty & EMU_DIRTY_REGS) && ioctl(c->fd, KVM_SET_REGS, &e->regs) < 0)
		goto out;
	if (e->dirty & EMU_DIRTY_FPU) {
		if (e->xsave_valid) {
			memcpy(xs->region, e->xs, EMU_XSAVE_SIZE);
			if (ioctl(c->fd, KVM_SET_XSAVE, xs) < 0)
				goto out;
		} else {
			fx_to_fpu(e->xs, &fpu);
			if (ioctl(c->fd, KVM_SET_FPU, &fpu) < 0)
				goto out;
		}
	}
	log_debug("vCPU %u: completed %s at rip 0x%llx for KVM's emulator", c->id,
		  e->name ? e->name : "an instruction", (unsigned long long)regs->rip);
	r = 1;
out:
	free(xs);
	free(e);
	return r;
}

static void handle_emulation_failure(struct vcpu *c)
{
	struct kvm_run *run = c->run;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	if (ioctl(c->fd, KVM_GET_REGS, &regs) < 0 || ioctl(c->fd, KVM_GET_SREGS, &sregs) < 0) {
		vm_request_stop(c->vm, VM_STOP_KVM_ERROR, "vCPU %u: emulation failure, and the "
			       "registers cannot be read: %s", c->id, strerror(errno));
		return;
	}
	uint8_t insn[15];
	size_t n = 0;
	if (run->emulation_failure.ndata >= 3 &&
	    (run->emulation_failure.flags & KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		n = run->emulation_failure.insn_size;
		if (n > sizeof(insn))
			n = sizeof(insn);
		memcpy(insn, run->emulation_failure.insn_bytes, n);
	} else {
		n = fetch_insn(c, &sregs, regs.rip, insn, sizeof(insn));
	}
	int long_mode = (sregs.efer & 0x400) && sregs.cs.l;
	struct emu_fix fix;
	emu_classify(insn, n, long_mode, &fix);
	if (fix.action != EMU_UNHANDLED) {
		regs.rip += fix.len;
		if (!long_mode)
			regs.rip &= sregs.cs.db ? 0xFFFFFFFFull : 0xFFFFull;
		if (ioctl(c->fd, KVM_SET_REGS, &regs) < 0)
			goto fail_set;
		if (fix.action == EMU_INJECT_BP) {
			struct kvm_vcpu_events ev;
			if (ioctl(c->fd, KVM_GET_VCPU_EVENTS, &ev) < 0)
				goto fail_set;
			ev.exception.injected = 1;
			ev.exception.nr = 3;
			ev.exception.has_error_code = 0;
			ev.flags = 0;
			if (ioctl(c->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
				goto fail_set;
		}
		log_debug("vCPU %u: completed %s at rip 0x%llx for KVM's emulator", c->id, fix.name,
			  (unsigned long long)(regs.rip - fix.len));
		return;
	}
	const char *done_name = NULL;
	int er = emulate_fallback(c, &regs, &sregs, insn, n, &done_name);
	if (er > 0)
		return;
	if (er < 0) {
		vm_request_stop(c->vm, VM_STOP_KVM_ERROR, "vCPU %u: cannot complete %s: %s", c->id,
				done_name ? done_name : "an instruction", strerror(errno));
		return;
	}
	char bytes[64];
	emu_format_bytes(insn, n, bytes, sizeof(bytes));
	vm_request_stop(c->vm, VM_STOP_EMULATION,
			"guest stopped: vCPU %u: KVM cannot emulate the instruction at "
			"rip=0x%llx (%s, cpl %u): bytes [%s]%s%s%s",
			c->id, (unsigned long long)regs.rip, cpu_mode(&sregs), sregs.cs.dpl & 3,
			n ? bytes : "unreadable", fix.name ? " (" : "", fix.name ? fix.name : "",
			fix.name ? ")" : "");
	return;
fail_set:
	vm_request_stop(c->vm, VM_STOP_KVM_ERROR, "vCPU %u: cannot complete %s: %s", c->id,
			fix.name, strerror(errno));
}

static void handle_io(struct vcpu *c)
{
	struct kvm_run *run = c->run;
	unsigned size = run->io.size;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	if (size != 1 && size != 2 && size != 4)
		return;
	if (run->io.data_offset + (uint64_t)run->io.count * size > c->vm->run_size)
		return;
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		if (run->io.direction == KVM_EXIT_IO_OUT) {
			uint64_t v = 0;
			memcpy(&v, data, size);
			bus_write(&c->vm->pio, run->io.port, size, v);
		} else {
			uint64_t v;
			bus_read(&c->vm->pio, run->io.port, size, &v);
			memcpy(data, &v, size);
		}
	}
}

static void handle_mmio(struct vcpu *c)
{
	struct kvm_run *run = c->run;
	unsigned len = run->mmio.len;
	if (len == 0 || len > 8)
		return;
	if (run->mmio.is_write) {
		uint64_t v = 0;
		memcpy(&v, run->mmio.data, len);
		bus_write(&c->vm->mmio, run->mmio.phys_addr, len, v);
	} else {
		uint64_t v;
		bus_read(&c->vm->mmio, run->mmio.phys_addr, len, &v);
		memcpy(run->mmio.data, &v, len);
	}
}

static void report_rip(struct vcpu *c, enum vm_stop why, const char *what)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	if (ioctl(c->fd, KVM_GET_REGS, &regs) == 0 && ioctl(c->fd, KVM_GET_SREGS, &sregs) == 0)
		vm_request_stop(c->vm, why, "guest stopped: vCPU %u: %s at rip=0x%llx (%s)", c->id,
				what, (unsigned long long)regs.rip, cpu_mode(&sregs));
	else
		vm_request_stop(c->vm, why, "guest stopped: vCPU %u: %s", c->id, what);
}

static void kick_handler(int sig)
{
	(void)sig;
}

/* The top of a vCPU's loop: park while a pause is requested; returns the stop state. */
static enum vm_stop vcpu_gate(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	while (vm->pause_req && vm->stop == VM_RUNNING) {
		vm->parked++;
		pthread_cond_broadcast(&vm->cond);
		pthread_cond_wait(&vm->cond, &vm->lock);
		vm->parked--;
	}
	enum vm_stop s = vm->stop;
	pthread_mutex_unlock(&vm->lock);
	return s;
}

enum vm_stop vm_exit_stop(uint32_t exit_reason, uint32_t event_type, int triple_fault_reset,
			  const char **what)
{
	*what = NULL;
	switch (exit_reason) {
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; ours has one. Treat as idle. */
		return VM_RUNNING;
	case KVM_EXIT_SHUTDOWN:
		if (triple_fault_reset)
			return VM_STOP_RESET;
		*what = "triple fault";
		return VM_STOP_TRIPLE_FAULT;
	case KVM_EXIT_SYSTEM_EVENT:
		if (event_type == KVM_SYSTEM_EVENT_RESET)
			return VM_STOP_RESET;
		if (event_type == KVM_SYSTEM_EVENT_SHUTDOWN)
			return VM_STOP_POWEROFF;
		*what = "system event (crash)";
		return VM_STOP_PANIC;
	default:
		*what = "unexpected KVM exit";
		return VM_STOP_KVM_ERROR;
	}
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *c = arg;
	struct vm *vm = c->vm;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	char name[16];
	snprintf(name, sizeof(name), "vcpu%u", c->id);
	pthread_setname_np(pthread_self(), name);
	/* vm_start() waits for this, so vcpu-list and vcpu-pin always find the thread. */
	pthread_mutex_lock(&vm->lock);
	atomic_store(&c->tid, (int)syscall(SYS_gettid));
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);

	while (vcpu_gate(vm) == VM_RUNNING) {
		int r = ioctl(c->fd, KVM_RUN, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				c->run->immediate_exit = 0;
				continue;
			}
			vm_request_stop(vm, VM_STOP_KVM_ERROR, "vCPU %u: KVM_RUN: %s", c->id,
					strerror(errno));
			break;
		}
		c->exits++;
		switch (c->run->exit_reason) {
		case KVM_EXIT_IO:
			handle_io(c);
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(c);
			break;
		case KVM_EXIT_HLT:
		case KVM_EXIT_SHUTDOWN:
		case KVM_EXIT_SYSTEM_EVENT: {
			const char *what = NULL;
			enum vm_stop why = vm_exit_stop(c->run->exit_reason,
							c->run->system_event.type,
							vm->cfg.triple_fault_reset, &what);
			if (why != VM_RUNNING && what)
				report_rip(c, why, what);
			else if (why != VM_RUNNING)
				vm_request_stop(vm, why, NULL);
			break;
		}
		case KVM_EXIT_INTERNAL_ERROR:
			if (c->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION)
				handle_emulation_failure(c);
			else
				vm_request_stop(vm, VM_STOP_KVM_ERROR,
						"guest stopped: vCPU %u: KVM internal error, "
						"suberror %u",
						c->id, c->run->internal.suberror);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			vm_request_stop(vm, VM_STOP_KVM_ERROR,
					"guest stopped: vCPU %u: KVM could not enter the guest "
					"(hardware reason 0x%llx)",
					c->id,
					(unsigned long long)c->run->fail_entry
						.hardware_entry_failure_reason);
			break;
		case KVM_EXIT_INTR:
			break;
		default:
			report_rip(c, VM_STOP_KVM_ERROR, "unexpected KVM exit");
			log_err("vCPU %u: KVM exit reason %u", c->id, c->run->exit_reason);
		}
	}
	return NULL;
}

int vm_start(struct vm *vm, char *err, size_t errlen)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigemptyset(&sa.sa_mask);
	sigaction(KICK_SIGNAL, &sa, NULL);
	/* vCPU threads inherit this mask and unblock only the kick signal; process signals go to
	 * the main thread, which waits for them. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *c = &vm->vcpus[i];
		pthread_attr_t attr;
		int e = pthread_attr_init(&attr);
		/* A pinned vCPU thread starts on its CPUs: glibc applies the attribute's affinity
		 * before the thread runs any code, so before its first KVM_RUN, and a set the
		 * kernel refuses fails pthread_create() here rather than later. */
		if (!e && vm->pinned && vm->pinned[i])
			e = pthread_attr_setaffinity_np(&attr, sizeof(cpu_set_t), &vm->affinity[i]);
		if (!e)
			e = pthread_create(&c->thread, &attr, vcpu_thread, c);
		pthread_attr_destroy(&attr);
		if (e) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			vm_request_stop(vm, VM_STOP_KVM_ERROR, NULL);
			if (vm->pinned && vm->pinned[i]) {
				char cpus[256];
				cpulist_format(&vm->affinity[i], cpus, sizeof(cpus));
				return errf(err, errlen, "cannot start vCPU %u's thread on host CPUs "
					    "%s: %s", i, cpus, strerror(e));
			}
			return errf(err, errlen, "cannot start vCPU thread: %s", strerror(e));
		}
		c->started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_lock(&vm->lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		while (!atomic_load(&vm->vcpus[i].tid))
			pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
	return 0;
}

int vm_vcpu_pin(struct vm *vm, unsigned i, const cpu_set_t *set, char *err, size_t errlen)
{
	if (i >= vm->nr_vcpus)
		return errf(err, errlen, "no vCPU %u (this domain has %u)", i, vm->nr_vcpus);
	int tid = atomic_load(&vm->vcpus[i].tid);
	if (!vm->vcpus[i].started || !tid)
		return errf(err, errlen, "vCPU %u has no thread (the domain is not running)", i);
	if (sched_setaffinity(tid, sizeof(*set), set) < 0) {
		char cpus[256];
		cpulist_format(set, cpus, sizeof(cpus));
		return errf(err, errlen, "vCPU %u (thread %d): cannot run on host CPUs %s: %s", i,
			    tid, cpus, strerror(errno));
	}
	return 0;
}

/* /proc/self/task/TID/stat: the state (field 3) and the CPU last run on (field 39). */
static int task_stat(int tid, char *state, int *cpu)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (read_file_head(path, buf, sizeof(buf)) < 0)
		return -1;
	char *p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
	if (!p || p[1] != ' ')
		return -1;
	p += 2;
	*state = *p;
	for (int field = 3; field < 39; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	return sscanf(p, "%d", cpu) == 1 ? 0 : -1;
}

int vm_vcpu_info(struct vm *vm, unsigned i, struct vcpu_info *info)
{
	memset(info, 0, sizeof(*info));
	info->cpu = -1;
	info->state = '-';
	if (i >= vm->nr_vcpus)
		return -1;
	int tid = vm->vcpus[i].started ? atomic_load(&vm->vcpus[i].tid) : 0;
	char st = 0;
	if (!tid || task_stat(tid, &st, &info->cpu) < 0 ||
	    sched_getaffinity(tid, sizeof(info->affinity), &info->affinity) < 0) {
		info->cpu = -1;
		CPU_ZERO(&info->affinity);
		return 0; /* the thread has ended: the domain is stopping */
	}
	info->tid = tid;
	info->state = st == 'R' ? 'r' : 'b';
	info->cpu_ns = vm_vcpu_cpu_ns(vm, i);
	return 0;
}

void vm_request_stop(struct vm *vm, enum vm_stop why, const char *fmt, ...)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->stop != VM_RUNNING) {
		pthread_mutex_unlock(&vm->lock);
		return;
	}
	vm->stop = why;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(vm->stop_msg, sizeof(vm->stop_msg), fmt, ap);
		va_end(ap);
	}
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *c = &vm->vcpus[i];
		if (!c->started)
			continue;
		c->run->immediate_exit = 1;
		if (!pthread_equal(c->thread, pthread_self()))
			pthread_kill(c->thread, KICK_SIGNAL);
	}
	uint64_t one = 1;
	if (write(vm->event_fd, &one, sizeof(one)) < 0)
		log_debug("vm event: %s", strerror(errno));
}

enum vm_stop vm_stopped(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	enum vm_stop s = vm->stop;
	pthread_mutex_unlock(&vm->lock);
	return s;
}

enum vm_stop vm_wait(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	while (vm->stop == VM_RUNNING)
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		if (vm->vcpus[i].started) {
			pthread_join(vm->vcpus[i].thread, NULL);
			vm->vcpus[i].started = 0;
		}
	}
	return vm->stop;
}

static void kick_all(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *c = &vm->vcpus[i];
		if (!c->started)
			continue;
		c->run->immediate_exit = 1;
		if (!pthread_equal(c->thread, pthread_self()))
			pthread_kill(c->thread, KICK_SIGNAL);
	}
}

void vm_pause(struct vm *vm)
{
	unsigned running = 0;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		running += vm->vcpus[i].started ? 1 : 0;
	pthread_mutex_lock(&vm->lock);
	vm->pause_req = 1;
	pthread_mutex_unlock(&vm->lock);
	atomic_store(&vm->paused, 1);
	kick_all(vm);
	pthread_mutex_lock(&vm->lock);
	while (vm->parked < running && vm->stop == VM_RUNNING)
		pthread_cond_wait(&vm->cond, &vm->lock);
	pthread_mutex_unlock(&vm->lock);
}

void vm_resume(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	vm->pause_req = 0;
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
	atomic_store(&vm->paused, 0);
}

uint64_t vm_vcpu_cpu_ns(struct vm *vm, unsigned i)
{
	clockid_t cid;
	struct timespec ts;
	if (i >= vm->nr_vcpus || !vm->vcpus[i].started ||
	    pthread_getcpuclockid(vm->vcpus[i].thread, &cid) || clock_gettime(cid, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vm_irq_set(void *opaque, unsigned gsi, int level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level l = { .irq = gsi, .level = level };
	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0)
		log_debug("KVM_IRQ_LINE %u: %s", gsi, strerror(errno));
}

void vm_destroy(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *c = &vm->vcpus[i];
		if (c->run)
			munmap(c->run, vm->run_size);
		if (c->fd >= 0)
			close(c->fd);
	}
	free(vm->vcpus);
	free(vm->cpuid);
	free(vm->affinity);
	free(vm->pinned);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->event_fd >= 0)
		close(vm->event_fd);
	if (vm->ram_low)
		munmap(vm->ram_low, vm->low_size);
	if (vm->ram_high)
		munmap(vm->ram_high, vm->high_size);
	bus_destroy(&vm->pio);
	bus_destroy(&vm->mmio);
	if (vm->routing_up)
		irq_routing_destroy(&vm->routing);
	pthread_mutex_destroy(&vm->lock);
	pthread_cond_destroy(&vm->cond);
	memset(vm, 0, sizeof(*vm));
}
