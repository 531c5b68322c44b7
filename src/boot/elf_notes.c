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

int elf_phdrs(const uint8_t *img, size_t len, struct elf_phdrs *t)
{
	if (len < EI_NIDENT || memcmp(img, ELFMAG, SELFMAG) != 0)
		return -1;
	t->is64 = img[EI_CLASS] == ELFCLASS64;
	if (!t->is64 && img[EI_CLASS] != ELFCLASS32)
		return -1;
	size_t min_ent;
	if (t->is64) {
		Elf64_Ehdr eh;
		if (len < sizeof(eh))
			return -1;
		memcpy(&eh, img, sizeof(eh));
		t->off = eh.e_phoff, t->num = eh.e_phnum, t->entsize = eh.e_phentsize;
		min_ent = sizeof(Elf64_Phdr);
	} else {
		Elf32_Ehdr eh;
		if (len < sizeof(eh))
			return -1;
		memcpy(&eh, img, sizeof(eh));
		t->off = eh.e_phoff, t->num = eh.e_phnum, t->entsize = eh.e_phentsize;
		min_ent = sizeof(Elf32_Phdr);
	}
	if (t->entsize < min_ent || t->off > len || (uint64_t)t->num * t->entsize > len - t->off)
		return -1;
	return 0;
}

void elf_seg_get(const uint8_t *img, const struct elf_phdrs *t, unsigned i, struct elf_seg *s)
{
	const uint8_t *ph = img + t->off + (uint64_t)i * t->entsize;
	if (t->is64) {
		Elf64_Phdr p;
		memcpy(&p, ph, sizeof(p));
		*s = (struct elf_seg){ p.p_type, p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz };
	} else {
		Elf32_Phdr p;
		memcpy(&p, ph, sizeof(p));
		*s = (struct elf_seg){ p.p_type, p.p_offset, p.p_paddr, p.p_filesz, p.p_memsz };
	}
}

int elf_for_each_note(const uint8_t *img, size_t len, elf_note_fn fn, void *ctx)
{
	struct elf_phdrs t;
	if (elf_phdrs(img, len, &t) < 0)
		return -1;
	for (unsigned i = 0; i < t.num; i++) {
		struct elf_seg sg;
		elf_seg_get(img, &t, i, &sg);
		if (sg.type != PT_NOTE)
			continue;
		if (sg.off > len || sg.filesz > len - sg.off)
			return -1;
		if (notes_in(img + sg.off, sg.filesz, fn, ctx) < 0)
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
