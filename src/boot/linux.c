/* Linux bzImage direct boot through the 64-bit entry (Documentation/x86/boot.rst, protocol
 * 2.12+): the protected-mode kernel goes to 1 MiB, the zero page carries the setup header, the
 * e820 map, the command line and initrd pointers; we enter at load address + 0x200 in long mode
 * with an identity map of the first 4 GiB. */
#include <stdio.h>
#include <string.h>

#include "boot/boot.h"

#define HDR_SETUP_SECTS 0x1F1
#define HDR_BOOT_FLAG 0x1FE
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21C
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22C
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_INIT_SIZE 0x260
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_E820_ENTRIES 0x1E8
#define BP_E820_TABLE 0x2D0
#define BP_E820_MAX 128

#define LOADFLAGS_LOADED_HIGH 0x01
#define LOADFLAGS_CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01

static uint16_t rd16(const uint8_t *p, size_t off)
{
	uint16_t v;
	memcpy(&v, p + off, 2);
	return v;
}

static uint32_t rd32(const uint8_t *p, size_t off)
{
	uint32_t v;
	memcpy(&v, p + off, 4);
	return v;
}

enum kernel_kind kernel_detect(const uint8_t *img, size_t len)
{
	if (len >= 4 && memcmp(img, "\x7f" "ELF", 4) == 0) {
		uint64_t e;
		return elf_pvh_entry(img, len, &e) == 0 ? KERNEL_PVH_ELF : KERNEL_ELF_NO_PVH;
	}
	if (len >= 0x1000 && rd16(img, HDR_BOOT_FLAG) == 0xAA55 &&
	    memcmp(img + HDR_MAGIC, "HdrS", 4) == 0) {
		if (rd16(img, HDR_VERSION) >= 0x20C && (rd16(img, HDR_XLOADFLAGS) & XLF_KERNEL_64) &&
		    (img[HDR_LOADFLAGS] & LOADFLAGS_LOADED_HIGH))
			return KERNEL_BZIMAGE;
		return KERNEL_BZIMAGE_OLD;
	}
	return KERNEL_UNKNOWN;
}

const char *kernel_kind_name(enum kernel_kind k)
{
	switch (k) {
	case KERNEL_BZIMAGE:
		return "Linux bzImage";
	case KERNEL_BZIMAGE_OLD:
		return "Linux bzImage without a 64-bit entry (boot protocol < 2.12)";
	case KERNEL_PVH_ELF:
		return "PVH ELF";
	case KERNEL_ELF_NO_PVH:
		return "ELF without a PVH entry note";
	default:
		return "neither a bzImage nor an ELF";
	}
}

/* Identity map of 0-4 GiB with 2 MiB pages, and a GDT with the boot protocol's selectors. */
static int setup_long_mode(const struct guest_mem *m, struct boot_entry *out)
{
	uint64_t pml4e = BOOT_PDPT | 0x3, pdpte[4], pde[512];
	if (guest_write(m, BOOT_PML4, &pml4e, 8) < 0)
		return -1;
	for (int i = 0; i < 4; i++) {
		pdpte[i] = (BOOT_PD + (uint64_t)i * 0x1000) | 0x3;
		for (int j = 0; j < 512; j++)
			pde[j] = (((uint64_t)i << 30) + ((uint64_t)j << 21)) | 0x83; /* P RW PS */
		if (guest_write(m, BOOT_PD + (uint64_t)i * 0x1000, pde, sizeof(pde)) < 0)
			return -1;
	}
	if (guest_write(m, BOOT_PDPT, pdpte, sizeof(pdpte)) < 0)
		return -1;
	/* __BOOT_CS = 0x10, __BOOT_DS = 0x18 */
	uint64_t gdt[4] = { 0, 0, 0x00AF9A000000FFFFull, 0x00CF92000000FFFFull };
	if (guest_write(m, BOOT_GDT_ADDR, gdt, sizeof(gdt)) < 0)
		return -1;
	out->pagetable = BOOT_PML4;
	out->gdt = BOOT_GDT_ADDR;
	return 0;
}

int bzimage_load(const struct guest_mem *m, const struct boot_request *req,
		 struct boot_entry *out, char *err, size_t errlen)
{
	const uint8_t *img = req->kernel;
	size_t len = req->kernel_len;
	enum kernel_kind kind = kernel_detect(img, len);
	if (kind != KERNEL_BZIMAGE) {
		snprintf(err, errlen, "%s", kernel_kind_name(kind));
		return -1;
	}
	unsigned setup_sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
	size_t setup_len = ((size_t)setup_sects + 1) * 512;
	if (setup_len >= len) {
		snprintf(err, errlen, "bzImage truncated: setup of %zu bytes, file of %zu",
			 setup_len, len);
		return -1;
	}
	size_t kernel_len = len - setup_len;
	uint64_t init_size = rd32(img, HDR_INIT_SIZE);
	uint64_t need = init_size > kernel_len ? init_size : kernel_len;
	uint8_t *dst = gpa_to_hva(m, BOOT_KERNEL_ADDR, need);
	if (!dst) {
		snprintf(err, errlen, "guest RAM too small for the kernel (needs %llu MiB from 1 MiB)",
			 (unsigned long long)(need >> 20) + 1);
		return -1;
	}
	memcpy(dst, img + setup_len, kernel_len);

	uint8_t zp[4096];
	memset(zp, 0, sizeof(zp));
	size_t hdr_end = HDR_JUMP + 2 + img[HDR_JUMP + 1]; /* the jump skips the header */
	if (hdr_end > 0x290)
		hdr_end = 0x290;
	memcpy(zp + HDR_SETUP_SECTS, img + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);
	zp[HDR_TYPE_OF_LOADER] = 0xFF;
	zp[HDR_LOADFLAGS] |= LOADFLAGS_CAN_USE_HEAP;
	uint16_t heap_end = 0xFE00;
	memcpy(zp + HDR_HEAP_END_PTR, &heap_end, 2);

	size_t cl = req->cmdline ? strlen(req->cmdline) : 0;
	uint32_t cmdline_size = rd32(img, HDR_CMDLINE_SIZE);
	if (cl > cmdline_size || cl >= BOOT_CMDLINE_MAX) {
		snprintf(err, errlen, "command line too long (%zu bytes, the kernel takes %u)", cl,
			 cmdline_size);
		return -1;
	}
	if (guest_write(m, BOOT_CMDLINE, req->cmdline ? req->cmdline : "", cl + 1) < 0)
		goto nomem;
	uint32_t v32 = BOOT_CMDLINE;
	memcpy(zp + HDR_CMD_LINE_PTR, &v32, 4);

	if (req->initrd && req->initrd_len) {
		uint64_t max = (uint64_t)rd32(img, HDR_INITRD_ADDR_MAX) + 1;
		uint64_t limit = req->low_ram_end < max ? req->low_ram_end : max;
		uint64_t floor = (BOOT_KERNEL_ADDR + need + 0xFFF) & ~0xFFFull;
		uint64_t at = boot_place_initrd(limit, floor, req->initrd_len);
		if (!at || at + req->initrd_len > 0x100000000ull) {
			snprintf(err, errlen,
				 "initrd of %zu bytes does not fit in guest RAM between the kernel "
				 "and 0x%llx (initrd_addr_max)",
				 req->initrd_len, (unsigned long long)limit);
			return -1;
		}
		if (guest_write(m, at, req->initrd, req->initrd_len) < 0)
			goto nomem;
		v32 = (uint32_t)at;
		memcpy(zp + HDR_RAMDISK_IMAGE, &v32, 4);
		v32 = (uint32_t)req->initrd_len;
		memcpy(zp + HDR_RAMDISK_SIZE, &v32, 4);
	}

	int n = req->e820->nr < BP_E820_MAX ? req->e820->nr : BP_E820_MAX;
	zp[BP_E820_ENTRIES] = (uint8_t)n;
	for (int i = 0; i < n; i++) {
		uint8_t *e = zp + BP_E820_TABLE + i * 20;
		memcpy(e, &req->e820->e[i].addr, 8);
		memcpy(e + 8, &req->e820->e[i].size, 8);
		memcpy(e + 16, &req->e820->e[i].type, 4);
	}
	memcpy(zp + BP_ACPI_RSDP_ADDR, &req->rsdp, 8);
	if (guest_write(m, BOOT_ZEROPAGE, zp, sizeof(zp)) < 0 || setup_long_mode(m, out) < 0)
		goto nomem;
	out->mode = BOOT_ENTRY_LINUX64;
	out->rip = BOOT_KERNEL_ADDR + 0x200;
	out->arg = BOOT_ZEROPAGE;
	return 0;
nomem:
	snprintf(err, errlen, "guest RAM too small for the boot data");
	return -1;
}

int boot_load(const struct guest_mem *m, const struct boot_request *req, struct boot_entry *out,
	      char *err, size_t errlen)
{
	enum kernel_kind k = kernel_detect(req->kernel, req->kernel_len);
	switch (k) {
	case KERNEL_PVH_ELF:
		return pvh_load(m, req, out, err, errlen);
	case KERNEL_BZIMAGE:
		return bzimage_load(m, req, out, err, errlen);
	default:
		snprintf(err, errlen, "%s", kernel_kind_name(k));
		return -1;
	}
}
