/*
 * g_ide.c - IDE register sequences on the FV PC: an ATA disk as hda and an ATAPI CD-ROM as hdc.
 * Boot with `domus run --kernel ide.elf --fv-devices --disk D --cdrom C` where sector n of D
 * holds bytes (n & 0xFF) ^ 0x3C and block n of C (n & 0xFF) ^ 0xC3 (the harness makes both).
 * ATA: signature, IDENTIFY (capacity, model), PIO READ/WRITE SECTORS, READ MULTIPLE, LBA48
 * READ EXT, bus-master READ DMA through a PRD table, IRQ 14 through the 8259. ATAPI: the
 * signature after an aborted IDENTIFY, IDENTIFY PACKET, TEST UNIT READY, READ CAPACITY,
 * READ(10) in DRQ blocks the size of the byte count limit, CHECK CONDITION and REQUEST SENSE.
 */
#include "rt.h"

const char guest_name[] = "ide";

#define P 0x1F0
#define S 0x170
#define BM 0xC000
#define BSY 0x80
#define DRDY 0x40
#define DRQ 0x08
#define ERR 0x01

static u8 buf[8192] __attribute__((aligned(4096)));
static u32 prd[4] __attribute__((aligned(16)));
static volatile unsigned irq14;

static void on_irq14(struct rt_frame *f)
{
	(void)f;
	irq14++;
	(void)inb(P + 7);
}

static u8 wait_ready(u16 base)
{
	u8 st = 0xFF;
	for (long i = 0; i < 10000000; i++) {
		st = inb(base + 0x206);
		if (!(st & BSY))
			return st;
	}
	rt_fail("drive at 0x%x stays busy (status 0x%x)", base, st);
}

static u8 wait_drq(u16 base)
{
	u8 st = wait_ready(base);
	if (!(st & (DRQ | ERR)))
		rt_fail("drive at 0x%x: no DRQ (status 0x%x)", base, st);
	return st;
}

static void read_words(u16 base, u8 *dst, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		u16 w = inw(base);
		dst[2 * i] = (u8)w;
		dst[2 * i + 1] = (u8)(w >> 8);
	}
}

static void lba28(u16 base, u32 lba, u8 count, u8 cmd)
{
	outb(base + 6, (u8)(0xE0 | ((lba >> 24) & 0x0F)));
	outb(base + 2, count);
	outb(base + 3, (u8)lba);
	outb(base + 4, (u8)(lba >> 8));
	outb(base + 5, (u8)(lba >> 16));
	outb(base + 7, cmd);
}

static void expect_sector(const u8 *p, u32 lba, u8 x, unsigned size)
{
	for (unsigned i = 0; i < size; i++)
		if (p[i] != (u8)((lba & 0xFF) ^ x))
			rt_fail("sector %u byte %u is 0x%x", lba, i, p[i]);
}

static void ata(void)
{
	outb(P + 0x206, 0x02); /* nIEN: polled */
	outb(P + 6, 0xA0);
	if (inb(P + 4) != 0 || inb(P + 5) != 0)
		rt_fail("hda: not an ATA signature");
	outb(P + 7, 0xEC);
	wait_drq(P);
	read_words(P, buf, 256);
	u32 sectors = (u32)(buf[120] | buf[121] << 8 | buf[122] << 16 | (u32)buf[123] << 24);
	if (buf[54] != 'O' || buf[55] != 'D')
		rt_fail("hda: IDENTIFY model is not DOMUS");
	u32 want = (u32)rt_cmdline_u64("disk_sectors", 0);
	if (sectors != want)
		rt_fail("hda: %u sectors, expected %u", sectors, want);
	rt_printf("ide: hda ATA disk, %u sectors\n", sectors);

	lba28(P, 5, 2, 0x20);
	for (u32 s = 5; s < 7; s++) {
		wait_drq(P);
		read_words(P, buf, 256);
		expect_sector(buf, s, 0x3C, 512);
	}
	/* write sector 9, read it back */
	lba28(P, 9, 1, 0x30);
	wait_drq(P);
	for (int i = 0; i < 256; i++)
		outw(P, 0xA55A);
	if (wait_ready(P) & ERR)
		rt_fail("hda: write failed");
	lba28(P, 9, 1, 0x20);
	wait_drq(P);
	read_words(P, buf, 256);
	if (buf[0] != 0x5A || buf[511] != 0xA5)
		rt_fail("hda: sector 9 reads 0x%x after the write", buf[0]);
	/* SET MULTIPLE 4, READ MULTIPLE 8 sectors from 16: two DRQ blocks */
	outb(P + 2, 4);
	outb(P + 7, 0xC6);
	if (wait_ready(P) & ERR)
		rt_fail("hda: SET MULTIPLE failed");
	lba28(P, 16, 8, 0xC4);
	for (int blk = 0; blk < 2; blk++) {
		wait_drq(P);
		read_words(P, buf, 4 * 256);
		for (u32 s = 0; s < 4; s++)
			expect_sector(buf + 512 * s, 16 + 4 * blk + s, 0x3C, 512);
	}
	/* LBA48 READ SECTORS EXT of sector 300 */
	outb(P + 6, 0x40);
	outb(P + 2, 0), outb(P + 2, 1);
	outb(P + 3, 0), outb(P + 3, 300 & 0xFF);
	outb(P + 4, 0), outb(P + 4, 300 >> 8);
	outb(P + 5, 0), outb(P + 5, 0);
	outb(P + 7, 0x24);
	wait_drq(P);
	read_words(P, buf, 256);
	expect_sector(buf, 300, 0x3C, 512);
	/* out of range: IDNF */
	lba28(P, sectors - 1, 2, 0x20);
	if (!(wait_ready(P) & ERR) || !(inb(P + 1) & 0x10))
		rt_fail("hda: reading past the end did not fail with IDNF");

	/* bus-master DMA: 4 sectors from 40 into buf through two PRD entries */
	prd[0] = (u32)(u64)buf;
	prd[1] = 1024;
	prd[2] = (u32)(u64)buf + 1024;
	prd[3] = 1024 | 0x80000000u;
	memset(buf, 0, 2048);
	outl(BM + 4, (u32)(u64)prd);
	outb(BM + 2, 0x06);
	lba28(P, 40, 4, 0xC8);
	outb(BM, 0x09); /* start, to memory */
	u8 bs = 0;
	for (long i = 0; i < 10000000 && !((bs = inb(BM + 2)) & 0x04); i++)
		;
	outb(BM, 0x00);
	if (!(bs & 0x04) || (bs & 0x02))
		rt_fail("hda: DMA status 0x%x", bs);
	if (wait_ready(P) & ERR)
		rt_fail("hda: READ DMA failed");
	for (u32 s = 0; s < 4; s++)
		expect_sector(buf + 512 * s, 40 + s, 0x3C, 512);
	rt_printf("ide: hda PIO, multiple, LBA48 and DMA reads ok\n");

	/* an interrupt: IDENTIFY with nIEN clear raises IRQ 14 */
	rt_set_handler(VEC_PIC_BASE + 14, on_irq14);
	rt_pic_unmask(2);
	rt_pic_unmask(14);
	outb(P + 0x206, 0x00);
	sti();
	outb(P + 7, 0xEC);
	for (long i = 0; i < 10000000 && !irq14; i++)
		barrier();
	cli();
	if (!irq14)
		rt_fail("hda: no IRQ 14 after IDENTIFY");
	read_words(P, buf, 256);
	outb(P + 0x206, 0x02);
}

static int packet(const u8 cdb[12], u16 limit, u8 *dst, unsigned *got)
{
	outb(S + 1, 0);
	outb(S + 4, (u8)limit);
	outb(S + 5, (u8)(limit >> 8));
	outb(S + 7, 0xA0);
	wait_drq(S);
	for (int i = 0; i < 12; i += 2)
		outw(S, (u16)(cdb[i] | cdb[i + 1] << 8));
	*got = 0;
	for (;;) {
		u8 st = wait_ready(S);
		if (st & ERR)
			return inb(S + 1) >> 4;
		if (!(st & DRQ))
			return 0;
		unsigned n = inb(S + 4) | inb(S + 5) << 8;
		if (n > limit)
			rt_fail("hdc: DRQ block of %u bytes over the limit %u", n, limit);
		read_words(S, dst + *got, n / 2);
		*got += n;
	}
}

static void atapi(void)
{
	unsigned got;
	outb(S + 0x206, 0x02);
	outb(S + 6, 0xA0);
	outb(S + 7, 0xEC); /* aborts: this is a packet device */
	wait_ready(S);
	if (inb(S + 4) != 0x14 || inb(S + 5) != 0xEB)
		rt_fail("hdc: no ATAPI signature (0x%x 0x%x)", inb(S + 4), inb(S + 5));
	outb(S + 7, 0xA1);
	wait_drq(S);
	read_words(S, buf, 256);
	if ((buf[1] >> 6) != 2 || (buf[1] & 0x1F) != 5)
		rt_fail("hdc: IDENTIFY PACKET word 0 = 0x%x", buf[0] | buf[1] << 8);
	static const u8 tur[12] = { 0x00 };
	int sense = packet(tur, 2048, buf, &got);
	if (sense)
		rt_fail("hdc: TEST UNIT READY sense key %d", sense);
	static const u8 cap[12] = { 0x25 };
	if (packet(cap, 2048, buf, &got) || got != 8)
		rt_fail("hdc: READ CAPACITY failed (%u bytes)", got);
	u32 last = (u32)buf[0] << 24 | buf[1] << 16 | buf[2] << 8 | buf[3];
	u32 want = (u32)rt_cmdline_u64("cd_blocks", 0);
	if (last + 1 != want || buf[6] != 0x08)
		rt_fail("hdc: capacity %u blocks of %u", last + 1, buf[6] << 8 | buf[7]);
	/* READ(10) of blocks 3-4 with a 1024-byte limit: four DRQ blocks */
	static const u8 rd[12] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 2 };
	if (packet(rd, 1024, buf, &got) || got != 4096)
		rt_fail("hdc: READ(10) got %u bytes", got);
	expect_sector(buf, 3, 0xC3, 2048);
	expect_sector(buf + 2048, 4, 0xC3, 2048);
	/* past the end: CHECK CONDITION, ILLEGAL REQUEST, LBA out of range */
	u8 bad[12] = { 0x28, 0, 0, 0, (u8)(want >> 8), (u8)want, 0, 0, 1 };
	sense = packet(bad, 2048, buf, &got);
	if (sense != 5)
		rt_fail("hdc: read past the end gave sense key %d", sense);
	static const u8 rs[12] = { 0x03, 0, 0, 0, 18 };
	if (packet(rs, 2048, buf, &got) || got != 18 || buf[2] != 5 || buf[12] != 0x21)
		rt_fail("hdc: REQUEST SENSE %u bytes, key %u asc 0x%x", got, buf[2], buf[12]);
	rt_printf("ide: hdc ATAPI packets ok, %u blocks\n", want);
}

void guest_main(void)
{
	outl(0xCF8, 0x80000000u | 1 << 11 | 1 << 8 | 0x20);
	outl(0xCFC, BM | 1);
	outl(0xCF8, 0x80000000u | 1 << 11 | 1 << 8 | 0x04);
	outl(0xCFC, 0x5);
	ata();
	atapi();
}
