#include <elf.h>
#include <string.h>

#include "boot/boot.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18

static int notes_in(const uint8_t *p, size_t len, elf_note_fn fn, void *ctx)
{
	size_t off = 0;
	while (len - off >= 12) {
		uint32_t namesz, descsz, type;
		memcpy(&namesz, p + off, 4);
		memcpy(&descsz, p + off + 4, 4);
		memcpy(&type, p + off + 8, 4);
		off += 12;
		size_t nlen = ((size_t)namesz + 3) & ~(size_t)3;
		size_t dlen = ((size_t)descsz + 3) & ~(size_t)3;
		if (nlen > len - off || dlen > len - off - nlen)
			return -1;
		const char *name = (const char *)p + off;
		size_t nsz = namesz && name[namesz - 1] == '\0' ? namesz - 1 : namesz;
		if (fn(ctx, name, nsz, type, p + off + nlen, descsz))
			return 0;
		off += nlen + dlen;
	}
	return 0;
}

int elf_for_each_note(const uint8_t *img, size_t len, elf_note_fn fn, void *ctx)
{
	if (len < EI_NIDENT || memcmp(img, ELFMAG, SELFMAG) != 0)
		return -1;
	int is64 = img[EI_CLASS] == ELFCLASS64;
	if (!is64 && img[EI_CLASS] != ELFCLASS32)
		return -1;
	uint64_t phoff;
	unsigned phnum, phentsize;
	if (is64) {
		Elf64_Ehdr eh;
		if (len < sizeof(eh))
			return -1;
		memcpy(&eh, img, sizeof(eh));
		phoff = eh.e_phoff;
		phnum = eh.e_phnum;
		phentsize = eh.e_phentsize;
		if (phentsize < sizeof(Elf64_Phdr))
			return -1;
	} else {
		Elf32_Ehdr eh;
		if (len < sizeof(eh))
			return -1;
		memcpy(&eh, img, sizeof(eh));
		phoff = eh.e_phoff;
		phnum = eh.e_phnum;
		phentsize = eh.e_phentsize;
		if (phentsize < sizeof(Elf32_Phdr))
			return -1;
	}
	if (phoff > len || (uint64_t)phnum * phentsize > len - phoff)
		return -1;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + (uint64_t)i * phentsize;
		uint64_t type, off, sz;
		if (is64) {
			Elf64_Phdr p;
			memcpy(&p, ph, sizeof(p));
			type = p.p_type, off = p.p_offset, sz = p.p_filesz;
		} else {
			Elf32_Phdr p;
			memcpy(&p, ph, sizeof(p));
			type = p.p_type, off = p.p_offset, sz = p.p_filesz;
		}
		if (type != PT_NOTE)
			continue;
		if (off > len || sz > len - off)
			return -1;
		if (notes_in(img + off, sz, fn, ctx) < 0)
			return -1;
	}
	return 0;
}

struct pvh_find {
	int found;
	uint64_t entry;
};

static int find_pvh(void *ctx, const char *name, size_t namesz, uint32_t type,
		    const uint8_t *desc, size_t descsz)
{
	struct pvh_find *f = ctx;
	if (namesz != 3 || memcmp(name, "Xen", 3) != 0 || type != XEN_ELFNOTE_PHYS32_ENTRY)
		return 0;
	if (descsz == 4) {
		uint32_t v;
		memcpy(&v, desc, 4);
		f->entry = v;
	} else if (descsz == 8) {
		memcpy(&f->entry, desc, 8);
	} else {
		return 0;
	}
	f->found = 1;
	return 1;
}

int elf_pvh_entry(const uint8_t *img, size_t len, uint64_t *entry)
{
	struct pvh_find f = { 0 };
	if (elf_for_each_note(img, len, find_pvh, &f) < 0 || !f.found)
		return -1;
	*entry = f.entry;
	return 0;
}

static int find_linux(void *ctx, const char *name, size_t namesz, uint32_t type,
		      const uint8_t *desc, size_t descsz)
{
	(void)type, (void)desc, (void)descsz;
	if (namesz == 5 && memcmp(name, "Linux", 5) == 0) {
		*(int *)ctx = 1;
		return 1;
	}
	return 0;
}

int kernel_is_linux(const uint8_t *img, size_t len)
{
	enum kernel_kind k = kernel_detect(img, len);
	if (k == KERNEL_BZIMAGE || k == KERNEL_BZIMAGE_OLD)
		return 1;
	int linux_note = 0;
	if (elf_for_each_note(img, len, find_linux, &linux_note) < 0)
		return 0;
	return linux_note;
}
