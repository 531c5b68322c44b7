#include "hw/atapi.h"

#include <string.h>

/* Operation codes */
#define OP_TEST_UNIT_READY 0x00
#define OP_REQUEST_SENSE 0x03
#define OP_INQUIRY 0x12
#define OP_MODE_SELECT_10 0x55
#define OP_START_STOP 0x1B
#define OP_PREVENT_ALLOW 0x1E
#define OP_READ_CAPACITY 0x25
#define OP_READ_10 0x28
#define OP_SEEK_10 0x2B
#define OP_READ_SUBCHANNEL 0x42
#define OP_READ_TOC 0x43
#define OP_GET_CONFIGURATION 0x46
#define OP_GET_EVENT_STATUS 0x4A
#define OP_READ_DISC_INFO 0x51
#define OP_MODE_SENSE_10 0x5A
#define OP_READ_12 0xA8
#define OP_SET_CD_SPEED 0xBB
#define OP_MECHANISM_STATUS 0xBD

#define PROFILE_CDROM 0x0008
#define PROFILE_DVDROM 0x0010
#define CD_MAX_BLOCKS 404850 /* 90 minutes of 2048-byte sectors: bigger media are DVDs */

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v);
}

static uint32_t get16(const uint8_t *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) << 16 | get16(p + 2);
}

static int check(struct atapi *a, uint8_t key, uint8_t asc)
{
	a->sense_key = key;
	a->asc = asc;
	a->ascq = 0;
	return -1;
}

int atapi_has_medium(const struct atapi *a)
{
	return a->disk && !a->tray_open && a->blocks > 0;
}

static void set_medium(struct atapi *a, struct block *medium)
{
	a->disk = medium;
	a->blocks = medium ? block_refresh_size(medium) / ATAPI_BLOCK : 0;
}

void atapi_init(struct atapi *a, struct block *medium)
{
	memset(a, 0, sizeof(*a));
	set_medium(a, medium);
}

void atapi_eject(struct atapi *a)
{
	a->tray_open = 1;
	a->unit_attention = 1;
	a->media_event = 3;
}

void atapi_insert(struct atapi *a, struct block *medium)
{
	set_medium(a, medium);
	a->tray_open = 0;
	a->unit_attention = 1;
	a->media_event = 2;
}

/* LBA to minutes/seconds/frames, with the 2-second lead-in (150 frames). */
static void lba_to_msf(uint8_t *p, uint32_t lba)
{
	lba += 150;
	p[0] = 0;
	p[1] = (uint8_t)(lba / (60 * 75));
	p[2] = (uint8_t)(lba / 75 % 60);
	p[3] = (uint8_t)(lba % 75);
}

static size_t read_toc(struct atapi *a, const uint8_t *cdb, uint8_t *buf, int *bad)
{
	int msf = cdb[1] & 2;
	unsigned format = cdb[2] & 0xF;
	if (!format)
		format = cdb[9] >> 6; /* the old SFF-8020 place for the format */
	uint32_t end = (uint32_t)a->blocks;
	*bad = 0;
	if (format == 0) {
		unsigned start = cdb[6];
		if (start > 1 && start != 0xAA) {
			*bad = 1;
			return 0;
		}
		size_t o = 4;
		buf[2] = 1; /* first track */
		buf[3] = 1; /* last track */
		if (start <= 1) {
			uint8_t *t = buf + o;
			memset(t, 0, 8);
			t[1] = 0x14; /* ADR 1, data track */
			t[2] = 1;
			if (msf)
				lba_to_msf(t + 4, 0);
			o += 8;
		}
		uint8_t *t = buf + o;
		memset(t, 0, 8);
		t[1] = 0x14;
		t[2] = 0xAA; /* lead-out */
		if (msf)
			lba_to_msf(t + 4, end);
		else
			put32(t + 4, end);
		o += 8;
		put16(buf, (uint32_t)(o - 2));
		return o;
	}
	if (format == 1) { /* multi-session info: one session, first track at 0 */
		memset(buf, 0, 12);
		put16(buf, 10);
		buf[2] = 1;
		buf[3] = 1;
		buf[5] = 0x14;
		buf[6] = 1;
		if (msf)
			lba_to_msf(buf + 8, 0);
		return 12;
	}
	*bad = 1;
	return 0;
}

static size_t get_configuration(struct atapi *a, const uint8_t *cdb, uint8_t *buf)
{
	unsigned rt = cdb[1] & 3;
	unsigned start = get16(cdb + 2);
	uint32_t profile = !atapi_has_medium(a)           ? 0
			   : a->blocks > CD_MAX_BLOCKS ? PROFILE_DVDROM
						       : PROFILE_CDROM;
	size_t o = 8;
	memset(buf, 0, 8);
	put16(buf + 6, profile);
	/* Feature 0: the profile list (DVD-ROM and CD-ROM). */
	if (start == 0 && (rt != 2 || start == 0)) {
		uint8_t *f = buf + o;
		memset(f, 0, 12);
		put16(f, 0x0000);
		f[2] = 0x03; /* persistent, current */
		f[3] = 8;
		put16(f + 4, PROFILE_DVDROM);
		f[6] = profile == PROFILE_DVDROM;
		put16(f + 8, PROFILE_CDROM);
		f[10] = profile == PROFILE_CDROM;
		o += 12;
	}
	/* Feature 1: core, ATAPI interface. */
	if (start <= 1 && rt != 2) {
		uint8_t *f = buf + o;
		memset(f, 0, 12);
		put16(f, 0x0001);
		f[2] = 0x07; /* version 1, persistent, current */
		f[3] = 8;
		put32(f + 4, 2); /* physical interface: ATAPI */
		f[8] = 1;        /* DBE */
		o += 12;
	}
	/* Feature 0x1E: CD read. */
	if (start <= 0x1E && rt != 2) {
		uint8_t *f = buf + o;
		memset(f, 0, 8);
		put16(f, 0x001E);
		f[2] = (uint8_t)(0x08 | (profile ? 1 : 0));
		f[3] = 4;
		o += 8;
	}
	put32(buf, (uint32_t)(o - 4));
	return o;
}

static size_t mode_sense(struct atapi *a, const uint8_t *cdb, uint8_t *buf, int *bad)
{
	unsigned page = cdb[2] & 0x3F, pc = cdb[2] >> 6;
	size_t o = 8;
	*bad = 0;
	memset(buf, 0, 8);
	buf[2] = atapi_has_medium(a) ? 0x01 : 0x70; /* 120 mm data disc / no disc */
	if (pc == 3) { /* saved values are not supported */
		*bad = 1;
		return 0;
	}
	if (page == 0x01 || page == 0x3F) { /* read error recovery */
		uint8_t *p = buf + o;
		memset(p, 0, 8);
		p[0] = 0x01;
		p[1] = 6;
		p[3] = 5; /* read retry count */
		o += 8;
	}
	if (page == 0x2A || page == 0x3F) { /* capabilities and mechanical status */
		uint8_t *p = buf + o;
		memset(p, 0, 28);
		p[0] = 0x2A;
		p[1] = 26;
		p[2] = 0x03; /* reads CD-R, CD-RW */
		p[4] = 0x71; /* audio play, composite, digital ports, multi-session */
		p[5] = 0xFF;
		p[6] = 0x2D | (a->locked ? 0x02 : 0); /* tray, eject, lock */
		p[7] = 0x03;
		put16(p + 8, 706); /* max read speed, kB/s (4x) */
		put16(p + 10, 2);  /* volume levels */
		put16(p + 12, 512); /* buffer size, KiB */
		put16(p + 14, 706);
		o += 28;
	}
	if (o == 8 && page != 0x3F) {
		*bad = 1;
		return 0;
	}
	put16(buf, (uint32_t)(o - 2));
	return o;
}

static size_t event_status(struct atapi *a, uint8_t *buf)
{
	memset(buf, 0, 8);
	put16(buf, 6);
	buf[2] = 4;    /* notification class: media */
	buf[3] = 0x10; /* supported: media */
	buf[4] = (uint8_t)a->media_event;
	buf[5] = (uint8_t)((atapi_has_medium(a) ? 0x02 : 0) | (a->tray_open ? 0x01 : 0));
	a->media_event = 0;
	return 8;
}

/* Commands that report UNIT ATTENTION / NOT READY before doing anything (SPC: all but these). */
static int needs_medium(uint8_t op)
{
	switch (op) {
	case OP_REQUEST_SENSE:
	case OP_INQUIRY:
	case OP_GET_CONFIGURATION:
	case OP_GET_EVENT_STATUS:
	case OP_MODE_SENSE_10:
	case OP_START_STOP:
	case OP_PREVENT_ALLOW:
	case OP_MECHANISM_STATUS:
	case OP_SET_CD_SPEED:
		return 0;
	default:
		return 1;
	}
}

int atapi_command(struct atapi *a, const uint8_t cdb[12], uint8_t *buf, size_t cap,
		  struct atapi_xfer *x)
{
	uint8_t op = cdb[0];
	size_t alloc = cap, n = 0;
	int bad = 0;
	*x = (struct atapi_xfer){ 0 };
	if (cap < ATAPI_REPLY_MAX)
		return check(a, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
	memset(buf, 0, ATAPI_REPLY_MAX);
	if (op != OP_REQUEST_SENSE && op != OP_INQUIRY && op != OP_GET_CONFIGURATION &&
	    op != OP_GET_EVENT_STATUS && a->unit_attention) {
		a->unit_attention = 0;
		return check(a, SENSE_UNIT_ATTENTION, ASC_MEDIUM_CHANGED);
	}
	if (needs_medium(op) && !atapi_has_medium(a))
		return check(a, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT);

	switch (op) {
	case OP_TEST_UNIT_READY:
	case OP_SEEK_10:
	case OP_SET_CD_SPEED:
		break;
	case OP_REQUEST_SENSE:
		buf[0] = 0x70; /* current error, fixed format */
		buf[2] = a->sense_key;
		buf[7] = 10;
		buf[12] = a->asc;
		buf[13] = a->ascq;
		n = 18;
		alloc = cdb[4];
		a->sense_key = a->asc = a->ascq = 0;
		break;
	case OP_INQUIRY:
		if (cdb[1] & 1) /* vital product data pages are not offered */
			return check(a, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
		buf[0] = 0x05; /* CD/DVD device */
		buf[1] = 0x80; /* removable */
		buf[2] = 0x05; /* SPC-3 */
		buf[3] = 0x32; /* ATAPI transport, response format 2 */
		buf[4] = 31;
		memcpy(buf + 8, "DOMUS   ", 8);
		memcpy(buf + 16, "DVD-ROM         ", 16);
		memcpy(buf + 32, "1.0 ", 4);
		n = 36;
		alloc = get16(cdb + 3);
		break;
	case OP_START_STOP:
		if ((cdb[4] & 0x03) == 0x02) { /* LoEj without Start: eject */
			if (a->locked)
				return check(a, SENSE_ILLEGAL_REQUEST, ASC_REMOVAL_PREVENTED);
			if (!a->tray_open) {
				a->tray_open = 1;
				a->media_event = 3;
			}
		} else if ((cdb[4] & 0x03) == 0x03 && a->tray_open) { /* load */
			a->tray_open = 0;
			a->media_event = 2;
			set_medium(a, a->disk);
		}
		break;
	case OP_PREVENT_ALLOW:
		a->locked = cdb[4] & 1;
		break;
	case OP_READ_CAPACITY:
		put32(buf, (uint32_t)(a->blocks > 0xFFFFFFFFull ? 0xFFFFFFFF : a->blocks - 1));
		put32(buf + 4, ATAPI_BLOCK);
		n = 8;
		break;
	case OP_READ_10:
	case OP_READ_12: {
		uint64_t lba = get32(cdb + 2);
		uint32_t count = op == OP_READ_10 ? get16(cdb + 7) : get32(cdb + 6);
		if (lba > a->blocks || count > a->blocks - lba)
			return check(a, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
		x->lba = lba;
		x->nblocks = count;
		return 0;
	}
	case OP_READ_TOC:
		n = read_toc(a, cdb, buf, &bad);
		alloc = get16(cdb + 7);
		break;
	case OP_GET_CONFIGURATION:
		n = get_configuration(a, cdb, buf);
		alloc = get16(cdb + 7);
		break;
	case OP_GET_EVENT_STATUS:
		if (!(cdb[1] & 1)) /* only polled operation */
			return check(a, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
		if (cdb[4] & 0x10) {
			n = event_status(a, buf);
		} else { /* no class asked that we have: header only, NEA set */
			put16(buf, 2);
			buf[2] = 0x80;
			buf[3] = 0x10;
			n = 4;
		}
		alloc = get16(cdb + 7);
		break;
	case OP_MODE_SENSE_10:
		n = mode_sense(a, cdb, buf, &bad);
		alloc = get16(cdb + 7);
		break;
	case OP_READ_DISC_INFO:
		put16(buf, 32);
		buf[2] = 0x0E; /* finalized disc, complete last session */
		buf[3] = 1;
		buf[4] = 1;
		buf[5] = 1;
		buf[6] = 1;
		n = 34;
		alloc = get16(cdb + 7);
		break;
	case OP_MECHANISM_STATUS:
		buf[1] = a->tray_open ? 0x10 : 0;
		n = 8;
		alloc = get16(cdb + 8);
		break;
	default:
		return check(a, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
	}
	if (bad)
		return check(a, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD);
	x->len = n < alloc ? n : alloc;
	a->sense_key = a->asc = a->ascq = 0;
	return 0;
}

int atapi_read_blocks(struct atapi *a, uint64_t lba, uint32_t n, uint8_t *buf)
{
	if (!atapi_has_medium(a))
		return check(a, SENSE_NOT_READY, ASC_MEDIUM_NOT_PRESENT);
	if (lba > a->blocks || n > a->blocks - lba)
		return check(a, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
	if (block_read(a->disk, lba * ATAPI_BLOCK, buf, (size_t)n * ATAPI_BLOCK) < 0)
		return check(a, SENSE_MEDIUM_ERROR, ASC_UNRECOVERED_READ);
	return 0;
}
