/* What one domain can have: checked once, when its config is built (domcfg.c), and relied on
 * by the machine (machine_pc.h sizes its device tables with them). Defined here only. */
#ifndef DOMUS_CONFIG_LIMITS_H
#define DOMUS_CONFIG_LIMITS_H

#define DOMUS_MAX_VCPUS 255          /* xAPIC IDs */
#define DOMUS_MAX_MEMORY_MIB (1ull << 24) /* 16 TiB */
#define DOMUS_MAX_DISKS 16           /* virtio-blk disks of a PV guest */
#define DOMUS_MAX_NICS 8             /* virtio-net NICs */
#define DOMUS_IDE_DRIVES 4           /* hda-hdd: two IDE channels, master and slave */
#define DOMUS_NAME_MAX 64            /* domain name length, with the NUL */

#endif
