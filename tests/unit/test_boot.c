/* Boot paths: kernel detection, ELF notes, the PVH start info and the bzImage zero page. */
#include <elf.h>
#include <stdint.h>
#include <stdlib.h>

#include "boot/boot.h"
#include "boot/cmdline.h"
#include "boot/e820.h"
#include "bzimage.h"
#include "unit.h"

#define RAM (64u << 20)
static uint8_t *ram;
static struct guest_mem mem;

static void setup_ram(void)
{
	if (!ram)
		ram = malloc(RAM);
	memset(ram, 0, RAM);
	memset(&mem, 0, sizeof(mem));
	guest_mem_add(&mem, 0, RAM, ram);
}

/* A 64-bit ELF with one PT_LOAD at 1 MiB and one PT_NOTE holding the given notes. */
static size_t make_elf(uint8_t *buf, int with_pvh, int with_linux, uint32_t entry)
{
	memset(buf, 0, 8192);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_phoff = sizeof(*eh);
	eh->e_phnum = 2;
	eh->e_phentsize = sizeof(Elf64_Phdr);
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + eh->e_phoff);
	uint8_t *note = buf + 1024, *n = note;
	if (with_pvh) {
		uint32_t h[3] = { 4, 4, 18 };
		memcpy(n, h, 12);
		memcpy(n + 12, "Xen", 4);
		memcpy(n + 16, &entry, 4);
		n += 20;
	}
	if (with_linux) {
		uint32_t h[3] = { 6, 4, 0x100 };
		memcpy(n, h, 12);
		memcpy(n + 12, "Linux\0\0", 8);
		n += 24;
	}
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 1024, .p_filesz = (uint64_t)(n - note) };
	ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 4096, .p_paddr = 0x100000,
			      .p_filesz = 16, .p_memsz = 4096 };
	memcpy(buf + 4096, "KERNEL-PAYLOAD!!", 16);
	return 4096 + 16;
}

static void test_detect(void)
{
	uint8_t buf[8192];
	size_t n = make_elf(buf, 1, 0, 0x100000);
	CHECK_EQ(kernel_detect(buf, n), KERNEL_PVH_ELF);
	CHECK(!kernel_is_linux(buf, n));
	n = make_elf(buf, 1, 1, 0x100000);
	CHECK(kernel_is_linux(buf, n));
	n = make_elf(buf, 0, 0, 0);
	CHECK_EQ(kernel_detect(buf, n), KERNEL_ELF_NO_PVH);
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(kernel_detect(buf, sizeof(buf)), KERNEL_UNKNOWN);
	CHECK_EQ(kernel_detect(buf, 0), KERNEL_UNKNOWN);
}

static void test_elf_malformed(void)
{
	uint8_t buf[8192];
	uint64_t e;
	size_t n = make_elf(buf, 1, 0, 0x100000);
	/* program headers beyond the file */
	((Elf64_Ehdr *)buf)->e_phoff = 1u << 30;
	CHECK(elf_pvh_entry(buf, n, &e) < 0);
	/* a note whose size runs past its segment */
	n = make_elf(buf, 1, 0, 0x100000);
	uint32_t big = 0x7FFFFFF0;
	memcpy(buf + 1024 + 4, &big, 4);
	CHECK(elf_pvh_entry(buf, n, &e) < 0);
	/* truncated header */
	CHECK(elf_pvh_entry(buf, 20, &e) < 0);
}

static void test_pvh_load(void)
{
	uint8_t buf[8192], initrd[10000];
	size_t n = make_elf(buf, 1, 0, 0x100000);
	memset(initrd, 0xAB, sizeof(initrd));
	setup_ram();
	struct ram_layout l;
	struct e820_table t;
	ram_layout_for(RAM, &l);
	CHECK_EQ(e820_build(&t, &l), 0);
	struct boot_request req = { .kernel = buf, .kernel_len = n, .initrd = initrd,
				    .initrd_len = sizeof(initrd), .cmdline = "hello world",
				    .e820 = &t, .rsdp = 0xE0000, .low_ram_end = RAM };
	struct boot_entry be;
	char err[256] = "";
	CHECK_EQ(boot_load(&mem, &req, &be, err, sizeof(err)), 0);
	CHECK_EQ(be.mode, BOOT_ENTRY_PVH32);
	CHECK_EQ(be.rip, 0x100000);
	CHECK_EQ(be.arg, BOOT_PVH_INFO);
	CHECK(memcmp(ram + 0x100000, "KERNEL-PAYLOAD!!", 16) == 0);
	uint32_t *si = (uint32_t *)(ram + BOOT_PVH_INFO);
	CHECK_EQ(si[0], 0x336ec578u);
	CHECK_EQ(si[3], 1); /* one module */
	uint64_t modlist, cmdline, rsdp, memmap;
	memcpy(&modlist, ram + BOOT_PVH_INFO + 16, 8);
	memcpy(&cmdline, ram + BOOT_PVH_INFO + 24, 8);
	memcpy(&rsdp, ram + BOOT_PVH_INFO + 32, 8);
	memcpy(&memmap, ram + BOOT_PVH_INFO + 40, 8);
	CHECK_STR((char *)ram + cmdline, "hello world");
	CHECK_EQ(rsdp, 0xE0000);
	CHECK_EQ(*(uint32_t *)(ram + BOOT_PVH_INFO + 48), t.nr);
	uint64_t maddr, msize;
	memcpy(&maddr, ram + modlist, 8);
	memcpy(&msize, ram + modlist + 8, 8);
	CHECK_EQ(msize, sizeof(initrd));
	CHECK(maddr + msize <= RAM && maddr >= 0x101000);
	CHECK_EQ(maddr & 0xFFF, 0);
	CHECK(ram[maddr] == 0xAB && ram[maddr + msize - 1] == 0xAB);
	uint64_t e1_size;
	memcpy(&e1_size, ram + memmap + 24 + 8, 8); /* second entry's size */
	CHECK_EQ(e1_size, 0xA0000 - EBDA_START);
}

static void test_pvh_errors(void)
{
	uint8_t buf[8192];
	size_t n = make_elf(buf, 1, 0, 0x100000);
	setup_ram();
	struct ram_layout l;
	struct e820_table t;
	ram_layout_for(RAM, &l);
	e820_build(&t, &l);
	struct boot_entry be;
	char err[256];
	/* a segment outside RAM */
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(Elf64_Ehdr));
	ph[1].p_paddr = RAM - 100;
	struct boot_request req = { .kernel = buf, .kernel_len = n, .e820 = &t, .low_ram_end = RAM };
	CHECK(boot_load(&mem, &req, &be, err, sizeof(err)) < 0);
	CHECK(strstr(err, "does not fit") != NULL);
	/* a segment over the boot data */
	n = make_elf(buf, 1, 0, 0x100000);
	ph[1].p_paddr = 0x6000;
	CHECK(boot_load(&mem, &req, &be, err, sizeof(err)) < 0);
	/* filesz past the end of the file */
	n = make_elf(buf, 1, 0, 0x100000);
	ph[1].p_filesz = 1 << 20;
	ph[1].p_memsz = 1 << 20;
	CHECK(boot_load(&mem, &req, &be, err, sizeof(err)) < 0);
	CHECK(strstr(err, "outside the file") != NULL);
	/* an initrd too big for RAM */
	n = make_elf(buf, 1, 0, 0x100000);
	static uint8_t dummy[1];
	req.initrd = dummy;
	req.initrd_len = RAM;
	CHECK(boot_load(&mem, &req, &be, err, sizeof(err)) < 0);
	CHECK(strstr(err, "initrd") != NULL);
}

static void test_bzimage(void)
{
	size_t n;
	uint8_t *bz = make_bzimage(&n, 0x20F, 1);
	CHECK_EQ(kernel_detect(bz, n), KERNEL_BZIMAGE);
	CHECK(kernel_is_linux(bz, n));
	setup_ram();
	struct ram_layout l;
	struct e820_table t;
	ram_layout_for(RAM, &l);
	e820_build(&t, &l);
	uint8_t initrd[5000];
	memset(initrd, 0x5A, sizeof(initrd));
	struct boot_request req = { .kernel = bz, .kernel_len = n, .initrd = initrd,
				    .initrd_len = sizeof(initrd), .cmdline = "console=ttyS0",
				    .e820 = &t, .rsdp = 0xE0000, .low_ram_end = RAM };
	struct boot_entry be;
	char err[256] = "";
	CHECK_EQ(boot_load(&mem, &req, &be, err, sizeof(err)), 0);
	CHECK_EQ(be.mode, BOOT_ENTRY_LINUX64);
	CHECK_EQ(be.rip, 0x100200);
	CHECK(memcmp(ram + 0x100000, "PMODE-KERNEL", 12) == 0);
	uint8_t *zp = ram + BOOT_ZEROPAGE;
	CHECK_EQ(zp[0x210], 0xFF);
	CHECK_EQ(zp[0x1E8], t.nr);
	uint32_t cmd, rd_addr, rd_size;
	memcpy(&cmd, zp + 0x228, 4);
	memcpy(&rd_addr, zp + 0x218, 4);
	memcpy(&rd_size, zp + 0x21C, 4);
	CHECK_STR((char *)ram + cmd, "console=ttyS0");
	CHECK_EQ(rd_size, sizeof(initrd));
	CHECK(rd_addr >= 0x100000 + (1 << 20)); /* above kernel + init_size */
	CHECK(ram[rd_addr] == 0x5A);
	uint64_t e820_1_addr;
	memcpy(&e820_1_addr, zp + 0x2D0 + 20 * 3, 8);
	CHECK_EQ(e820_1_addr, 0x100000);
	/* page tables identity-map 4 GiB with 2 MiB pages */
	uint64_t pde;
	memcpy(&pde, ram + BOOT_PD + 0x1000 * 3 + 8 * 511, 8);
	CHECK_EQ(pde, 0xFFE00000ull | 0x83);
	/* too long a command line for the kernel's cmdline_size */
	char longcl[3000];
	memset(longcl, 'a', sizeof(longcl) - 1);
	longcl[sizeof(longcl) - 1] = 0;
	req.cmdline = longcl;
	CHECK(boot_load(&mem, &req, &be, err, sizeof(err)) < 0);
	free(bz);

	bz = make_bzimage(&n, 0x20A, 0);
	CHECK_EQ(kernel_detect(bz, n), KERNEL_BZIMAGE_OLD);
	req.kernel = bz;
	req.cmdline = "";
	CHECK(boot_load(&mem, &req, &be, err, sizeof(err)) < 0);
	CHECK(strstr(err, "2.12") != NULL);
	/* truncated: the setup claims more sectors than the file has */
	bz[0x1F1] = 200;
	CHECK(bzimage_load(&mem, &req, &be, err, sizeof(err)) < 0);
	free(bz);
}

static void test_e820(void)
{
	struct ram_layout l;
	struct e820_table t;
	ram_layout_for(128ull << 20, &l);
	CHECK_EQ(l.low_size, 128ull << 20);
	CHECK_EQ(l.high_size, 0);
	CHECK_EQ(e820_build(&t, &l), 0);
	CHECK_EQ(t.nr, 4);
	CHECK_EQ(e820_ram_bytes(&t), (128ull << 20) - (0x100000 - EBDA_START));
	ram_layout_for(16ull << 30, &l);
	CHECK_EQ(l.low_size, 3ull << 30);
	CHECK_EQ(l.high_size, 13ull << 30);
	e820_build(&t, &l);
	CHECK_EQ(t.nr, 5);
	CHECK_EQ(t.e[4].addr, 1ull << 32);
	CHECK_EQ(t.e[4].size, 13ull << 30);
	ram_layout_for(1 << 20, &l);
	CHECK(e820_build(&t, &l) < 0);
}

static void test_cmdline(void)
{
	char out[512];
	CHECK_EQ(cmdline_for_guest(out, sizeof(out), "console=ttyS0", HOST_PVM, 1, 1, 0, 1), 0);
	CHECK_STR(out, "console=ttyS0 noapic noxsave clearcpuid=popcnt,smap,erms,fsrm,cx16");
	cmdline_for_guest(out, sizeof(out), "console=ttyS0", HOST_PVM, 2, 1, 0, 1);
	CHECK_STR(out, "console=ttyS0 noapic noxsave clearcpuid=popcnt,smap,erms,fsrm,cx16 nopv");
	/* the user's own settings win */
	cmdline_for_guest(out, sizeof(out), "clearcpuid=pku nopv noapic", HOST_PVM, 2, 1, 0, 1);
	CHECK_STR(out, "clearcpuid=pku nopv noapic noxsave");
	/* not Linux, PVM-aware, or a VT-x host: untouched */
	cmdline_for_guest(out, sizeof(out), "x", HOST_PVM, 2, 0, 0, 1);
	CHECK_STR(out, "x");
	cmdline_for_guest(out, sizeof(out), "x", HOST_PVM, 2, 1, 1, 1);
	CHECK_STR(out, "x");
	cmdline_for_guest(out, sizeof(out), "x", HOST_VMX, 2, 1, 0, 0);
	CHECK_STR(out, "x");
	/* PIC-only routing on a VT-x host (DOMUS_FORCE_PIC_ROUTING=1): only noapic */
	cmdline_for_guest(out, sizeof(out), "x", HOST_VMX, 2, 1, 0, 1);
	CHECK_STR(out, "x noapic");
	cmdline_for_guest(out, sizeof(out), "x", HOST_VMX, 2, 0, 0, 1);
	CHECK_STR(out, "x");
	CHECK(cmdline_for_guest(out, 10, "console=ttyS0", HOST_PVM, 1, 1, 0, 1) < 0);
	CHECK(cmdline_has("a nopvx b", "nopv") == 0);
	CHECK(cmdline_has("a nopv b", "nopv") == 1);
	CHECK(cmdline_has("clearcpuid=x", "clearcpuid=") == 1);
}

UNIT_MAIN(test_detect, test_elf_malformed, test_pvh_load, test_pvh_errors, test_bzimage,
	  test_e820, test_cmdline)
