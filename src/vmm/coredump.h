/* Core dumps of a guest: an ELF64 core file (ET_CORE, EM_X86_64) as `xl dump-core` and QEMU's
 * dump-guest-memory write them for crash(8) and gdb.
 *
 *   PT_NOTE  per vCPU: an NT_PRSTATUS note (name "CORE", struct elf_prstatus of x86-64 Linux,
 *            pr_pid = vCPU index + 1, pr_reg = the general registers, rip, rflags, segment
 *            selectors and fs/gs bases), then a "DOMUS" note of type DOMUS_NT_SREGS with the
 *            system registers (struct core_sregs below)
 *   PT_LOAD  per RAM range: p_paddr = its guest-physical address, p_vaddr = 0 (as QEMU does
 *            without paging information), p_filesz = p_memsz = its size, file offsets page
 *            aligned. Pages that are all zero are left as holes, so the file is sparse.
 *
 * Only guest RAM is dumped: not the firmware ROM, not device memory such as the VGA window. */
#ifndef DOMUS_COREDUMP_H
#define DOMUS_COREDUMP_H
#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/guest_mem.h"

#define DOMUS_NT_SREGS 0x444d0001u

/* The payload of a DOMUS_NT_SREGS note (little endian, no padding). */
struct core_sregs {
	uint32_t version; /* 1 */
	uint32_t vcpu;
	uint64_t cr0, cr2, cr3, cr4, cr8, efer, apic_base;
	uint64_t gdt_base, idt_base;
	uint16_t gdt_limit, idt_limit;
	uint16_t cs, ss; /* selectors, for the mode at a glance */
} __attribute__((packed));

struct core_vcpu {
	unsigned id;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
};

/* Write the core of a guest with memory mem and vCPU state vcpus[0..n) to fd (a new, empty
 * regular file) from offset 0. 0, or -errno. */
int coredump_write(int fd, const struct guest_mem *mem, const struct core_vcpu *vcpus,
		   unsigned n);

struct vm;
/* Dump vm to path (written to path.tmp, fsynced, then renamed). The vCPUs must not be in
 * KVM_RUN: stopped (after vm_wait) or parked (vm_pause). 0, or -1 with err set. */
int vm_dump_core(struct vm *vm, const char *path, char *err, size_t errlen);

#endif
