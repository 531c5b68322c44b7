/* Direct kernel boot: what kind of kernel a file is, and loading it with its initrd and command
 * line into guest RAM.
 *
 * Two formats: an ELF with the Xen PVH entry note (entered in 32-bit protected mode with %ebx =
 * hvm_start_info), and a Linux bzImage (boot protocol >= 2.12 with the 64-bit entry, entered in
 * long mode with %rsi = boot_params). boot_load() checks every offset and size in the image; a
 * malformed file gives an error message in err, never a crash. */
#ifndef DOMUS_BOOT_H
#define DOMUS_BOOT_H
#include <stddef.h>
#include <stdint.h>

#include "boot/e820.h"
#include "vmm/boot_entry.h"
#include "vmm/guest_mem.h"

enum kernel_kind {
	KERNEL_UNKNOWN,
	KERNEL_BZIMAGE,     /* Linux bzImage with a 64-bit entry */
	KERNEL_BZIMAGE_OLD, /* a bzImage older than protocol 2.12 or without the 64-bit entry */
	KERNEL_PVH_ELF,
	KERNEL_ELF_NO_PVH, /* an ELF without the PVH entry note */
};


struct boot_request {
	const uint8_t *kernel;
	size_t kernel_len;
	const uint8_t *initrd; /* may be NULL */
	size_t initrd_len;
	const char *cmdline;
	const struct e820_table *e820;
	uint64_t rsdp;         /* guest address of the RSDP */
	uint64_t low_ram_end;  /* end of RAM below 4 GiB */
};

enum kernel_kind kernel_detect(const uint8_t *img, size_t len);
/* True when the image is a Linux kernel (bzImage, or an ELF carrying a "Linux" ELF note). */
int kernel_is_linux(const uint8_t *img, size_t len);
const char *kernel_kind_name(enum kernel_kind k);

/* Load into m. 0 on success, or -1 with a message (no "domus:" prefix) in err. */
int boot_load(const struct guest_mem *m, const struct boot_request *req, struct boot_entry *out,
	      char *err, size_t errlen);

/* Format-specific loaders, used by boot_load() and by tests. */
int pvh_load(const struct guest_mem *m, const struct boot_request *req, struct boot_entry *out,
	     char *err, size_t errlen);
int bzimage_load(const struct guest_mem *m, const struct boot_request *req,
		 struct boot_entry *out, char *err, size_t errlen);

/* Highest page-aligned address below limit and at or above floor for size bytes; 0 if none. */
uint64_t boot_place_initrd(uint64_t limit, uint64_t floor, uint64_t size);

/* ELF helpers (elf_notes.c). Calls fn for each note in PT_NOTE segments; returns -1 when the
 * ELF headers are malformed, else 0. fn returns non-zero to stop. */
typedef int (*elf_note_fn)(void *ctx, const char *name, size_t namesz, uint32_t type,
			   const uint8_t *desc, size_t descsz);
int elf_for_each_note(const uint8_t *img, size_t len, elf_note_fn fn, void *ctx);
/* The program header table of a 32- or 64-bit ELF image, checked to lie in the image. */
struct elf_phdrs {
	int is64;
	uint64_t off;
	unsigned num, entsize;
};
struct elf_seg {
	uint32_t type;
	uint64_t off, paddr, filesz, memsz;
};
int elf_phdrs(const uint8_t *img, size_t len, struct elf_phdrs *t);
/* Entry i (< t->num) of a table elf_phdrs() accepted. */
void elf_seg_get(const uint8_t *img, const struct elf_phdrs *t, unsigned i, struct elf_seg *s);
/* The PVH entry point from the XEN_ELFNOTE_PHYS32_ENTRY note; 0 when found, else -1. */
int elf_pvh_entry(const uint8_t *img, size_t len, uint64_t *entry);

/* Guest addresses used by the loaders (see docs/platform.md). */
#define BOOT_PVH_INFO 0x6000
#define BOOT_PVH_MEMMAP 0x6100
#define BOOT_PVH_MODLIST 0x6800
#define BOOT_ZEROPAGE 0x7000
#define BOOT_PML4 0x9000
#define BOOT_PDPT 0xA000
#define BOOT_PD 0xB000 /* four pages: 0xB000-0xEFFF */
#define BOOT_CMDLINE 0x20000
#define BOOT_CMDLINE_MAX 0x10000
#define BOOT_KERNEL_ADDR 0x100000

#endif
