/* QEMU's firmware configuration device (fw_cfg), the way SeaBIOS and OVMF read their machine
 * description: a 16-bit selector at port 0x510, a byte-wide data port at 0x511, and the DMA
 * interface at 0x514 (big-endian 64-bit address of a FWCfgDmaAccess, written as two 32-bit
 * halves; writing the low half at 0x518 runs the transfer). Reading the DMA ports returns the
 * signature "QEMU CFG". Items are numbered blobs; named files live in the directory item 0x19
 * with keys from 0x20. All items are read-only for the guest.
 *
 * The core copies what it is given; DMA reaches guest RAM only through gpa_to_hva(). */
#ifndef DOMUS_FW_CFG_H
#define DOMUS_FW_CFG_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/guest_mem.h"

#define FW_CFG_PORT 0x510
#define FW_CFG_PORT_LEN 12 /* 0x510 selector, 0x511 data, 0x514-0x51B DMA address */

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NOGRAPHIC 0x04
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_NUMA 0x0D
#define FW_CFG_BOOT_MENU 0x0E
#define FW_CFG_MAX_CPUS 0x0F
#define FW_CFG_FILE_DIR 0x19
#define FW_CFG_FILE_FIRST 0x20
#define FW_CFG_ARCH_ACPI_TABLES 0x8000
#define FW_CFG_ARCH_SMBIOS 0x8001
#define FW_CFG_ARCH_IRQ0_OVERRIDE 0x8002
#define FW_CFG_ARCH_E820_TABLE 0x8003

#define FW_CFG_ID_TRADITIONAL 0x1
#define FW_CFG_ID_DMA 0x2

/* FWCfgDmaAccess.control bits */
#define FW_CFG_DMA_ERROR 0x01
#define FW_CFG_DMA_READ 0x02
#define FW_CFG_DMA_SKIP 0x04
#define FW_CFG_DMA_SELECT 0x08
#define FW_CFG_DMA_WRITE 0x10

#define FW_CFG_NAME_MAX 56
#define FW_CFG_MAX_ITEMS 128

struct fw_cfg_item {
	uint16_t key;
	char name[FW_CFG_NAME_MAX]; /* "" for numbered items */
	uint8_t *data;
	uint32_t len;
};

struct fw_cfg {
	pthread_mutex_t lock;
	const struct guest_mem *mem;
	struct fw_cfg_item items[FW_CFG_MAX_ITEMS];
	unsigned nr, nr_files;
	uint16_t sel;
	uint32_t off;
	uint32_t dma_hi;
	uint64_t dma_count; /* transfers done, for tests and debugging */
};

extern const struct io_ops fw_cfg_ops;

/* Starts with the signature, the ID (traditional + DMA) and an empty file directory. */
void fw_cfg_init(struct fw_cfg *f, const struct guest_mem *mem);
void fw_cfg_destroy(struct fw_cfg *f);
/* Add (or replace) numbered item key. 0, -ENOMEM, -ENOSPC, or -EINVAL for a file key. */
int fw_cfg_add(struct fw_cfg *f, uint16_t key, const void *data, size_t len);
int fw_cfg_add_u16(struct fw_cfg *f, uint16_t key, uint16_t v);
int fw_cfg_add_u32(struct fw_cfg *f, uint16_t key, uint32_t v);
int fw_cfg_add_u64(struct fw_cfg *f, uint16_t key, uint64_t v);
/* Add a named file (names are kept sorted, as firmware expects). 0, -EEXIST, -ENAMETOOLONG,
 * -ENOMEM, -ENOSPC. */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, size_t len);
/* The item with this file name, or NULL (for tests and for the machine's own checks). */
const struct fw_cfg_item *fw_cfg_find_file(const struct fw_cfg *f, const char *name);

#endif
