/* PVH direct boot (Xen's "PVH boot ABI", also used by QEMU and Cloud Hypervisor): load the ELF's
 * PT_LOAD segments at their physical addresses and hand over an hvm_start_info. */
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "boot/boot.h"

#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

/* Everything below this is ours (start info, command line); a kernel must not load there. */
#define PVH_LOW_RESERVED (BOOT_CMDLINE + BOOT_CMDLINE_MAX)

uint64_t boot_place_initrd(uint64_t limit, uint64_t floor, uint64_t size)
{
	if (size == 0 || size > limit)
		return 0;
	uint64_t addr = (limit - size) & ~0xFFFull;
	if (addr < floor)
		return 0;
	return addr;
}

int pvh_load(const struct guest_mem *m, const struct boot_request *req, struct boot_entry *out,
	     char *err, size_t errlen)
{
	const uint8_t *img = req->kernel;
	size_t len = req->kernel_len;
	uint64_t entry;
	if (elf_pvh_entry(img, len, &entry) < 0) {
		snprintf(err, errlen, "an ELF without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");
		return -1;
	}
	struct elf_phdrs t;
	if (elf_phdrs(img, len, &t) < 0) {
		snprintf(err, errlen, "malformed ELF program headers");
		return -1;
	}
	uint64_t kernel_end = 0;
	int loaded = 0;
	for (unsigned i = 0; i < t.num; i++) {
		struct elf_seg s;
		elf_seg_get(img, &t, i, &s);
		if (s.type != PT_LOAD || s.memsz == 0)
			continue;
		if (s.filesz > s.memsz || s.off > len || s.filesz > len - s.off) {
			snprintf(err, errlen, "ELF segment %u lies outside the file", i);
			return -1;
		}
		if (s.paddr < PVH_LOW_RESERVED) {
			snprintf(err, errlen,
				 "ELF segment %u loads at 0x%llx, below 0x%x where boot data lives", i,
				 (unsigned long long)s.paddr, PVH_LOW_RESERVED);
			return -1;
		}
		uint8_t *dst = gpa_to_hva(m, s.paddr, s.memsz);
		if (!dst) {
			snprintf(err, errlen,
				 "ELF segment %u (0x%llx, %llu bytes) does not fit in guest RAM", i,
				 (unsigned long long)s.paddr, (unsigned long long)s.memsz);
			return -1;
		}
		memcpy(dst, img + s.off, s.filesz);
		memset(dst + s.filesz, 0, s.memsz - s.filesz);
		if (s.paddr + s.memsz > kernel_end)
			kernel_end = s.paddr + s.memsz;
		loaded++;
	}
	if (!loaded) {
		snprintf(err, errlen, "the ELF has no loadable segment");
		return -1;
	}
	if (entry >= 0x100000000ull || !gpa_to_hva(m, entry, 1)) {
		snprintf(err, errlen, "PVH entry 0x%llx is not in guest RAM below 4 GiB",
			 (unsigned long long)entry);
		return -1;
	}

	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = 1,
		.rsdp_paddr = req->rsdp,
		.memmap_paddr = BOOT_PVH_MEMMAP,
		.memmap_entries = (uint32_t)req->e820->nr,
	};
	size_t cl = req->cmdline ? strlen(req->cmdline) : 0;
	if (cl >= BOOT_CMDLINE_MAX) {
		snprintf(err, errlen, "command line too long (%zu bytes, at most %d)", cl,
			 BOOT_CMDLINE_MAX - 1);
		return -1;
	}
	if (guest_write(m, BOOT_CMDLINE, req->cmdline ? req->cmdline : "", cl + 1) < 0)
		goto nomem;
	si.cmdline_paddr = BOOT_CMDLINE;
	for (int i = 0; i < req->e820->nr; i++) {
		struct hvm_memmap_entry e = { req->e820->e[i].addr, req->e820->e[i].size,
					      req->e820->e[i].type, 0 };
		if (guest_write(m, BOOT_PVH_MEMMAP + (uint64_t)i * sizeof(e), &e, sizeof(e)) < 0)
			goto nomem;
	}
	if (req->initrd && req->initrd_len) {
		uint64_t limit = req->low_ram_end < 0x100000000ull ? req->low_ram_end : 0x100000000ull;
		uint64_t at = boot_place_initrd(limit, (kernel_end + 0xFFF) & ~0xFFFull,
						req->initrd_len);
		if (!at) {
			snprintf(err, errlen,
				 "initrd of %zu bytes does not fit in guest RAM above the kernel",
				 req->initrd_len);
			return -1;
		}
		if (guest_write(m, at, req->initrd, req->initrd_len) < 0)
			goto nomem;
		struct hvm_modlist_entry mod = { .paddr = at, .size = req->initrd_len };
		if (guest_write(m, BOOT_PVH_MODLIST, &mod, sizeof(mod)) < 0)
			goto nomem;
		si.nr_modules = 1;
		si.modlist_paddr = BOOT_PVH_MODLIST;
	}
	if (guest_write(m, BOOT_PVH_INFO, &si, sizeof(si)) < 0)
		goto nomem;
	*out = (struct boot_entry){ .mode = BOOT_ENTRY_PVH32, .rip = entry, .arg = BOOT_PVH_INFO };
	return 0;
nomem:
	snprintf(err, errlen, "guest RAM too small for the boot data");
	return -1;
}
