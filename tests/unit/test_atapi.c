#include "unit.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "hw/atapi.h"

static uint8_t buf[4096];

/* An ISO-like file of n 2048-byte blocks, block i filled with byte i. */
static int make_medium(struct block *d, unsigned n, unsigned extra)
{
	char path[] = "/tmp/domus-atapi-XXXXXX";
	int fd = mkstemp(path);
	uint8_t blk[ATAPI_BLOCK];
	for (unsigned i = 0; i < n; i++) {
		memset(blk, (int)i, sizeof(blk));
		if (write(fd, blk, sizeof(blk)) != (ssize_t)sizeof(blk))
			return -1;
	}
	if (extra && write(fd, blk, extra) != (ssize_t)extra)
		return -1;
	close(fd);
	char err[256];
	int r = block_open(d, path, BLOCK_READONLY | BLOCK_MEDIUM, err, sizeof(err));
	unlink(path);
	return r;
}

static int cmd(struct atapi *a, const uint8_t *cdb, struct atapi_xfer *x)
{
	uint8_t c[12] = { 0 };
	memcpy(c, cdb, 12);
	return atapi_command(a, c, buf, sizeof(buf), x);
}

static void test_no_medium(void)
{
	struct atapi a;
	struct atapi_xfer x;
	atapi_init(&a, NULL);
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x00 }, &x), -1); /* TEST UNIT READY */
	CHECK_EQ(a.sense_key, SENSE_NOT_READY);
	CHECK_EQ(a.asc, ASC_MEDIUM_NOT_PRESENT);
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x03, 0, 0, 0, 18 }, &x), 0); /* REQUEST SENSE */
	CHECK_EQ(x.len, 18);
	CHECK_EQ(buf[0], 0x70);
	CHECK_EQ(buf[2], SENSE_NOT_READY);
	CHECK_EQ(buf[12], ASC_MEDIUM_NOT_PRESENT);
	CHECK_EQ(a.sense_key, 0); /* reading the sense clears it */
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x12, 0, 0, 0, 36 }, &x), 0); /* INQUIRY */
	CHECK_EQ(x.len, 36);
	CHECK_EQ(buf[0], 0x05);
	CHECK_EQ(buf[1], 0x80);
	CHECK(!memcmp(buf + 8, "DOMUS", 5));
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x25 }, &x), -1); /* READ CAPACITY */
	/* GET CONFIGURATION: no current profile */
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x46, 0, 0, 0, 0, 0, 0, 0, 64 }, &x), 0);
	CHECK_EQ(buf[6] << 8 | buf[7], 0);
}

static void test_capacity_read_toc(void)
{
	struct block d;
	struct atapi a;
	struct atapi_xfer x;
	CHECK_EQ(make_medium(&d, 20, 100), 0); /* a truncated last block is not a block */
	atapi_init(&a, &d);
	CHECK_EQ(a.blocks, 20);
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x00 }, &x), 0);
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x25 }, &x), 0);
	CHECK_EQ(x.len, 8);
	CHECK_EQ(buf[3], 19);
	CHECK_EQ(buf[6] << 8 | buf[7], 2048);
	/* READ(10) of 3 blocks at 5 */
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x28, 0, 0, 0, 0, 5, 0, 0, 3 }, &x), 0);
	CHECK_EQ(x.lba, 5);
	CHECK_EQ(x.nblocks, 3);
	static uint8_t data[3 * ATAPI_BLOCK];
	CHECK_EQ(atapi_read_blocks(&a, 5, 3, data), 0);
	CHECK_EQ(data[0], 5);
	CHECK_EQ(data[2 * ATAPI_BLOCK + 7], 7);
	/* READ(12) past the end */
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0xA8, 0, 0, 0, 0, 19, 0, 0, 0, 2 }, &x), -1);
	CHECK_EQ(a.sense_key, SENSE_ILLEGAL_REQUEST);
	CHECK_EQ(a.asc, ASC_LBA_OUT_OF_RANGE);
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0xA8, 0, 0, 0, 0, 19, 0, 0, 0, 1 }, &x), 0);
	/* READ TOC format 0, LBA: track 1 at 0, lead-out at 20 */
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x43, 0, 0, 0, 0, 0, 0, 0, 100 }, &x), 0);
	CHECK_EQ(x.len, 20);
	CHECK_EQ(buf[2], 1);
	CHECK_EQ(buf[4 + 2], 1);
	CHECK_EQ(buf[12 + 2], 0xAA);
	CHECK_EQ(buf[12 + 7], 20);
	/* MSF: lead-out at 20 + 150 frames = 00:02:20 */
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x43, 2, 0, 0, 0, 0, 0, 0, 100 }, &x), 0);
	CHECK_EQ(buf[12 + 5], 0);
	CHECK_EQ(buf[12 + 6], 2);
	CHECK_EQ(buf[12 + 7], 20);
	/* allocation length truncates */
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x43, 0, 0, 0, 0, 0, 0, 0, 4 }, &x), 0);
	CHECK_EQ(x.len, 4);
	/* MODE SENSE(10) capabilities page; bad page */
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 255 }, &x), 0);
	CHECK_EQ(buf[8], 0x2A);
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x5A, 0, 0x05, 0, 0, 0, 0, 0, 255 }, &x), -1);
	/* GET CONFIGURATION: CD-ROM profile current */
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x46, 0, 0, 0, 0, 0, 0, 0, 64 }, &x), 0);
	CHECK_EQ(buf[6] << 8 | buf[7], 0x0008);
	/* unknown opcode */
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0xFF }, &x), -1);
	CHECK_EQ(a.asc, ASC_INVALID_OPCODE);
	block_close(&d);
}

static void test_media_change(void)
{
	struct block d;
	struct atapi a;
	struct atapi_xfer x;
	CHECK_EQ(make_medium(&d, 4, 0), 0);
	atapi_init(&a, &d);
	/* GESN must be polled */
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x4A, 0, 0, 0, 0x10, 0, 0, 0, 8 }, &x), -1);
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8 }, &x), 0);
	CHECK_EQ(buf[4], 0);
	CHECK_EQ(buf[5], 0x02); /* medium present */
	atapi_eject(&a);
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8 }, &x), 0);
	CHECK_EQ(buf[4], 3);    /* removal */
	CHECK_EQ(buf[5], 0x01); /* tray open, no medium */
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x00 }, &x), -1);
	CHECK_EQ(a.sense_key, SENSE_UNIT_ATTENTION);
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x00 }, &x), -1);
	CHECK_EQ(a.sense_key, SENSE_NOT_READY);
	atapi_insert(&a, &d);
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x00 }, &x), -1);
	CHECK_EQ(a.sense_key, SENSE_UNIT_ATTENTION);
	CHECK_EQ(a.asc, ASC_MEDIUM_CHANGED);
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x00 }, &x), 0);
	/* PREVENT then eject: refused; allow, eject through START STOP UNIT, load again */
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x1E, 0, 0, 0, 1 }, &x), 0);
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x1B, 0, 0, 0, 0x02 }, &x), -1);
	CHECK_EQ(a.asc, ASC_REMOVAL_PREVENTED);
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x1E, 0, 0, 0, 0 }, &x), 0);
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x1B, 0, 0, 0, 0x02 }, &x), 0);
	CHECK(!atapi_has_medium(&a));
	CHECK_EQ(cmd(&a, (const uint8_t[12]){ 0x1B, 0, 0, 0, 0x03 }, &x), 0);
	CHECK(atapi_has_medium(&a));
	block_close(&d);
}

static void test_shrunk_medium_is_an_error(void)
{
	struct block d;
	struct atapi a;
	CHECK_EQ(make_medium(&d, 8, 0), 0);
	atapi_init(&a, &d);
	/* the file shrinks while the guest runs: reads fail, the guest gets MEDIUM ERROR */
	char proc[64];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", d.fd);
	int wfd = open(proc, O_WRONLY);
	CHECK(wfd >= 0);
	CHECK_EQ(ftruncate(wfd, 2 * ATAPI_BLOCK), 0);
	close(wfd);
	static uint8_t data[4 * ATAPI_BLOCK];
	CHECK_EQ(atapi_read_blocks(&a, 4, 2, data), -1);
	CHECK_EQ(a.sense_key, SENSE_MEDIUM_ERROR);
	block_close(&d);
}

UNIT_MAIN(test_no_medium, test_capacity_read_toc, test_media_change,
	  test_shrunk_medium_is_an_error)
