/* How domusd starts a domain: everything a (re)start of its monitor needs, taken from the
 * config once at create time (as xl keeps the config it was given), kept in the domain record
 * (domain.json) across restarts of domusd, and turned into the monitor's command line. */
#ifndef DOMUS_LAUNCH_H
#define DOMUS_LAUNCH_H
#include <stddef.h>
#include <stdint.h>

#include "config/domcfg.h"


/* A drive: a virtio-blk disk (PV) or an IDE disk or CD-ROM drive (FV). */
struct dom_disk {
	char *path;     /* absolute; "" for a CD-ROM drive without a medium */
	char *vdev;     /* the guest's name for it, as configured: xvda, hdc */
	unsigned index; /* FV: IDE drive 0-3 (hda primary master ... hdd secondary slave) */
	int readonly, cdrom;
};

/* A virtio-net NIC on a TAP device. */
struct dom_nic {
	uint8_t mac[6];
	char *bridge; /* NULL: the TAP is not put in a bridge */
	char *tap;    /* NULL: the kernel names the TAP */
};

struct dom_launch {
	uint64_t memory_mib, maxmem_mib;
	unsigned vcpus;
	char *cpus;                       /* xl.cfg cpus= as domcfg keeps it; NULL: no pinning */
	int fv;                           /* firmware boot on the emulated PC (type "hvm") */
	char *kernel, *ramdisk, *cmdline; /* PV: absolute paths; NULLs when absent */
	char *firmware;                   /* FV: the BIOS image (absolute) */
	char boot[4];                     /* FV: boot order over c, d, n */
	struct dom_disk *disks;
	unsigned ndisks;
	struct dom_nic *nics;
	unsigned nnics;
	char *source; /* the config file, for messages */
	enum domcfg_action on_poweroff, on_reboot, on_crash;
};

struct json_object;

/* Fill l from a built and checked config; relative paths are taken relative to cwd (NULL: as
 * they are). 0, or -ENOMEM. */
int launch_from_config(struct dom_launch *l, const struct domain_config *dc, const char *source,
		       const char *cwd);
void launch_free(struct dom_launch *l);
int launch_copy(struct dom_launch *to, const struct dom_launch *from);
/* Add l's fields to a domain record / read them back from one. launch_from_json returns 0, or
 * -EINVAL for a record that does not describe a launch (no kernel and no firmware). */
void launch_to_json(const struct dom_launch *l, struct json_object *o);
int launch_from_json(struct dom_launch *l, struct json_object *o);
/* Append the monitor options that describe the machine (memory, vCPUs, kernel or firmware,
 * drives, NICs) to argv, which has room for *n + LAUNCH_MAX_ARGS more; the strings live in
 * store (freed by launch_args_free). 0, or -ENOMEM. */
#define LAUNCH_MAX_ARGS (18 + 2 * (DOMUS_MAX_DISKS + DOMUS_MAX_NICS))
struct launch_args {
	char *s[LAUNCH_MAX_ARGS];
	unsigned n;
};
int launch_vmm_args(const struct dom_launch *l, const char **argv, int *n,
		    struct launch_args *store);
void launch_args_free(struct launch_args *store);

#endif
