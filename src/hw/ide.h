/* An IDE channel (ATA/ATAPI-7 register protocol): two drives behind one task file, the
 * command block (8 ports: data, error/feature, sector count, LBA low/mid/high, device,
 * status/command) and the control block (alternate status / device control), PIO data
 * transfer, and bus-master DMA (SFF-8038i) through ide_bm_ops. A drive is an ATA disk on a raw
 * image or an ATAPI CD-ROM (atapi.c). INTRQ is a level raised when a command needs the host
 * and dropped when the host reads the status register, gated by nIEN.
 *
 * ATA disks advertise a volatile write cache (IDENTIFY words 82/85 bit 5) and FLUSH CACHE (EXT)
 * (words 83/86 bits 12/13), which run the back end's fdatasync: a flush completes without
 * error only once every write completed before it is durable, so guests that flush (every
 * journaling file system) keep their data across a host crash.
 *
 * Back-end I/O is synchronous on the calling vCPU thread. Every register value and every DMA
 * address comes from the guest and is checked; a bad request ends the command with an error
 * status the guest sees. */
#ifndef DOMUS_IDE_H
#define DOMUS_IDE_H
#include <pthread.h>
#include <stdint.h>

#include "backend/block.h"
#include "hw/atapi.h"
#include "vmm/bus.h"
#include "vmm/guest_mem.h"
#include "vmm/irq.h"

#define IDE_CMD_LEN 8
#define IDE_CTL_LEN 1
#define IDE_BM_LEN 8 /* per channel */
#define IDE_BUF (64u << 10)
#define IDE_SECTOR 512

/* Status register */
#define IDE_BSY 0x80
#define IDE_DRDY 0x40
#define IDE_DF 0x20
#define IDE_DSC 0x10
#define IDE_DRQ 0x08
#define IDE_ERR 0x01
/* Error register */
#define IDE_ABRT 0x04
#define IDE_IDNF 0x10
#define IDE_UNC 0x40
/* Device control */
#define IDE_NIEN 0x02
#define IDE_SRST 0x04
#define IDE_HOB 0x80
/* Bus master */
#define BM_CMD_START 0x01
#define BM_CMD_TO_MEM 0x08
#define BM_STS_ACTIVE 0x01
#define BM_STS_ERROR 0x02
#define BM_STS_IRQ 0x04

enum ide_kind { IDE_NONE, IDE_ATA, IDE_ATAPI };

struct ide_drive {
	enum ide_kind kind;
	struct block *disk; /* ATA: the image; ATAPI: the medium (may be NULL) */
	uint64_t sectors;
	struct atapi cd;
	uint8_t mult; /* sectors per DRQ block for READ/WRITE MULTIPLE; 0 = not set */
	int sig_pending; /* reset: its signature shows in the task file when it is selected */
	/* ATA: the volatile write cache is on (the default; SET FEATURES 02h/82h). Off, every
	 * write command is flushed before it completes (write-through). */
	int wcache;
	int flush_warned;
	char serial[21];
};

enum ide_xfer {
	XFER_NONE,
	XFER_IN,      /* device to host: reply, ATA read or ATAPI read */
	XFER_OUT,     /* host to device: ATA write */
	XFER_PACKET,  /* host sends the 12-byte ATAPI packet */
};

struct ide_channel {
	pthread_mutex_t lock;
	struct irq_line *irq;
	const struct guest_mem *mem;
	struct ide_drive drive[2];
	unsigned cur;
	/* task file; hob_* are the previous values (48-bit commands) */
	uint8_t feature, nsect, lbal, lbam, lbah, device, status, error, ctl;
	uint8_t hob_feature, hob_nsect, hob_lbal, hob_lbam, hob_lbah;
	uint8_t cmd;
	/* the data stream of the command in progress */
	enum ide_xfer xfer;
	int atapi;           /* the stream is an ATAPI one (interrupt reason in nsect) */
	int dma;             /* the transfer waits for the bus master */
	unsigned ss;         /* sector size of the stream: 512 or 2048; 0 = reply in buf */
	uint64_t lba;        /* first sector of the stream */
	uint64_t total, pos; /* stream length and position, bytes */
	uint64_t win;        /* stream offset of buf[0] */
	size_t win_len;
	uint32_t drq_block;  /* bytes per DRQ block */
	uint32_t drq_left;   /* bytes left in the current DRQ block */
	uint8_t *buf;
	/* bus master (one channel's 8 bytes) */
	uint8_t bm_cmd, bm_status;
	uint32_t bm_prd;
	uint64_t stats_bytes;
};

extern const struct io_ops ide_cmd_ops; /* 8 ports at 0x1F0 / 0x170 */
extern const struct io_ops ide_ctl_ops; /* 1 port at 0x3F6 / 0x376 */
extern const struct io_ops ide_bm_ops;  /* 8 ports at BAR4 (+8 for the secondary) */

/* 0, or -ENOMEM. */
int ide_init(struct ide_channel *c, struct irq_line *irq, const struct guest_mem *mem);
void ide_destroy(struct ide_channel *c);
/* Attach drive unit (0 master, 1 slave): an ATA disk (disk non-NULL) or an ATAPI CD-ROM
 * (cdrom set; disk NULL means no medium). */
void ide_attach(struct ide_channel *c, unsigned unit, struct block *disk, int cdrom);
/* Soft reset of both drives (SRST, or the machine's reset). */
void ide_reset(struct ide_channel *c);

#endif
