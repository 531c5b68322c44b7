/* ATAPI CD-ROM packet commands (MMC-6 subset, SPC-4 sense data): what SeaBIOS, GRUB, isolinux
 * and Linux's sr driver send. The medium is a disk back end of 2048-byte blocks (an ISO file or
 * a host CD-ROM). atapi_command() decodes one 12-byte packet: it either fills a reply buffer,
 * or for READ(10)/READ(12) returns the block range for the caller to stream with
 * atapi_read_blocks(), or fails with CHECK CONDITION and sense data kept for REQUEST SENSE.
 * Pure apart from reads through the back end; ide.c does the register protocol. */
#ifndef DOMUS_ATAPI_H
#define DOMUS_ATAPI_H
#include <stddef.h>
#include <stdint.h>

#include "backend/block.h"

#define ATAPI_BLOCK 2048
#define ATAPI_REPLY_MAX 512

/* Sense keys */
#define SENSE_NONE 0x0
#define SENSE_NOT_READY 0x2
#define SENSE_MEDIUM_ERROR 0x3
#define SENSE_ILLEGAL_REQUEST 0x5
#define SENSE_UNIT_ATTENTION 0x6
/* Additional sense codes */
#define ASC_INVALID_OPCODE 0x20
#define ASC_LBA_OUT_OF_RANGE 0x21
#define ASC_INVALID_FIELD 0x24
#define ASC_MEDIUM_CHANGED 0x28
#define ASC_MEDIUM_NOT_PRESENT 0x3A
#define ASC_UNRECOVERED_READ 0x11
#define ASC_REMOVAL_PREVENTED 0x53

struct atapi {
	struct block *disk; /* NULL: a drive without a medium */
	int tray_open;
	int locked;
	uint64_t blocks;
	uint8_t sense_key, asc, ascq;
	int unit_attention; /* the medium changed since the host last looked */
	int media_event;    /* pending GESN media event: 0 none, 2 new media, 3 removal */
};

struct atapi_xfer {
	size_t len;          /* reply bytes in buf */
	uint64_t lba;        /* READ: first block */
	uint32_t nblocks;    /* READ: blocks to stream (0 for a reply or no data) */
};

void atapi_init(struct atapi *a, struct block *medium);
/* 0 (GOOD; *x says what data follows) or -1 (CHECK CONDITION; sense is set). */
int atapi_command(struct atapi *a, const uint8_t cdb[12], uint8_t *buf, size_t cap,
		  struct atapi_xfer *x);
/* Read n blocks from lba into buf; 0, or -1 with MEDIUM ERROR / NOT READY sense set. */
int atapi_read_blocks(struct atapi *a, uint64_t lba, uint32_t n, uint8_t *buf);
/* Medium changes from the host: the guest sees UNIT ATTENTION and a GESN media event. */
void atapi_eject(struct atapi *a);
void atapi_insert(struct atapi *a, struct block *medium);
int atapi_has_medium(const struct atapi *a);

#endif
