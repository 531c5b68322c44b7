/* The one way from a domain's settings (struct domain_config, whether it came from an xl.cfg
 * file, from `domus run` options or from domusd's record) to the machine (struct
 * machine_config), for `domus run` and domus-vmm alike.
 *
 * machine_build() reads the kernel and initrd and maps everything else; it opens nothing
 * else and needs no KVM, so a unit test can compare what two front ends produce. The virtio
 * console's files are opened by machine_build_open_hvc() just before the machine is created.
 * b->mc points into b and into dc: both must outlive the machine. */
#ifndef DOMUS_MACHINE_BUILD_H
#define DOMUS_MACHINE_BUILD_H
#include <stddef.h>
#include <stdint.h>

#include "boot/boot.h"
#include "config/domcfg.h"
#include "machine_pc.h"
#include "vmm/kvm_host.h"

struct machine_build {
	struct machine_config mc;
	struct machine_disk disks[DOMUS_MAX_DISKS];
	struct machine_nic nics[DOMUS_MAX_NICS];
	struct machine_ide ide[DOMUS_IDE_DRIVES];
	uint8_t *kernel, *initrd;
	const char *hvc_output, *hvc_input; /* files of the virtio console; NULL: none */
	char cmdline[BOOT_CMDLINE_MAX];      /* final, with the flags this host needs */
};

/* Fill b (zeroed first) for a guest on a host whose KVM is of kind mode. dc must have passed
 * domcfg_check_support. 0, or -1 with "what: why" in err. */
int machine_build(struct machine_build *b, const struct domain_config *dc, enum host_mode mode,
		  char *err, size_t errlen);
/* Open the virtio console's output (appended to, created 0644) and input files into
 * b->mc.hvc_out / hvc_in. 0, or -1 with err set. */
int machine_build_open_hvc(struct machine_build *b, char *err, size_t errlen);
/* Free the images, close the console files. Safe after a failed machine_build. */
void machine_build_free(struct machine_build *b);

#endif
