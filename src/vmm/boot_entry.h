/* The registers a direct-boot entry needs on the boot vCPU: what boot/ computes from a kernel
 * image and vm_set_boot_entry() loads. Here, below boot/, so that vmm/ never includes boot/. */
#ifndef DOMUS_VMM_BOOT_ENTRY_H
#define DOMUS_VMM_BOOT_ENTRY_H
#include <stdint.h>

/* The GDT the boot vCPU starts with (both entries; docs/platform.md). */
#define BOOT_GDT_ADDR 0x500

enum boot_entry_mode { BOOT_ENTRY_PVH32, BOOT_ENTRY_LINUX64 };

struct boot_entry {
	enum boot_entry_mode mode;
	uint64_t rip;
	uint64_t arg;      /* %ebx (PVH) or %rsi (Linux) */
	uint64_t pagetable; /* CR3 for the 64-bit entry */
	uint64_t gdt;       /* GDT base for the 64-bit entry */
};

#endif
