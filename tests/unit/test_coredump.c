/* Unit tests of the guest core writer: a fake guest memory of two RAM ranges and two vCPUs
 * written as an ELF core, then read back the way crash or gdb would: headers, one PT_LOAD per
 * range at its guest-physical address with the bytes of the range (zero pages as holes), and
 * per vCPU an NT_PRSTATUS note with its registers and a DOMUS note with its system registers. */
#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/procfs.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <unistd.h>

#include "unit.h"
#include "vmm/coredump.h"

#define LOW_SIZE (256u << 10)
#define HIGH_GPA (1ull << 32)
#define HIGH_SIZE (64u << 10)

static uint8_t *low, *high;

static void fake_guest(struct guest_mem *m, struct core_vcpu v[2])
{
	low = aligned_alloc(4096, LOW_SIZE);
	high = aligned_alloc(4096, HIGH_SIZE);
	memset(low, 0, LOW_SIZE);
	memset(high, 0, HIGH_SIZE);
	for (unsigned i = 0; i < 0x3000; i++) /* pages 1-3: a pattern; the rest zero */
		low[0x1000 + i] = (uint8_t)(i * 31 + 7);
	low[LOW_SIZE - 1] = 0xAB; /* the very last byte, in an otherwise zero page */
	memcpy(high + 100, "above 4 GiB", 11);
	memset(m, 0, sizeof(*m));
	guest_mem_add(m, 0, LOW_SIZE, low);
	guest_mem_add(m, HIGH_GPA, HIGH_SIZE, high);
	memset(v, 0, 2 * sizeof(*v));
	for (unsigned i = 0; i < 2; i++) {
		v[i].id = i;
		v[i].regs.r12 = 0xC0DEDC0DEC0FFEE5ull + i;
		v[i].regs.rip = 0x100000 + i;
		v[i].regs.rsp = 0x7000;
		v[i].regs.rflags = 0x202;
		v[i].sregs.cs.selector = 0x18;
		v[i].sregs.cr3 = 0x123000 + i * 0x1000;
		v[i].sregs.efer = 0x500;
	}
}

static void test_core_file(void)
{
	struct guest_mem m;
	struct core_vcpu v[2];
	char path[] = "/tmp/domus-core-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	fake_guest(&m, v);
	CHECK_EQ(coredump_write(fd, &m, v, 2), 0);
	struct stat st;
	CHECK_EQ(fstat(fd, &st), 0);
	size_t len = (size_t)st.st_size;
	uint8_t *f = malloc(len);
	CHECK(pread(fd, f, len, 0) == (ssize_t)len);
	close(fd);
	unlink(path);
	/* zero pages are holes: far fewer blocks than bytes */
	CHECK((uint64_t)st.st_blocks * 512 < LOW_SIZE);

	Elf64_Ehdr eh;
	memcpy(&eh, f, sizeof(eh));
	CHECK(!memcmp(eh.e_ident, ELFMAG, SELFMAG));
	CHECK_EQ(eh.e_ident[EI_CLASS], ELFCLASS64);
	CHECK_EQ(eh.e_type, ET_CORE);
	CHECK_EQ(eh.e_machine, EM_X86_64);
	CHECK_EQ(eh.e_phnum, 3);
	Elf64_Phdr ph[3];
	memcpy(ph, f + eh.e_phoff, sizeof(ph));
	CHECK_EQ(ph[0].p_type, PT_NOTE);
	CHECK_EQ(ph[1].p_type, PT_LOAD);
	CHECK_EQ(ph[1].p_paddr, 0);
	CHECK_EQ(ph[1].p_filesz, LOW_SIZE);
	CHECK_EQ(ph[1].p_offset % 4096, 0);
	CHECK_EQ(ph[2].p_type, PT_LOAD);
	CHECK_EQ(ph[2].p_paddr, HIGH_GPA);
	CHECK_EQ(ph[2].p_memsz, HIGH_SIZE);
	CHECK_EQ(len, ph[2].p_offset + HIGH_SIZE);
	CHECK(!memcmp(f + ph[1].p_offset, low, LOW_SIZE));
	CHECK(!memcmp(f + ph[2].p_offset, high, HIGH_SIZE));
	CHECK(!memcmp(f + ph[2].p_offset + 100, "above 4 GiB", 11));

	/* notes: CORE/NT_PRSTATUS and DOMUS/DOMUS_NT_SREGS per vCPU */
	size_t at = ph[0].p_offset, end = at + ph[0].p_filesz;
	unsigned prstatus = 0, sregs = 0;
	while (at + sizeof(Elf64_Nhdr) <= end) {
		Elf64_Nhdr nh;
		memcpy(&nh, f + at, sizeof(nh));
		const char *name = (const char *)f + at + sizeof(nh);
		const uint8_t *desc = f + at + sizeof(nh) + ((nh.n_namesz + 3) & ~3u);
		if (nh.n_type == NT_PRSTATUS && !strcmp(name, "CORE")) {
			struct elf_prstatus ps;
			struct user_regs_struct u;
			CHECK_EQ(nh.n_descsz, sizeof(ps));
			memcpy(&ps, desc, sizeof(ps));
			memcpy(&u, &ps.pr_reg, sizeof(u));
			CHECK_EQ(ps.pr_pid, prstatus + 1);
			CHECK_EQ(u.r12, 0xC0DEDC0DEC0FFEE5ull + prstatus);
			CHECK_EQ(u.rip, 0x100000 + prstatus);
			CHECK_EQ(u.rsp, 0x7000);
			CHECK_EQ(u.eflags, 0x202);
			CHECK_EQ(u.cs, 0x18);
			prstatus++;
		} else if (nh.n_type == DOMUS_NT_SREGS && !strcmp(name, "DOMUS")) {
			struct core_sregs s;
			CHECK_EQ(nh.n_descsz, sizeof(s));
			memcpy(&s, desc, sizeof(s));
			CHECK_EQ(s.version, 1);
			CHECK_EQ(s.vcpu, sregs);
			CHECK_EQ(s.cr3, 0x123000 + sregs * 0x1000);
			CHECK_EQ(s.efer, 0x500);
			sregs++;
		} else {
			CHECK(!"unexpected note");
		}
		at += sizeof(nh) + ((nh.n_namesz + 3) & ~3u) + ((nh.n_descsz + 3) & ~3u);
	}
	CHECK_EQ(at, end);
	CHECK_EQ(prstatus, 2);
	CHECK_EQ(sregs, 2);
	free(f);
	free(low);
	free(high);
}

UNIT_MAIN(test_core_file)
