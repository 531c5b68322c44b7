/* ELF core files of a guest (see coredump.h for the layout). */
#include "vmm/coredump.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/procfs.h>
#include <sys/user.h>
#include <unistd.h>

#include "vmm/vm.h"

#define PAGE 4096ull
#define WRITE_RUN (1ull << 20) /* non-zero pages are written in runs of up to this much */

static size_t note_size(size_t namesz, size_t descsz)
{
	return sizeof(Elf64_Nhdr) + ((namesz + 3) & ~(size_t)3) + ((descsz + 3) & ~(size_t)3);
}

/* Append one note at *p; returns the next position. */
static uint8_t *put_note(uint8_t *p, const char *name, uint32_t type, const void *desc,
			 size_t descsz)
{
	size_t namesz = strlen(name) + 1;
	Elf64_Nhdr h = { .n_namesz = (Elf64_Word)namesz, .n_descsz = (Elf64_Word)descsz,
			 .n_type = type };
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	memset(p, 0, (namesz + 3) & ~(size_t)3);
	memcpy(p, name, namesz);
	p += (namesz + 3) & ~(size_t)3;
	memset(p, 0, (descsz + 3) & ~(size_t)3);
	memcpy(p, desc, descsz);
	return p + ((descsz + 3) & ~(size_t)3);
}

static void prstatus_of(const struct core_vcpu *c, struct elf_prstatus *ps)
{
	const struct kvm_regs *r = &c->regs;
	const struct kvm_sregs *s = &c->sregs;
	struct user_regs_struct u = {
		.r15 = r->r15, .r14 = r->r14, .r13 = r->r13, .r12 = r->r12, .rbp = r->rbp,
		.rbx = r->rbx, .r11 = r->r11, .r10 = r->r10, .r9 = r->r9, .r8 = r->r8,
		.rax = r->rax, .rcx = r->rcx, .rdx = r->rdx, .rsi = r->rsi, .rdi = r->rdi,
		.orig_rax = ~0ull, .rip = r->rip, .cs = s->cs.selector, .eflags = r->rflags,
		.rsp = r->rsp, .ss = s->ss.selector, .fs_base = s->fs.base, .gs_base = s->gs.base,
		.ds = s->ds.selector, .es = s->es.selector, .fs = s->fs.selector,
		.gs = s->gs.selector,
	};
	memset(ps, 0, sizeof(*ps));
	ps->pr_pid = (__pid_t)(c->id + 1); /* gdb shows each vCPU as a thread; 0 is no thread */
	_Static_assert(sizeof(ps->pr_reg) == sizeof(u), "elf_gregset_t is user_regs_struct");
	memcpy(&ps->pr_reg, &u, sizeof(u));
}

static void sregs_of(const struct core_vcpu *c, struct core_sregs *o)
{
	const struct kvm_sregs *s = &c->sregs;
	*o = (struct core_sregs){
		.version = 1, .vcpu = c->id, .cr0 = s->cr0, .cr2 = s->cr2, .cr3 = s->cr3,
		.cr4 = s->cr4, .cr8 = s->cr8, .efer = s->efer, .apic_base = s->apic_base,
		.gdt_base = s->gdt.base, .idt_base = s->idt.base, .gdt_limit = s->gdt.limit,
		.idt_limit = s->idt.limit, .cs = s->cs.selector, .ss = s->ss.selector,
	};
}

static int pwrite_all(int fd, const uint8_t *p, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int all_zero(const uint8_t *p, size_t len)
{
	const uint64_t *q = (const uint64_t *)(const void *)p;
	for (size_t i = 0; i < len / 8; i++)
		if (q[i])
			return 0;
	return 1;
}

/* Write a RAM range at off, leaving its zero pages as holes. */
static int write_range(int fd, const uint8_t *hva, uint64_t size, uint64_t off)
{
	uint64_t at = 0;
	while (at < size) {
		uint64_t len = size - at < PAGE ? size - at : PAGE;
		if (len == PAGE && all_zero(hva + at, PAGE)) {
			at += PAGE;
			continue;
		}
		uint64_t run = len;
		while (at + run < size && run < WRITE_RUN) {
			uint64_t l2 = size - at - run < PAGE ? size - at - run : PAGE;
			if (l2 == PAGE && all_zero(hva + at + run, PAGE))
				break;
			run += l2;
		}
		int r = pwrite_all(fd, hva + at, run, off + at);
		if (r < 0)
			return r;
		at += run;
	}
	return 0;
}

int coredump_write(int fd, const struct guest_mem *mem, const struct core_vcpu *vcpus,
		   unsigned n)
{
	unsigned nload = (unsigned)mem->nr, nph = 1 + nload;
	size_t notes_len = n * (note_size(5, sizeof(struct elf_prstatus)) +
				note_size(6, sizeof(struct core_sregs)));
	uint64_t notes_off = sizeof(Elf64_Ehdr) + nph * sizeof(Elf64_Phdr);
	uint64_t off = (notes_off + notes_len + PAGE - 1) & ~(PAGE - 1);
	size_t head_len = (size_t)(notes_off + notes_len);
	uint8_t *head = calloc(1, head_len);
	if (!head)
		return -ENOMEM;

	Elf64_Ehdr *eh = (Elf64_Ehdr *)(void *)head;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = (Elf64_Half)nph;

	Elf64_Phdr *ph = (Elf64_Phdr *)(void *)(head + sizeof(Elf64_Ehdr));
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = notes_off, .p_filesz = notes_len,
			      .p_align = 4 };
	for (unsigned i = 0; i < nload; i++) {
		const struct guest_region *g = &mem->r[i];
		ph[1 + i] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
					  .p_offset = off, .p_vaddr = 0, .p_paddr = g->gpa,
					  .p_filesz = g->size, .p_memsz = g->size,
					  .p_align = PAGE };
		off += (g->size + PAGE - 1) & ~(PAGE - 1);
	}
	uint64_t end = off;

	uint8_t *p = head + notes_off;
	for (unsigned i = 0; i < n; i++) {
		struct elf_prstatus ps;
		struct core_sregs cs;
		prstatus_of(&vcpus[i], &ps);
		sregs_of(&vcpus[i], &cs);
		p = put_note(p, "CORE", NT_PRSTATUS, &ps, sizeof(ps));
		p = put_note(p, "DOMUS", DOMUS_NT_SREGS, &cs, sizeof(cs));
	}
	int r = pwrite_all(fd, head, head_len, 0);
	for (unsigned i = 0; r == 0 && i < nload; i++)
		r = write_range(fd, mem->r[i].hva, mem->r[i].size, ph[1 + i].p_offset);
	free(head);
	if (r == 0 && ftruncate(fd, (off_t)end) < 0)
		r = -errno;
	return r;
}

int vm_dump_core(struct vm *vm, const char *path, char *err, size_t errlen)
{
	struct core_vcpu *v = calloc(vm->nr_vcpus ? vm->nr_vcpus : 1, sizeof(*v));
	char tmp[4200];
	int fd = -1, r = -1;
	if (!v) {
		snprintf(err, errlen, "core dump: out of memory");
		return -1;
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		v[i].id = i;
		if (ioctl(vm->vcpus[i].fd, KVM_GET_REGS, &v[i].regs) < 0 ||
		    ioctl(vm->vcpus[i].fd, KVM_GET_SREGS, &v[i].sregs) < 0) {
			snprintf(err, errlen, "core dump: vCPU %u registers: %s", i, strerror(errno));
			goto out;
		}
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "core dump: %s: path too long", path);
		goto out;
	}
	/* Guest memory may hold anything the guest keeps secret: owner only. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "core dump: %s: %s", tmp, strerror(errno));
		goto out;
	}
	int e = coredump_write(fd, &vm->mem, v, vm->nr_vcpus);
	if (e == 0 && fsync(fd) < 0)
		e = -errno;
	if (close(fd) < 0 && e == 0)
		e = -errno;
	fd = -1;
	if (e == 0 && rename(tmp, path) < 0)
		e = -errno;
	if (e < 0) {
		snprintf(err, errlen, "core dump: %s: %s", path, strerror(-e));
		unlink(tmp);
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(v);
	return r;
}
