/* The Domus PC for direct-boot (PV/PVH) guests: all the wiring in one place.
 *
 * machine_create() builds the VM, plugs every device at its port and IRQ (docs/platform.md),
 * writes the ACPI tables and loads the kernel; machine_start() runs the vCPUs. The caller waits
 * on vm_wait(&m->vm) and calls machine_destroy(). A reboot is a destroy and a fresh create, so
 * nothing of the old boot leaks into the new one. */
#ifndef DOMUS_MACHINE_PC_H
#define DOMUS_MACHINE_PC_H
#include <stddef.h>
#include <stdint.h>

#include "backend/console.h"
#include "config/limits.h"
#include "hw/acpi_pm.h"
#include "hw/i8042.h"
#include "hw/pci.h"
#include "hw/pci_host.h"
#include "boot/pvm_user_watch.h"
#include "hw/pvpanic.h"
#include "hw/reset_cf9.h"
#include "hw/rtc_mc146818.h"
#include "hw/uart16550.h"
#include "virtio/blk.h"
#include "virtio/console.h"
#include "virtio/net.h"
#include "virtio/rng.h"
#include "lib/event_loop.h"
#include "vmm/irq.h"
#include "hw/msi_kvm.h"
#include "vmm/vm.h"

/* What survives a reset, as on a PC: the battery-backed CMOS RAM and the clock's setting,
 * and which NIC cables the user unplugged (bit i: NIC i). */
struct pc_persist {
	int valid;
	uint8_t cmos[128];
	int64_t rtc_offset_s;
	uint32_t nic_link_down;
};

/* A virtio-blk disk: image path, read-only or not, guest-visible name (GET_ID serial). */
struct machine_disk {
	const char *path;
	bool readonly;
	const char *name;
};

struct machine_blk {
	struct virtio_blk blk;
	struct msi_kvm msi;
};

/* A virtio-net NIC on a TAP attached to bridge (NULL: none); tap NULL: kernel-chosen name. */
struct machine_nic {
	uint8_t mac[6];
	const char *bridge;
	const char *tap;
};

struct machine_net {
	struct virtio_net net;
	struct msi_kvm msi;
	int tap_fd;
	char ifname[16];
};

struct machine_rng {
	struct virtio_rng rng;
	struct msi_kvm msi;
};

struct machine_hvc {
	struct virtio_console con;
	struct msi_kvm msi;
};

struct machine_config {
	uint64_t mem_bytes;
	unsigned vcpus;
	const char *cpus; /* vCPU pinning in xl's cpus= syntax as written; NULL: none */
	const uint8_t *kernel;
	size_t kernel_len;
	const uint8_t *initrd;
	size_t initrd_len;
	const char *cmdline; /* final: host flags already added */
	int triple_fault_reset;
	struct pc_persist *persist; /* restored at create, saved at destroy; may be NULL */
	const struct machine_disk *disks;
	unsigned ndisks;
	const struct machine_nic *nics;
	unsigned nnics;
	int rng;                /* a virtio-rng device */
	int hvc_out, hvc_in;    /* a virtio-console writing to hvc_out (>= 0), reading hvc_in */
	/* FV guests: firmware instead of a kernel (machine_fv.c) */
	const char *firmware; /* BIOS image; NULL for direct kernel boot */
	const struct machine_ide *ide;
	unsigned nide;
	const char *boot_order; /* "dc": c disk, d CD-ROM, n network */
	int fv_devices; /* with a kernel: boot it directly on the FV PC's devices (no firmware) */
	/* A Linux kernel that is not PVM-aware, on a PVM host: its user space cannot run there;
	 * watch its console for the proof and end the domain with an explanation. */
	int watch_pvm_user;
};

/* An IDE drive of an FV guest: index 0-3 is hda (primary master) to hdd (secondary slave). */
struct machine_ide {
	const char *path; /* image or host device; NULL or "" = CD-ROM drive without a medium */
	unsigned index;
	int cdrom;
	int readonly;
};

struct machine {
	struct vm vm;
	struct console *con;
	struct pc_persist *persist;
	struct irq_line irq_kbd, irq_com1, irq_rtc, irq_sci;
	struct uart16550 com1;
	struct rtc_mc146818 rtc;
	struct i8042 kbc;
	struct acpi_pm pm;
	struct reset_cf9 cf9;
	struct pvpanic pvpanic;
	struct pvm_user_watch *user_watch; /* NULL unless machine_config.watch_pvm_user */
	struct pci_bus pci;
	struct pci_host pci_host;
	uint8_t post_code;
	int devices_up;
	int pci_up;
	struct event_loop io; /* the I/O thread of the virtio back ends */
	int io_up;
	unsigned next_slot;   /* next free PCI slot on bus 0 */
	struct machine_blk *blk[DOMUS_MAX_DISKS];
	unsigned nblk;
	struct machine_rng *rng;
	struct machine_hvc *hvc;
	struct machine_net *net[DOMUS_MAX_NICS];
	unsigned nnet;
	struct machine_fv *fv; /* FV guests only */
};

int machine_create(struct machine *m, const struct machine_config *cfg, struct console *con,
		   char *err, size_t errlen);
int machine_start(struct machine *m, char *err, size_t errlen);
void machine_destroy(struct machine *m);
/* Press the ACPI power button (orderly shutdown request to the guest). */
void machine_power_button(struct machine *m);
/* The NIC named by what: its index ("0"), its device name ("net0") or its TAP's name.
 * Returns the index, or -1 when there is no such NIC. */
int machine_find_nic(const struct machine *m, const char *what);
/* Plug (up) or unplug NIC i's cable while the guest runs (virtio_net_set_link); it stays so
 * across reboots of this monitor. 0, or -ENODEV when there is no NIC i. */
int machine_set_nic_link(struct machine *m, unsigned i, bool up);

#endif
