/*
 * domcfg: a typed domain configuration built from an xl.cfg value tree.
 *
 * Contract: domcfg_build() turns the settings of a parsed struct xlcfg into
 * a struct domain_config, or fails with one message "SOURCE:LINE: what is
 * wrong" naming the key (an unknown key, a wrong type, a value out of range,
 * a bad disk or vif spec). Every key it accepts is listed in domcfg.c; any
 * other key is an error, never silently ignored. Defaults follow xl where
 * Domus can: memory 128 MiB, vcpus 1, acpi on, on_poweroff/on_reboot/
 * on_crash = destroy/restart/destroy, and type pv if a kernel is given (hvm
 * otherwise). Disk specs follow xl-disk-configuration(5), vif specs
 * xl-network-configuration(5). The result owns all its strings; release it
 * with domcfg_free(). Pure: no I/O except domcfg_load() reading the file.
 */
#ifndef DOMUS_CONFIG_DOMCFG_H
#define DOMUS_CONFIG_DOMCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/limits.h"
#include "config/xlcfg.h"


enum domcfg_type {
	DOMCFG_TYPE_PV,
	DOMCFG_TYPE_PVH,
	DOMCFG_TYPE_HVM,
};

/* What domusd does when the guest powers off, reboots or crashes. */
enum domcfg_action {
	DOMCFG_ACTION_DESTROY,
	DOMCFG_ACTION_RESTART,
	DOMCFG_ACTION_RENAME_RESTART,
	DOMCFG_ACTION_PRESERVE,
	DOMCFG_ACTION_COREDUMP_DESTROY,
	DOMCFG_ACTION_COREDUMP_RESTART,
};

/* The BIOS an FV guest boots when its config names none (Debian's seabios package). */
#define FIRMWARE_DEFAULT "/usr/share/seabios/bios-256k.bin"

enum domcfg_firmware {
	DOMCFG_FW_DEFAULT,      /* not given: SeaBIOS for hvm */
	DOMCFG_FW_SEABIOS,      /* firmware="bios"/"seabios", bios="seabios" */
	DOMCFG_FW_OVMF,         /* firmware="uefi"/"ovmf", bios="ovmf" */
};

enum domcfg_disk_format {
	DOMCFG_DISK_RAW,
	DOMCFG_DISK_QCOW,
	DOMCFG_DISK_QCOW2,
	DOMCFG_DISK_VHD,
	DOMCFG_DISK_QED,
	DOMCFG_DISK_EMPTY,      /* CD-ROM drive with no medium */
};

/* Nominal disk type from the vdev name (xen-vbd-interface(7)). */
enum domcfg_vdev_bus {
	DOMCFG_BUS_XVD,         /* xvda.., d0p0.. */
	DOMCFG_BUS_HD,          /* hda..hdd: IDE primary/secondary x master/slave */
	DOMCFG_BUS_SD,          /* sda..sdp */
};

struct domcfg_disk {
	char *target;           /* host path as written; "" = empty CD-ROM */
	enum domcfg_disk_format format;
	char *vdev;             /* guest name as written: "xvda", "hdc" */
	enum domcfg_vdev_bus bus;
	unsigned index;         /* disk number: xvda 0, hdc 2, xvdaa 26 */
	unsigned partition;     /* 0 = whole disk */
	bool readonly;          /* access=ro, and always for a CD-ROM */
	bool cdrom;
	bool discard;           /* advertise discard; "no-discard" clears */
	char *serial;           /* Domus: serial=NAME, the name a virtio-blk disk
				 * reports to the guest (GET_ID); NULL = vdev */
	int line;               /* config line of this entry (0 if none) */
};

enum domcfg_nic_type {
	DOMCFG_NIC_IOEMU,       /* type=ioemu (default): emulated model */
	DOMCFG_NIC_VIF,         /* type=vif: paravirtual only */
};

struct domcfg_nic {
	uint8_t mac[6];
	bool mac_auto;          /* no mac= given: mac from domcfg_derive_mac */
	char *bridge;           /* NULL if not given (xl would use xenbr0) */
	char *model;            /* NULL = default for the guest type */
	char *vifname;          /* host TAP name; NULL = default */
	char *ip;               /* informational only; NULL if not given */
	enum domcfg_nic_type type;
	int devid;              /* devid=, else -1 from domcfg_parse_nic and
				 * the lowest free number after domcfg_build */
	int line;
};

struct domain_config {
	char *name;
	enum domcfg_type type;
	uint64_t memory_mib;
	uint64_t maxmem_mib;    /* = memory_mib: there is no balloon */
	unsigned vcpus;
	char *cpus;             /* pinning as written ("0-3,^1"), a list in
				 * config/cpuset.h's per-vCPU form ("2;3-5;");
				 * syntax checked; NULL = none */
	char *kernel;           /* NULL = boot through firmware */
	char *ramdisk;
	char *cmdline;          /* final kernel command line, see below; or NULL */
	struct domcfg_disk *disks;
	size_t ndisks;
	struct domcfg_nic *nics;
	size_t nnics;
	char boot[4];           /* order over c(disk) d(cdrom) n(net); "cd" */
	enum domcfg_firmware firmware;
	char *bios_path;        /* bios_path_override: the BIOS image; NULL */
	/* Domus keys (README.md, "Domus keys in xl.cfg"): */
	bool rng;               /* rng = 1: a virtio-rng device */
	char *hvc_output;       /* hvc_output = "FILE": a virtio console (hvc0)
				 * appending to FILE; NULL = none */
	char *hvc_input;        /* hvc_input = "FILE": what hvc0 reads; NULL */
	bool fv_devices;        /* fv_devices = 1: a kernel booted directly on
				 * the FV PC (chipset, IDE, VGA) */
	bool triple_fault_reset; /* a triple fault resets instead of crashing */
	bool pvm_aware;         /* the kernel runs on a PVM host as it is: add
				 * no PVM-host flags, do not watch its user space */
	enum domcfg_action on_poweroff, on_reboot, on_crash;
};

/*
 * Build dc from the settings in cfg. The kernel command line is `cmdline`
 * if given (root and extra are then ignored, as xl does), otherwise
 * "root=<root> <extra>" from whichever of the two are set. Returns 0,
 * -EINVAL with the message in err, or -ENOMEM. On error dc is zeroed.
 */
int domcfg_build(const struct xlcfg *cfg, struct domain_config *dc,
		 char *err, size_t errlen);
/* Parse the file at path, apply the xl-style overrides ("memory=512") in
 * order, then build dc. Returns as domcfg_build, or -errno for the file. */
int domcfg_load(const char *path, const char *const *overrides,
		size_t noverrides, struct domain_config *dc, char *err,
		size_t errlen);
/*
 * Whether this version of Domus can build the machine dc describes (one
 * rule set for `domus run` and domusd). PV/PVH: virtio-blk disks on raw
 * images, no CD-ROMs; virtio-net NICs (model virtio or unset); with
 * fv_devices, IDE drives as for HVM instead. HVM: SeaBIOS, IDE drives
 * hda-hdd on raw images or empty CD-ROM drives, no NICs, no fv_devices.
 * Returns 0, or -1 with "SOURCE[:LINE]: why" in err.
 */
int domcfg_check_support(const struct domain_config *dc, const char *source,
			 char *err, size_t errlen);
/* Release everything dc owns and zero it. Safe on a zeroed dc. */
void domcfg_free(struct domain_config *dc);
/* Make dc's host paths (kernel, ramdisk, bios_path, disk targets, hvc
 * files) absolute against cwd, the directory of the client that wrote
 * them; an empty CD-ROM target stays "". cwd NULL: no change. 0 or -ENOMEM. */
int domcfg_make_absolute(struct domain_config *dc, const char *cwd);

/*
 * The JSON form of a built domain_config, the one record domusd keeps and
 * hands to the monitor (domcfg_json.c). domcfg_to_json returns a new
 * object (NULL when out of memory). domcfg_from_json reads one back, every
 * field type-checked and the whole record checked as domcfg_build would:
 * 0, -EINVAL with "FIELD: why" in err (dc zeroed), or -ENOMEM.
 */
struct json_object;
struct json_object *domcfg_to_json(const struct domain_config *dc);
int domcfg_from_json(struct json_object *o, struct domain_config *dc,
		     char *err, size_t errlen);
/* A deep copy, through the JSON form. 0, or < 0 with to zeroed. */
int domcfg_copy(struct domain_config *to, const struct domain_config *from);

/*
 * Parse one xl disk spec ('file:/x.img,xvda,w', 'format=raw, vdev=hdc,
 * access=ro, devtype=cdrom, target=/y.iso'). Returns 0 or -EINVAL with the
 * reason (without file or line) in err, or -ENOMEM. Besides xl's syntax,
 * '/x.iso,hdc:cdrom,r' (the old three-field form without a prefix) works.
 */
int domcfg_parse_disk(const char *spec, struct domcfg_disk *d, char *err,
		      size_t errlen);
void domcfg_disk_free(struct domcfg_disk *d);
/* Decode a vdev name: xvd<letters>[part], hd[a-d][part], sd[a-p][part],
 * d<disk>[p<part>]. Returns 0 or -EINVAL. */
int domcfg_parse_vdev(const char *vdev, enum domcfg_vdev_bus *bus,
		      unsigned *index, unsigned *partition);

/*
 * Parse one xl vif spec ('mac=00:16:3e:01:02:03,bridge=br0,model=e1000').
 * Without mac= the NIC gets mac_auto and a zero MAC (domcfg_build derives
 * it); devid is -1 unless given. Returns 0, -EINVAL (reason in err), -ENOMEM.
 */
int domcfg_parse_nic(const char *spec, struct domcfg_nic *n, char *err,
		     size_t errlen);
void domcfg_nic_free(struct domcfg_nic *n);
/* Parse "xx:xx:xx:xx:xx:xx" (hex, either case). Returns 0 or -EINVAL. */
int domcfg_parse_mac(const char *s, uint8_t mac[6]);
/*
 * The stable MAC of NIC `index` of domain `name`: 00:16:3e (Xen's OUI,
 * which Xen sets aside for guests) + 23 bits of a hash of name and index,
 * so a domain keeps its addresses across restarts. See domcfg_nic.c.
 */
void domcfg_derive_mac(const char *name, unsigned index, uint8_t mac[6]);

/* A domain name Domus accepts: 1-DOMUS_NAME_MAX of letters, digits, '-',
 * '_', '.', not starting with '-' or '.'. */
bool domcfg_name_ok(const char *s);

/* Names as written in xl.cfg: "pv", "restart", "qcow2", ... */
const char *domcfg_type_name(enum domcfg_type t);
const char *domcfg_action_name(enum domcfg_action a);
const char *domcfg_format_name(enum domcfg_disk_format f);

#endif
