/* The kernel command line Domus passes to a direct-boot guest.
 *
 * On a PVM host a Linux kernel that is not PVM-aware runs its ring-0 code in KVM's emulator,
 * which lacks xsave, popcnt, smap, erms/fsrm and cmpxchg16b, and the VMM cannot clear those CPUID
 * bits there; so the kernel is told to ignore them (`noxsave clearcpuid=...`). PV IPIs hang
 * there, so with more than one vCPU `nopv` is added. Each flag is added only when the user's
 * command line does not already set it. Nothing is added for non-Linux or PVM-aware kernels, or
 * on VT-x/AMD-V hosts. Whenever ISA interrupts go through the 8259 PIC only (isa_via_pic: PVM
 * hosts, DOMUS_FORCE_PIC_ROUTING=1; the MADT then lists no IOAPIC) a Linux kernel that is not
 * PVM-aware also gets `noapic`: without it Linux keeps LINT0 (the PIC's ExtINT path) masked and
 * the serial port, the ACPI SCI and every other ISA interrupt are lost. */
#ifndef DOMUS_CMDLINE_H
#define DOMUS_CMDLINE_H
#include <stddef.h>

#include "vmm/kvm_host.h"

#define PVM_LINUX_FLAGS "noxsave clearcpuid=popcnt,smap,erms,fsrm,cx16"

int cmdline_for_guest(char *out, size_t len, const char *user, enum host_mode mode,
		      unsigned vcpus, int is_linux, int pvm_aware, int isa_via_pic);
/* Does the command line contain word (exactly, or as "word=..." when word ends in '=')? */
int cmdline_has(const char *cmdline, const char *word);

#endif
