#include "hw/ide.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

/* Command block registers */
#define REG_DATA 0
#define REG_ERROR 1 /* read; feature on write */
#define REG_NSECT 2
#define REG_LBAL 3
#define REG_LBAM 4
#define REG_LBAH 5
#define REG_DEVICE 6
#define REG_STATUS 7 /* read; command on write */
#define DEV_LBA 0x40
#define DEV_SLAVE 0x10
/* ATAPI interrupt reason (in the sector count register) */
#define IREASON_COD 0x01
#define IREASON_IO 0x02

#define ATA_GEOM_HEADS 16
#define ATA_GEOM_SPT 63
#define PRD_MAX 512 /* entries walked per transfer, so a looping table cannot hang us */
#define MAX_MULT 16

static struct ide_drive *cur(struct ide_channel *c)
{
	return &c->drive[c->cur];
}

static int channel_empty(const struct ide_channel *c)
{
	return c->drive[0].kind == IDE_NONE && c->drive[1].kind == IDE_NONE;
}

static void raise_irq(struct ide_channel *c)
{
	c->bm_status |= BM_STS_IRQ;
	if (!(c->ctl & IDE_NIEN))
		irq_line_set(c->irq, 1);
}

static void set_signature(struct ide_channel *c, const struct ide_drive *d)
{
	c->nsect = 1;
	c->lbal = 1;
	if (d->kind == IDE_ATAPI) {
		c->lbam = 0x14;
		c->lbah = 0xEB;
	} else {
		c->lbam = 0;
		c->lbah = 0;
	}
}

static void end_xfer(struct ide_channel *c)
{
	c->xfer = XFER_NONE;
	c->dma = 0;
	c->atapi = 0;
	c->total = c->pos = c->win = 0;
	c->win_len = 0;
	c->drq_left = 0;
}

/* The command ends well; ATA devices report seek complete, ATAPI ones the completion reason. */
static void cmd_done(struct ide_channel *c, int irq)
{
	int atapi = cur(c)->kind == IDE_ATAPI;
	end_xfer(c);
	c->error = 0;
	c->status = atapi ? IDE_DRDY : IDE_DRDY | IDE_DSC;
	if (atapi)
		c->nsect = IREASON_IO | IREASON_COD;
	if (irq)
		raise_irq(c);
}

static void cmd_abort(struct ide_channel *c, uint8_t err)
{
	end_xfer(c);
	c->error = err;
	c->status = IDE_DRDY | IDE_ERR;
	raise_irq(c);
}

/* ATAPI CHECK CONDITION: the sense key goes to the error register's high nibble. */
static void atapi_fail(struct ide_channel *c)
{
	struct ide_drive *d = cur(c);
	end_xfer(c);
	c->error = (uint8_t)(d->cd.sense_key << 4 | IDE_ABRT);
	c->status = IDE_DRDY | IDE_ERR;
	c->nsect = IREASON_IO | IREASON_COD;
	raise_irq(c);
}

static void fail_stream(struct ide_channel *c)
{
	if (c->atapi)
		atapi_fail(c);
	else
		cmd_abort(c, IDE_UNC | IDE_ABRT);
}

/* Make what the drive acknowledged durable; 0, or -1 after failing the command. */
static int flush_disk(struct ide_channel *c, struct ide_drive *d)
{
	int r = block_flush(d->disk);
	if (r == 0)
		return 0;
	/* The guest sees the error; say once on the host why its data may not be safe. */
	if (!d->flush_warned)
		log_warn("ide: flushing %s failed: %s", d->disk->path ? d->disk->path : "the disk",
			 strerror(-r));
	d->flush_warned = 1;
	cmd_abort(c, IDE_ABRT);
	return -1;
}

/* A write command moved all its data: complete it, write-through if the cache is off. */
static void write_done(struct ide_channel *c)
{
	struct ide_drive *d = cur(c);
	if (!d->wcache && flush_disk(c, d) < 0)
		return;
	cmd_done(c, 1);
}

/* Bring the next part of the stream into buf; 0, or -1 after failing the command. */
static int refill(struct ide_channel *c)
{
	struct ide_drive *d = cur(c);
	uint64_t left = c->total - c->pos;
	size_t n = left < IDE_BUF ? (size_t)left : IDE_BUF;
	int r;
	if (c->ss == ATAPI_BLOCK)
		r = atapi_read_blocks(&d->cd, c->lba + c->pos / ATAPI_BLOCK,
				      (uint32_t)(n / ATAPI_BLOCK), c->buf);
	else
		r = block_read(d->disk, c->lba * IDE_SECTOR + c->pos, c->buf, n);
	if (r < 0) {
		log_debug("ide: read of %zu bytes at sector %llu failed", n,
			  (unsigned long long)(c->lba + c->pos / (c->ss ? c->ss : 1)));
		fail_stream(c);
		return -1;
	}
	c->win = c->pos;
	c->win_len = n;
	c->stats_bytes += n;
	return 0;
}

/* Start a DRQ block of a device-to-host PIO transfer and interrupt the host. */
static void begin_in_block(struct ide_channel *c)
{
	uint64_t left = c->total - c->pos;
	c->drq_left = left < c->drq_block ? (uint32_t)left : c->drq_block;
	if (c->ss && c->pos >= c->win + c->win_len && refill(c) < 0)
		return;
	if (c->atapi) {
		c->lbam = (uint8_t)c->drq_left;
		c->lbah = (uint8_t)(c->drq_left >> 8);
		c->nsect = IREASON_IO;
	}
	c->status = IDE_DRDY | IDE_DRQ | (c->atapi ? 0 : IDE_DSC);
	raise_irq(c);
}

static void start_in(struct ide_channel *c, uint64_t total, uint32_t drq_block)
{
	c->xfer = XFER_IN;
	c->total = total;
	c->pos = 0;
	c->drq_block = drq_block;
	if (c->ss) {
		c->win = 0;
		c->win_len = 0;
	} else {
		c->win = 0;
		c->win_len = (size_t)total;
	}
	begin_in_block(c);
}

static void end_in_block(struct ide_channel *c)
{
	if (c->pos < c->total) {
		begin_in_block(c);
		return;
	}
	/* ATA PIO reads end without an interrupt; ATAPI ones report completion. */
	cmd_done(c, c->atapi);
}

static void start_out(struct ide_channel *c, uint64_t total, uint32_t drq_block)
{
	c->xfer = XFER_OUT;
	c->ss = IDE_SECTOR;
	c->total = total;
	c->pos = c->win = 0;
	c->drq_block = drq_block;
	c->drq_left = total < drq_block ? (uint32_t)total : drq_block;
	c->status = IDE_DRDY | IDE_DRQ | IDE_DSC;
}

static void end_out_block(struct ide_channel *c)
{
	struct ide_drive *d = cur(c);
	if (block_write(d->disk, c->lba * IDE_SECTOR + c->win, c->buf,
		       (size_t)(c->pos - c->win)) < 0) {
		cmd_abort(c, IDE_UNC | IDE_ABRT);
		return;
	}
	c->stats_bytes += c->pos - c->win;
	c->win = c->pos;
	if (c->pos == c->total) {
		write_done(c);
		return;
	}
	uint64_t left = c->total - c->pos;
	c->drq_left = left < c->drq_block ? (uint32_t)left : c->drq_block;
	c->status = IDE_DRDY | IDE_DRQ | IDE_DSC;
	raise_irq(c);
}

/* ---- bus-master DMA ---- */

/* Move the whole stream through the PRD table at bm_prd. */
static void run_dma(struct ide_channel *c)
{
	struct ide_drive *d = cur(c);
	int to_mem = c->xfer == XFER_IN;
	uint64_t prd = c->bm_prd;
	int ok = 1, eot = 0;
	c->bm_status |= BM_STS_ACTIVE;
	for (unsigned i = 0; i < PRD_MAX && ok && !eot && c->pos < c->total; i++, prd += 8) {
		const uint8_t *e = gpa_to_hva(c->mem, prd, 8);
		if (!e) {
			ok = 0;
			break;
		}
		uint32_t addr = (uint32_t)(e[0] | e[1] << 8 | e[2] << 16 | (uint32_t)e[3] << 24);
		uint32_t count = (uint32_t)(e[4] | e[5] << 8);
		eot = (e[7] & 0x80) != 0;
		addr &= ~1u;
		if (count == 0)
			count = 0x10000;
		while (count && c->pos < c->total) {
			uint64_t left = c->total - c->pos;
			uint32_t n = count < left ? count : (uint32_t)left;
			if (to_mem) {
				if (c->pos >= c->win + c->win_len && refill(c) < 0)
					return;
				uint64_t inwin = c->win + c->win_len - c->pos;
				if (n > inwin)
					n = (uint32_t)inwin;
				uint8_t *dst = gpa_to_hva(c->mem, addr, n);
				if (!dst) {
					ok = 0;
					break;
				}
				memcpy(dst, c->buf + (c->pos - c->win), n);
			} else {
				if (n > IDE_BUF)
					n = IDE_BUF;
				const uint8_t *src = gpa_to_hva(c->mem, addr, n);
				if (!src) {
					ok = 0;
					break;
				}
				if (block_write(d->disk, c->lba * IDE_SECTOR + c->pos, src, n) < 0) {
					cmd_abort(c, IDE_UNC | IDE_ABRT);
					c->bm_status &= (uint8_t)~BM_STS_ACTIVE;
					return;
				}
				c->stats_bytes += n;
			}
			c->pos += n;
			addr += n;
			count -= n;
		}
	}
	c->bm_status &= (uint8_t)~BM_STS_ACTIVE;
	if (!ok || c->pos < c->total) {
		/* A PRD outside RAM, or a table too short for the command. */
		log_debug("ide: DMA with a bad or short PRD table at 0x%x", c->bm_prd);
		c->bm_status |= BM_STS_ERROR;
		if (c->atapi) {
			cur(c)->cd.sense_key = SENSE_ILLEGAL_REQUEST;
			atapi_fail(c);
		} else {
			cmd_abort(c, IDE_ABRT);
		}
		return;
	}
	if (!to_mem)
		write_done(c);
	else
		cmd_done(c, 1);
}

static void start_dma(struct ide_channel *c, enum ide_xfer dir, uint64_t total)
{
	c->xfer = dir;
	c->dma = 1;
	c->total = total;
	c->pos = c->win = 0;
	c->win_len = 0;
	c->status = IDE_DRDY | IDE_DRQ | (c->atapi ? 0 : IDE_DSC);
	if (c->atapi)
		c->nsect = dir == XFER_IN ? IREASON_IO : 0;
	if (c->bm_cmd & BM_CMD_START)
		run_dma(c);
}

/* ---- ATA commands ---- */

static void put_string(uint16_t *w, const char *s, unsigned words)
{
	size_t len = strlen(s);
	for (unsigned i = 0; i < words; i++) {
		char a = 2 * i < len ? s[2 * i] : ' ';
		char b = 2 * i + 1 < len ? s[2 * i + 1] : ' ';
		w[i] = (uint16_t)((uint8_t)a << 8 | (uint8_t)b);
	}
}

static void identify(struct ide_channel *c, struct ide_drive *d)
{
	uint16_t w[256];
	memset(w, 0, sizeof(w));
	put_string(w + 10, d->serial, 10);
	put_string(w + 23, "1.0", 4);
	if (d->kind == IDE_ATAPI) {
		/* ATAPI, CD-ROM, removable, DRQ within 50 µs, 12-byte packets */
		w[0] = (2u << 14) | (5u << 8) | (1u << 7) | (2u << 5);
		put_string(w + 27, "DOMUS DVD-ROM", 20);
		w[49] = (1u << 9) | (1u << 8); /* LBA, DMA */
		w[53] = 0x0006;
		w[63] = 0x0407; /* multiword DMA 0-2, mode 2 selected */
		w[64] = 0x0003;
		w[65] = w[66] = w[67] = w[68] = 120;
		w[80] = 0x007E; /* ATA/ATAPI-1..6 */
		w[82] = 0x4210; /* packet, DEVICE RESET, NOP */
		w[83] = 0x4000;
		w[84] = 0x4000;
		w[85] = 0x4210;
		w[87] = 0x4000;
		w[88] = 0x203F; /* UDMA 0-5, mode 5 selected */
	} else {
		uint64_t n = d->sectors;
		uint64_t cyl = n / (ATA_GEOM_HEADS * ATA_GEOM_SPT);
		if (cyl > 16383)
			cyl = 16383;
		uint32_t lba28 = n > 0x0FFFFFFF ? 0x0FFFFFFF : (uint32_t)n;
		w[0] = 0x0040; /* fixed disk */
		w[1] = (uint16_t)cyl;
		w[3] = ATA_GEOM_HEADS;
		w[6] = ATA_GEOM_SPT;
		put_string(w + 27, "DOMUS HARDDISK", 20);
		w[47] = 0x8000 | MAX_MULT;
		w[49] = (1u << 9) | (1u << 8);
		w[50] = 0x4000;
		w[53] = 0x0007;
		w[54] = (uint16_t)cyl;
		w[55] = ATA_GEOM_HEADS;
		w[56] = ATA_GEOM_SPT;
		uint32_t chs = (uint32_t)cyl * ATA_GEOM_HEADS * ATA_GEOM_SPT;
		w[57] = (uint16_t)chs;
		w[58] = (uint16_t)(chs >> 16);
		w[59] = d->mult ? (uint16_t)(0x100 | d->mult) : 0;
		w[60] = (uint16_t)lba28;
		w[61] = (uint16_t)(lba28 >> 16);
		w[63] = 0x0407;
		w[64] = 0x0003;
		w[65] = w[66] = w[67] = w[68] = 120;
		w[80] = 0x00F0; /* ATA-4..7 */
		/* NOP, write cache (supported; enabled unless SET FEATURES 82h turned it off);
		 * LBA48, FLUSH CACHE, FLUSH CACHE EXT. */
		w[82] = 0x4000 | (1u << 5);
		w[83] = 0x4000 | (1u << 10) | (1u << 12) | (1u << 13);
		w[84] = 0x4000;
		w[85] = 0x4000 | (d->wcache ? 1u << 5 : 0);
		w[86] = (1u << 10) | (1u << 12) | (1u << 13);
		w[87] = 0x4000;
		w[88] = 0x203F;
		w[93] = 0x6001 | 0x4000; /* 80-wire cable, device 0 passed diagnostics */
		for (int i = 0; i < 4; i++)
			w[100 + i] = (uint16_t)(n >> (16 * i));
	}
	for (int i = 0; i < 256; i++) {
		c->buf[2 * i] = (uint8_t)w[i];
		c->buf[2 * i + 1] = (uint8_t)(w[i] >> 8);
	}
	c->ss = 0;
	c->atapi = 0;
	start_in(c, 512, 512);
}

/* The sector range of the command; -1 when it is not inside the disk. */
static int ata_range(struct ide_channel *c, struct ide_drive *d, int lba48, uint64_t *lba,
		     uint32_t *count)
{
	if (lba48) {
		*lba = (uint64_t)c->hob_lbah << 40 | (uint64_t)c->hob_lbam << 32 |
		       (uint64_t)c->hob_lbal << 24 | (uint64_t)c->lbah << 16 |
		       (uint64_t)c->lbam << 8 | c->lbal;
		*count = (uint32_t)(c->hob_nsect << 8 | c->nsect);
		if (!*count)
			*count = 65536;
	} else {
		if (c->device & DEV_LBA) {
			*lba = (uint64_t)(c->device & 0x0F) << 24 | (uint64_t)c->lbah << 16 |
			       (uint64_t)c->lbam << 8 | c->lbal;
		} else {
			unsigned cyl = (unsigned)c->lbah << 8 | c->lbam, head = c->device & 0x0F;
			if (c->lbal == 0 || c->lbal > ATA_GEOM_SPT)
				return -1;
			*lba = ((uint64_t)cyl * ATA_GEOM_HEADS + head) * ATA_GEOM_SPT + c->lbal - 1;
		}
		*count = c->nsect ? c->nsect : 256;
	}
	if (*lba > d->sectors || *count > d->sectors - *lba)
		return -1;
	return 0;
}

static void ata_rw(struct ide_channel *c, struct ide_drive *d, int lba48, int write, int mode)
{
	uint64_t lba;
	uint32_t count;
	enum { PIO, MULTI, DMA };
	if (ata_range(c, d, lba48, &lba, &count) < 0) {
		cmd_abort(c, IDE_IDNF | IDE_ABRT);
		return;
	}
	if (write && d->disk->readonly) {
		cmd_abort(c, IDE_ABRT);
		return;
	}
	if (mode == MULTI && !d->mult) {
		cmd_abort(c, IDE_ABRT);
		return;
	}
	uint32_t block = (mode == MULTI ? d->mult : 1) * IDE_SECTOR;
	c->lba = lba;
	c->ss = IDE_SECTOR;
	c->atapi = 0;
	uint64_t total = (uint64_t)count * IDE_SECTOR;
	if (mode == DMA)
		start_dma(c, write ? XFER_OUT : XFER_IN, total);
	else if (write)
		start_out(c, total, block);
	else
		start_in(c, total, block);
}

/* ---- ATAPI ---- */

static void packet(struct ide_channel *c)
{
	struct ide_drive *d = cur(c);
	uint8_t cdb[12];
	struct atapi_xfer x;
	memcpy(cdb, c->buf, sizeof(cdb));
	int dma = c->feature & 1;
	uint32_t limit = (uint32_t)c->lbah << 8 | c->lbam;
	end_xfer(c);
	c->atapi = 1;
	if (atapi_command(&d->cd, cdb, c->buf, IDE_BUF, &x) < 0) {
		atapi_fail(c);
		return;
	}
	uint64_t total;
	if (x.nblocks) {
		c->ss = ATAPI_BLOCK;
		c->lba = x.lba;
		total = (uint64_t)x.nblocks * ATAPI_BLOCK;
	} else {
		c->ss = 0;
		total = x.len;
	}
	if (total == 0) {
		c->atapi = 1;
		cmd_done(c, 1);
		return;
	}
	if (dma) {
		start_dma(c, XFER_IN, total);
		return;
	}
	/* The host's byte count limit; 0 and odd values are treated as the largest even one. */
	if (limit == 0 || limit == 0xFFFF)
		limit = 0xFFFE;
	limit &= ~1u;
	start_in(c, total, limit);
}

static void command(struct ide_channel *c, uint8_t cmd)
{
	struct ide_drive *d = cur(c);
	enum { PIO, MULTI, DMA };
	if (d->kind == IDE_NONE)
		return; /* nobody answers */
	c->cmd = cmd;
	c->drive[0].sig_pending = c->drive[1].sig_pending = 0;
	end_xfer(c);
	irq_line_set(c->irq, 0);
	if (d->kind == IDE_ATAPI) {
		switch (cmd) {
		case 0xA0: /* PACKET */
			c->xfer = XFER_PACKET;
			c->total = 12;
			c->pos = c->win = 0;
			c->drq_left = 12;
			c->nsect = IREASON_COD;
			c->status = IDE_DRDY | IDE_DRQ;
			return;
		case 0xA1: /* IDENTIFY PACKET DEVICE */
			identify(c, d);
			return;
		case 0x08: /* DEVICE RESET */
			set_signature(c, d);
			c->error = 0x01;
			c->status = 0;
			return;
		case 0xEF: /* SET FEATURES */
		case 0xE5: /* CHECK POWER MODE */
		case 0xE0: case 0xE1: case 0xE2: case 0xE3:
			if (cmd == 0xE5)
				c->nsect = 0xFF;
			cmd_done(c, 1);
			return;
		case 0x90:
			break;
		default:
			/* ATA commands abort with the signature: that is how hosts tell ATAPI. */
			set_signature(c, d);
			cmd_abort(c, IDE_ABRT);
			return;
		}
	}
	switch (cmd) {
	case 0xEC:
		identify(c, d);
		break;
	case 0x20: case 0x21:
		ata_rw(c, d, 0, 0, PIO);
		break;
	case 0x24:
		ata_rw(c, d, 1, 0, PIO);
		break;
	case 0xC4:
		ata_rw(c, d, 0, 0, MULTI);
		break;
	case 0x29:
		ata_rw(c, d, 1, 0, MULTI);
		break;
	case 0x30: case 0x31:
		ata_rw(c, d, 0, 1, PIO);
		break;
	case 0x34:
		ata_rw(c, d, 1, 1, PIO);
		break;
	case 0xC5:
		ata_rw(c, d, 0, 1, MULTI);
		break;
	case 0x39:
		ata_rw(c, d, 1, 1, MULTI);
		break;
	case 0xC8: case 0xC9:
		ata_rw(c, d, 0, 0, DMA);
		break;
	case 0x25:
		ata_rw(c, d, 1, 0, DMA);
		break;
	case 0xCA: case 0xCB:
		ata_rw(c, d, 0, 1, DMA);
		break;
	case 0x35:
		ata_rw(c, d, 1, 1, DMA);
		break;
	case 0x40: case 0x41: case 0x42: { /* READ VERIFY */
		uint64_t lba;
		uint32_t count;
		if (ata_range(c, d, cmd == 0x42, &lba, &count) < 0)
			cmd_abort(c, IDE_IDNF | IDE_ABRT);
		else
			cmd_done(c, 1);
		break;
	}
	case 0xC6: /* SET MULTIPLE MODE */
		if (c->nsect > MAX_MULT || (c->nsect & (c->nsect - 1))) {
			cmd_abort(c, IDE_ABRT);
		} else {
			d->mult = c->nsect;
			cmd_done(c, 1);
		}
		break;
	case 0xE7: case 0xEA: /* FLUSH CACHE (EXT): fdatasync, so done means durable */
		if (flush_disk(c, d) == 0)
			cmd_done(c, 1);
		break;
	case 0x90: /* EXECUTE DEVICE DIAGNOSTIC */
		set_signature(c, d);
		c->error = 0x01;
		c->status = d->kind == IDE_ATAPI ? 0 : IDE_DRDY | IDE_DSC;
		raise_irq(c);
		break;
	case 0xE5: /* CHECK POWER MODE: active */
		c->nsect = 0xFF;
		cmd_done(c, 1);
		break;
	case 0xEF: /* SET FEATURES */
		if (c->feature == 0x02 || c->feature == 0x82) {
			/* Turning the cache off writes back what it holds, as a drive would. */
			if (c->feature == 0x82 && d->wcache && flush_disk(c, d) < 0)
				break;
			d->wcache = c->feature == 0x02;
		}
		/* Transfer modes and the other features need no action here. */
		cmd_done(c, 1);
		break;
	case 0x91: /* INITIALIZE DEVICE PARAMETERS */
	case 0x70: /* SEEK */
	case 0xE0: case 0xE1: case 0xE2: case 0xE3: case 0xE6: /* power management */
	case 0x10: case 0x11: case 0x12: case 0x13: case 0x14: case 0x15: case 0x16: case 0x17:
	case 0x18: case 0x19: case 0x1A: case 0x1B: case 0x1C: case 0x1D: case 0x1E: case 0x1F:
		cmd_done(c, 1);
		break;
	default:
		cmd_abort(c, IDE_ABRT);
		break;
	}
}

/* ---- registers ---- */

static uint8_t data_in_byte(struct ide_channel *c)
{
	if (c->xfer != XFER_IN || c->dma || !(c->status & IDE_DRQ) || c->pos >= c->total)
		return 0;
	if (c->pos >= c->win + c->win_len) /* only when the window ended inside a block */
		if (refill(c) < 0)
			return 0;
	uint8_t b = c->buf[c->pos - c->win];
	c->pos++;
	if (--c->drq_left == 0)
		end_in_block(c);
	return b;
}

static void data_out_byte(struct ide_channel *c, uint8_t b)
{
	if (!(c->status & IDE_DRQ) || c->dma || c->pos >= c->total)
		return;
	if (c->xfer == XFER_PACKET) {
		c->buf[c->pos++] = b;
		if (c->pos == c->total)
			packet(c);
		return;
	}
	if (c->xfer != XFER_OUT)
		return;
	c->buf[c->pos - c->win] = b;
	c->pos++;
	if (--c->drq_left == 0)
		end_out_block(c);
}

void ide_reset(struct ide_channel *c)
{
	end_xfer(c);
	c->cur = 0;
	c->feature = c->device = 0;
	c->error = 0x01; /* diagnostic: no error */
	set_signature(c, &c->drive[0]);
	c->status = c->drive[0].kind == IDE_ATA ? IDE_DRDY | IDE_DSC : 0;
	for (int i = 0; i < 2; i++) {
		c->drive[i].mult = 0;
		c->drive[i].sig_pending = 1;
	}
	irq_line_set(c->irq, 0);
}

static uint64_t cmd_read(void *ctx, uint64_t off, unsigned size)
{
	struct ide_channel *c = ctx;
	uint64_t v = 0;
	pthread_mutex_lock(&c->lock);
	if (channel_empty(c)) {
		v = ~0ull >> (64 - 8 * size);
	} else if (off == REG_DATA) {
		for (unsigned i = 0; i < size; i++)
			v |= (uint64_t)data_in_byte(c) << (8 * i);
	} else {
		int hob = c->ctl & IDE_HOB;
		int absent = cur(c)->kind == IDE_NONE;
		switch (off) {
		case REG_ERROR: v = absent ? 0 : hob ? c->hob_feature : c->error; break;
		case REG_NSECT: v = hob ? c->hob_nsect : c->nsect; break;
		case REG_LBAL: v = hob ? c->hob_lbal : c->lbal; break;
		case REG_LBAM: v = hob ? c->hob_lbam : c->lbam; break;
		case REG_LBAH: v = hob ? c->hob_lbah : c->lbah; break;
		case REG_DEVICE: v = c->device | 0xA0; break;
		case REG_STATUS:
			v = absent ? 0 : c->status;
			irq_line_set(c->irq, 0);
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return v;
}

static void cmd_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct ide_channel *c = ctx;
	uint8_t b = (uint8_t)val;
	pthread_mutex_lock(&c->lock);
	c->ctl &= (uint8_t)~IDE_HOB; /* any task-file write clears HOB */
	switch (off) {
	case REG_DATA:
		for (unsigned i = 0; i < size; i++)
			data_out_byte(c, (uint8_t)(val >> (8 * i)));
		break;
	case REG_ERROR: c->hob_feature = c->feature; c->feature = b; break;
	case REG_NSECT: c->hob_nsect = c->nsect; c->nsect = b; break;
	case REG_LBAL: c->hob_lbal = c->lbal; c->lbal = b; break;
	case REG_LBAM: c->hob_lbam = c->lbam; c->lbam = b; break;
	case REG_LBAH: c->hob_lbah = c->lbah; c->lbah = b; break;
	case REG_DEVICE:
		c->device = b;
		c->cur = (b & DEV_SLAVE) ? 1 : 0;
		/* Both devices keep their own task file on real hardware; after a reset the
		 * host selects each one to read its signature. */
		if (cur(c)->sig_pending && c->xfer == XFER_NONE) {
			set_signature(c, cur(c));
			c->status = cur(c)->kind == IDE_ATA ? IDE_DRDY | IDE_DSC : 0;
		}
		break;
	case REG_STATUS:
		command(c, b);
		break;
	}
	pthread_mutex_unlock(&c->lock);
}

static uint64_t ctl_read(void *ctx, uint64_t off, unsigned size)
{
	struct ide_channel *c = ctx;
	(void)off;
	pthread_mutex_lock(&c->lock);
	uint64_t v = channel_empty(c) ? ~0ull >> (64 - 8 * size)
		     : cur(c)->kind == IDE_NONE ? 0 : c->status;
	pthread_mutex_unlock(&c->lock);
	return v;
}

static void ctl_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct ide_channel *c = ctx;
	(void)off, (void)size;
	pthread_mutex_lock(&c->lock);
	uint8_t old = c->ctl;
	c->ctl = (uint8_t)val;
	if ((old & IDE_SRST) && !(val & IDE_SRST))
		ide_reset(c);
	else if (val & IDE_SRST)
		c->status = IDE_BSY;
	if ((val & IDE_NIEN) && !(old & IDE_NIEN))
		irq_line_set(c->irq, 0);
	pthread_mutex_unlock(&c->lock);
}

static uint64_t bm_read(void *ctx, uint64_t off, unsigned size)
{
	struct ide_channel *c = ctx;
	uint8_t r[8];
	uint64_t v = 0;
	pthread_mutex_lock(&c->lock);
	memset(r, 0, sizeof(r));
	r[0] = c->bm_cmd;
	r[2] = c->bm_status;
	for (int i = 0; i < 4; i++)
		r[4 + i] = (uint8_t)(c->bm_prd >> (8 * i));
	for (unsigned i = 0; i < size && off + i < 8; i++)
		v |= (uint64_t)r[off + i] << (8 * i);
	pthread_mutex_unlock(&c->lock);
	return v;
}

static void bm_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct ide_channel *c = ctx;
	pthread_mutex_lock(&c->lock);
	for (unsigned i = 0; i < size && off + i < 8; i++) {
		unsigned o = (unsigned)off + i;
		uint8_t b = (uint8_t)(val >> (8 * i));
		if (o == 0) {
			int start = (b & BM_CMD_START) && !(c->bm_cmd & BM_CMD_START);
			c->bm_cmd = b & (BM_CMD_START | BM_CMD_TO_MEM);
			if (!(b & BM_CMD_START))
				c->bm_status &= (uint8_t)~BM_STS_ACTIVE;
			if (start && c->dma && (c->xfer == XFER_IN || c->xfer == XFER_OUT))
				run_dma(c);
		} else if (o == 2) {
			c->bm_status = (uint8_t)((c->bm_status & BM_STS_ACTIVE) |
						 (c->bm_status & ~b & (BM_STS_ERROR | BM_STS_IRQ)) |
						 (b & 0x60));
		} else if (o >= 4) {
			unsigned sh = 8 * (o - 4);
			c->bm_prd = (c->bm_prd & ~(0xFFu << sh)) | ((uint32_t)b << sh);
			c->bm_prd &= ~3u;
		}
	}
	pthread_mutex_unlock(&c->lock);
}

const struct io_ops ide_cmd_ops = { .read = cmd_read, .write = cmd_write };
const struct io_ops ide_ctl_ops = { .read = ctl_read, .write = ctl_write };
const struct io_ops ide_bm_ops = { .read = bm_read, .write = bm_write };

int ide_init(struct ide_channel *c, struct irq_line *irq, const struct guest_mem *mem)
{
	memset(c, 0, sizeof(*c));
	c->buf = malloc(IDE_BUF);
	if (!c->buf)
		return -ENOMEM;
	pthread_mutex_init(&c->lock, NULL);
	c->irq = irq;
	c->mem = mem;
	ide_reset(c);
	return 0;
}

void ide_destroy(struct ide_channel *c)
{
	free(c->buf);
	c->buf = NULL;
	pthread_mutex_destroy(&c->lock);
}

void ide_attach(struct ide_channel *c, unsigned unit, struct block *disk, int cdrom)
{
	struct ide_drive *d = &c->drive[unit & 1];
	memset(d, 0, sizeof(*d));
	d->kind = cdrom ? IDE_ATAPI : IDE_ATA;
	d->disk = disk;
	/* On from power-on and kept across resets, like QEMU's IDE disks: guests that care
	 * set it themselves after a reset. */
	d->wcache = !cdrom;
	if (cdrom)
		atapi_init(&d->cd, disk);
	else
		d->sectors = disk->size / IDE_SECTOR;
	snprintf(d->serial, sizeof(d->serial), "DOMUS%04u", unit);
	ide_reset(c);
}
