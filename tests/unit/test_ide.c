#include "unit.h"

#include <fcntl.h>
#include <unistd.h>

#include "hw/ide.h"

static int irq_level, irq_raises;
static void irq_set(void *ctx, unsigned gsi, int level)
{
	(void)ctx, (void)gsi;
	if (level && !irq_level)
		irq_raises++;
	irq_level = level;
}

static struct irq_line irq = { .set = irq_set, .gsi = 14 };
static uint8_t ram[0x40000];
static struct guest_mem mem;

/* A file of n sectors of size ss, sector i filled with (i & 0xFF) ^ fill. */
static int make_disk(struct block *d, unsigned n, unsigned ss, uint8_t fill, int ro)
{
	char path[] = "/tmp/domus-ide-XXXXXX";
	int fd = mkstemp(path);
	uint8_t s[2048];
	for (unsigned i = 0; i < n; i++) {
		memset(s, (int)((i & 0xFF) ^ fill), ss);
		if (write(fd, s, ss) != (ssize_t)ss)
			return -1;
	}
	close(fd);
	char err[256];
	int r = block_open(d, path, ro ? BLOCK_READONLY | BLOCK_MEDIUM : 0, err, sizeof(err));
	unlink(path);
	return r;
}

static void outb_(struct ide_channel *c, unsigned reg, uint8_t v)
{
	ide_cmd_ops.write(c, reg, 1, v);
}
static uint8_t inb_(struct ide_channel *c, unsigned reg)
{
	return (uint8_t)ide_cmd_ops.read(c, reg, 1);
}
static uint16_t inw_(struct ide_channel *c)
{
	return (uint16_t)ide_cmd_ops.read(c, 0, 2);
}

static void setup(struct ide_channel *c)
{
	memset(&mem, 0, sizeof(mem));
	guest_mem_add(&mem, 0, sizeof(ram), ram);
	irq_level = irq_raises = 0;
	atomic_store(&irq.level, 0);
	CHECK_EQ(ide_init(c, &irq, &mem), 0);
}

static void test_empty_channel_floats(void)
{
	struct ide_channel c;
	setup(&c);
	CHECK_EQ(inb_(&c, 7), 0xFF);
	CHECK_EQ(ide_ctl_ops.read(&c, 0, 1), 0xFF);
	ide_destroy(&c);
}

static void test_ata_identify_read_write(void)
{
	struct ide_channel c;
	struct block d;
	setup(&c);
	CHECK_EQ(make_disk(&d, 100, 512, 0, 0), 0);
	ide_attach(&c, 0, &d, 0);
	CHECK_EQ(inb_(&c, 7), IDE_DRDY | IDE_DSC);
	CHECK_EQ(inb_(&c, 4), 0); /* ATA signature */
	/* slave absent: status 0 */
	outb_(&c, 6, 0xB0);
	CHECK_EQ(inb_(&c, 7), 0);
	outb_(&c, 6, 0xA0);
	/* IDENTIFY DEVICE */
	outb_(&c, 7, 0xEC);
	CHECK_EQ(irq_level, 1);
	CHECK_EQ(inb_(&c, 7), IDE_DRDY | IDE_DRQ | IDE_DSC);
	CHECK_EQ(irq_level, 0); /* reading status acknowledges */
	uint16_t w[256];
	for (int i = 0; i < 256; i++)
		w[i] = inw_(&c);
	CHECK_EQ(w[0], 0x0040);
	CHECK_EQ(w[60] | w[61] << 16, 100);
	CHECK_EQ(w[100], 100);
	CHECK_EQ(w[27], ('D' << 8) | 'O');
	CHECK_EQ(inb_(&c, 7) & IDE_DRQ, 0);
	/* READ SECTORS: 2 sectors from LBA 7 */
	outb_(&c, 2, 2);
	outb_(&c, 3, 7);
	outb_(&c, 4, 0);
	outb_(&c, 5, 0);
	outb_(&c, 6, 0xE0);
	irq_raises = 0;
	outb_(&c, 7, 0x20);
	CHECK_EQ(irq_raises, 1);
	CHECK_EQ(inb_(&c, 7) & IDE_DRQ, IDE_DRQ);
	CHECK_EQ(inw_(&c), 0x0707);
	for (int i = 1; i < 256; i++)
		inw_(&c);
	CHECK_EQ(irq_raises, 2); /* one interrupt per sector */
	CHECK_EQ(inb_(&c, 7) & IDE_DRQ, IDE_DRQ);
	CHECK_EQ(inw_(&c), 0x0808);
	for (int i = 1; i < 256; i++)
		inw_(&c);
	CHECK_EQ(inb_(&c, 7), IDE_DRDY | IDE_DSC);
	/* WRITE SECTORS to LBA 3, then read back */
	outb_(&c, 2, 1);
	outb_(&c, 3, 3);
	outb_(&c, 7, 0x30);
	CHECK_EQ(inb_(&c, 7) & IDE_DRQ, IDE_DRQ);
	for (int i = 0; i < 256; i++)
		ide_cmd_ops.write(&c, 0, 2, 0xBEEF);
	CHECK_EQ(inb_(&c, 7), IDE_DRDY | IDE_DSC);
	uint8_t back[4];
	CHECK_EQ(block_read(&d, 3 * 512, back, 4), 0);
	CHECK_EQ(back[0], 0xEF);
	CHECK_EQ(back[1], 0xBE);
	/* out of range: IDNF */
	outb_(&c, 2, 2);
	outb_(&c, 3, 99);
	outb_(&c, 7, 0x20);
	CHECK_EQ(inb_(&c, 7), IDE_DRDY | IDE_ERR);
	CHECK_EQ(inb_(&c, 1), IDE_IDNF | IDE_ABRT);
	/* LBA48 READ SECTORS EXT of one sector at 0x50: HOB registers first */
	outb_(&c, 2, 0);
	outb_(&c, 2, 1);
	outb_(&c, 3, 0);
	outb_(&c, 3, 0x50);
	outb_(&c, 4, 0);
	outb_(&c, 4, 0);
	outb_(&c, 5, 0);
	outb_(&c, 5, 0);
	outb_(&c, 6, 0x40);
	outb_(&c, 7, 0x24);
	CHECK_EQ(inw_(&c), 0x5050);
	ide_ctl_ops.write(&c, 0, 1, IDE_HOB);
	CHECK_EQ(inb_(&c, 2), 0); /* the HOB sector count */
	ide_ctl_ops.write(&c, 0, 1, 0);
	/* READ MULTIPLE without SET MULTIPLE aborts; with it, one IRQ per 4 sectors */
	ide_reset(&c);
	outb_(&c, 6, 0xE0);
	outb_(&c, 3, 0);
	outb_(&c, 2, 8);
	outb_(&c, 7, 0xC4);
	CHECK_EQ(inb_(&c, 7) & IDE_ERR, IDE_ERR);
	outb_(&c, 2, 4);
	outb_(&c, 7, 0xC6);
	CHECK_EQ(inb_(&c, 7), IDE_DRDY | IDE_DSC);
	outb_(&c, 2, 8);
	outb_(&c, 3, 0);
	irq_raises = 0;
	outb_(&c, 7, 0xC4);
	CHECK_EQ(inb_(&c, 7) & IDE_DRQ, IDE_DRQ);
	for (int i = 0; i < 4 * 256; i++)
		inw_(&c);
	CHECK_EQ(inb_(&c, 7) & IDE_DRQ, IDE_DRQ);
	for (int i = 0; i < 4 * 256; i++)
		inw_(&c);
	CHECK_EQ(irq_raises, 2);
	/* nIEN masks the interrupt */
	ide_ctl_ops.write(&c, 0, 1, IDE_NIEN);
	irq_raises = 0;
	outb_(&c, 7, 0xE7);
	CHECK_EQ(irq_raises, 0);
	ide_destroy(&c);
	block_close(&d);
}

static void test_ata_dma(void)
{
	struct ide_channel c;
	struct block d;
	setup(&c);
	CHECK_EQ(make_disk(&d, 64, 512, 0x80, 0), 0);
	ide_attach(&c, 0, &d, 0);
	/* PRD table at 0x1000: 1 KiB to 0x2000, 512 bytes to 0x3000 (end of table) */
	uint8_t prd[16] = { 0x00, 0x20, 0, 0, 0x00, 0x04, 0, 0, 0x00, 0x30, 0, 0, 0x00, 0x02, 0, 0x80 };
	memcpy(ram + 0x1000, prd, sizeof(prd));
	ide_bm_ops.write(&c, 4, 4, 0x1000);
	outb_(&c, 6, 0xE0);
	outb_(&c, 2, 3);
	outb_(&c, 3, 10);
	outb_(&c, 7, 0xC8); /* READ DMA */
	CHECK_EQ(irq_raises, 0);
	ide_bm_ops.write(&c, 0, 1, BM_CMD_START | BM_CMD_TO_MEM);
	CHECK_EQ(irq_raises, 1);
	CHECK_EQ(ram[0x2000], 10 ^ 0x80);
	CHECK_EQ(ram[0x2200], 11 ^ 0x80);
	CHECK_EQ(ram[0x3000], 12 ^ 0x80);
	CHECK_EQ(ide_bm_ops.read(&c, 2, 1) & (BM_STS_IRQ | BM_STS_ACTIVE), BM_STS_IRQ);
	CHECK_EQ(inb_(&c, 7), IDE_DRDY | IDE_DSC);
	ide_bm_ops.write(&c, 2, 1, BM_STS_IRQ); /* write 1 to clear */
	CHECK_EQ(ide_bm_ops.read(&c, 2, 1) & BM_STS_IRQ, 0);
	ide_bm_ops.write(&c, 0, 1, 0);
	/* a PRD pointing outside RAM fails the command, not the monitor */
	uint8_t bad[8] = { 0x00, 0x00, 0x00, 0xF0, 0x00, 0x02, 0, 0x80 };
	memcpy(ram + 0x1000, bad, sizeof(bad));
	outb_(&c, 2, 1);
	outb_(&c, 7, 0xC8);
	ide_bm_ops.write(&c, 0, 1, BM_CMD_START | BM_CMD_TO_MEM);
	CHECK_EQ(inb_(&c, 7) & IDE_ERR, IDE_ERR);
	CHECK_EQ(ide_bm_ops.read(&c, 2, 1) & BM_STS_ERROR, BM_STS_ERROR);
	ide_destroy(&c);
	block_close(&d);
}

static void send_packet(struct ide_channel *c, const uint8_t cdb[12], uint16_t limit)
{
	outb_(c, 1, 0);
	outb_(c, 4, (uint8_t)limit);
	outb_(c, 5, (uint8_t)(limit >> 8));
	outb_(c, 7, 0xA0);
	CHECK_EQ(inb_(c, 2), 1); /* CoD: waiting for the packet */
	for (int i = 0; i < 12; i += 2)
		ide_cmd_ops.write(c, 0, 2, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
}

static void test_atapi_registers(void)
{
	struct ide_channel c;
	struct block d;
	setup(&c);
	CHECK_EQ(make_disk(&d, 10, 2048, 0x40, 1), 0);
	ide_attach(&c, 0, &d, 1);
	CHECK_EQ(inb_(&c, 4), 0x14);
	CHECK_EQ(inb_(&c, 5), 0xEB);
	/* IDENTIFY DEVICE aborts with the signature; IDENTIFY PACKET DEVICE answers */
	outb_(&c, 4, 0);
	outb_(&c, 7, 0xEC);
	CHECK_EQ(inb_(&c, 7) & IDE_ERR, IDE_ERR);
	CHECK_EQ(inb_(&c, 4), 0x14);
	outb_(&c, 7, 0xA1);
	CHECK_EQ(inw_(&c) >> 14, 2);
	for (int i = 1; i < 256; i++)
		inw_(&c);
	/* READ(10) of 2 blocks at 1 with a 2048-byte limit: two DRQ blocks */
	irq_raises = 0;
	send_packet(&c, (const uint8_t[12]){ 0x28, 0, 0, 0, 0, 1, 0, 0, 2 }, 2048);
	CHECK_EQ(irq_raises, 1);
	CHECK_EQ(inb_(&c, 2), 2); /* IO: data to the host */
	CHECK_EQ(inb_(&c, 4) | inb_(&c, 5) << 8, 2048);
	CHECK_EQ(inb_(&c, 7), IDE_DRDY | IDE_DRQ);
	CHECK_EQ(inw_(&c), 0x4141);
	for (int i = 1; i < 1024; i++)
		inw_(&c);
	CHECK_EQ(irq_raises, 2);
	CHECK_EQ(inb_(&c, 7), IDE_DRDY | IDE_DRQ);
	CHECK_EQ(inw_(&c), 0x4242);
	for (int i = 1; i < 1024; i++)
		inw_(&c);
	CHECK_EQ(irq_raises, 3);
	CHECK_EQ(inb_(&c, 2), 3); /* completion */
	CHECK_EQ(inb_(&c, 7), IDE_DRDY);
	/* an error: sense key in the error register, then REQUEST SENSE */
	send_packet(&c, (const uint8_t[12]){ 0x28, 0, 0, 0, 0, 9, 0, 0, 5 }, 2048);
	CHECK_EQ(inb_(&c, 7), IDE_DRDY | IDE_ERR);
	CHECK_EQ(inb_(&c, 1) >> 4, SENSE_ILLEGAL_REQUEST);
	send_packet(&c, (const uint8_t[12]){ 0x03, 0, 0, 0, 18 }, 0xFFFF);
	CHECK_EQ(inb_(&c, 4) | inb_(&c, 5) << 8, 18);
	uint8_t sense[18];
	for (int i = 0; i < 18; i += 2) {
		uint16_t v = inw_(&c);
		sense[i] = (uint8_t)v;
		sense[i + 1] = (uint8_t)(v >> 8);
	}
	CHECK_EQ(sense[2], SENSE_ILLEGAL_REQUEST);
	CHECK_EQ(sense[12], ASC_LBA_OUT_OF_RANGE);
	CHECK_EQ(inb_(&c, 7), IDE_DRDY);
	/* DMA: READ(10) of one block into 0x4000 */
	uint8_t prd[8] = { 0x00, 0x40, 0, 0, 0x00, 0x08, 0, 0x80 };
	memcpy(ram + 0x1000, prd, sizeof(prd));
	ide_bm_ops.write(&c, 4, 4, 0x1000);
	outb_(&c, 1, 1);
	outb_(&c, 7, 0xA0);
	for (int i = 0; i < 12; i += 2) {
		static const uint8_t cdb[12] = { 0x28, 0, 0, 0, 0, 3, 0, 0, 1 };
		ide_cmd_ops.write(&c, 0, 2, (uint16_t)(cdb[i] | cdb[i + 1] << 8));
	}
	ide_bm_ops.write(&c, 0, 1, BM_CMD_START | BM_CMD_TO_MEM);
	CHECK_EQ(ram[0x4000], 3 ^ 0x40);
	CHECK_EQ(ram[0x47FF], 3 ^ 0x40);
	CHECK_EQ(inb_(&c, 7), IDE_DRDY);
	ide_destroy(&c);
	block_close(&d);
}

static void test_srst_restores_signature(void)
{
	struct ide_channel c;
	struct block d;
	setup(&c);
	CHECK_EQ(make_disk(&d, 10, 2048, 0, 1), 0);
	ide_attach(&c, 1, &d, 1);
	outb_(&c, 4, 0x55);
	ide_ctl_ops.write(&c, 0, 1, IDE_SRST);
	CHECK_EQ(ide_ctl_ops.read(&c, 0, 1) & IDE_BSY, 0); /* master absent reads 0 */
	ide_ctl_ops.write(&c, 0, 1, 0);
	outb_(&c, 6, 0xB0);
	CHECK_EQ(inb_(&c, 4), 0x14);
	ide_destroy(&c);
	block_close(&d);
}

static void identify_words(struct ide_channel *c, uint16_t w[256])
{
	outb_(c, 6, 0xE0);
	outb_(c, 7, 0xEC);
	CHECK_EQ(inb_(c, 7), IDE_DRDY | IDE_DRQ | IDE_DSC);
	for (int i = 0; i < 256; i++)
		w[i] = inw_(c);
}

/* Issue a non-data command; the status it ends with. */
static uint8_t nondata(struct ide_channel *c, uint8_t cmd, uint8_t feature)
{
	outb_(c, 1, feature);
	outb_(c, 6, 0xE0);
	irq_raises = 0;
	outb_(c, 7, cmd);
	CHECK_EQ(irq_raises, 1); /* every non-data command ends with an interrupt */
	return inb_(c, 7);
}

/* WRITE SECTORS of one sector at lba, PIO; the status it ends with. */
static uint8_t write_one(struct ide_channel *c, uint8_t lba, uint16_t v)
{
	outb_(c, 2, 1);
	outb_(c, 3, lba);
	outb_(c, 4, 0);
	outb_(c, 5, 0);
	outb_(c, 6, 0xE0);
	outb_(c, 7, 0x30);
	CHECK_EQ(inb_(c, 7) & IDE_DRQ, IDE_DRQ);
	for (int i = 0; i < 256; i++)
		ide_cmd_ops.write(c, 0, 2, v);
	return inb_(c, 7);
}

static void test_ata_write_cache_and_flush(void)
{
	struct ide_channel c;
	struct block d;
	uint16_t w[256];
	setup(&c);
	CHECK_EQ(make_disk(&d, 16, 512, 0, 0), 0);
	ide_attach(&c, 0, &d, 0);
	/* IDENTIFY: a write cache, supported and on; FLUSH CACHE and FLUSH CACHE EXT */
	identify_words(&c, w);
	CHECK_EQ(w[82] & (1u << 5), 1u << 5);
	CHECK_EQ(w[85] & (1u << 5), 1u << 5);
	CHECK_EQ(w[83] & 0xC000, 0x4000); /* the word is valid */
	CHECK_EQ(w[83] & (3u << 12), 3u << 12);
	CHECK_EQ(w[86] & (3u << 12), 3u << 12);
	/* FLUSH CACHE and FLUSH CACHE EXT complete, with an interrupt */
	CHECK_EQ(write_one(&c, 2, 0x1234), IDE_DRDY | IDE_DSC);
	CHECK_EQ(nondata(&c, 0xE7, 0), IDE_DRDY | IDE_DSC);
	CHECK_EQ(nondata(&c, 0xEA, 0), IDE_DRDY | IDE_DSC);
	uint8_t back[2];
	CHECK_EQ(block_read(&d, 2 * 512, back, 2), 0);
	CHECK_EQ(back[0], 0x34);
	/* A flush is the back end's fdatasync: where it fails (a descriptor that cannot sync,
	 * /dev/null) the guest sees the error, never a success. */
	int real_fd = d.fd;
	d.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(d.fd >= 0);
	CHECK_EQ(nondata(&c, 0xE7, 0), IDE_DRDY | IDE_ERR);
	CHECK_EQ(inb_(&c, 1), IDE_ABRT);
	CHECK_EQ(nondata(&c, 0xEA, 0), IDE_DRDY | IDE_ERR);
	/* With the cache on a write completes without a flush ... */
	CHECK_EQ(write_one(&c, 3, 0x5555), IDE_DRDY | IDE_DSC);
	/* ... SET FEATURES 82h (cache off) writes the cache back first, so fails here ... */
	CHECK_EQ(nondata(&c, 0xEF, 0x82), IDE_DRDY | IDE_ERR);
	close(d.fd);
	d.fd = real_fd;
	CHECK_EQ(nondata(&c, 0xEF, 0x82), IDE_DRDY | IDE_DSC);
	identify_words(&c, w);
	CHECK_EQ(w[82] & (1u << 5), 1u << 5); /* still supported */
	CHECK_EQ(w[85] & (1u << 5), 0);       /* no longer enabled */
	/* ... and with the cache off every write is flushed before it completes. */
	CHECK_EQ(write_one(&c, 4, 0x6666), IDE_DRDY | IDE_DSC);
	real_fd = d.fd;
	d.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK_EQ(write_one(&c, 4, 0x7777), IDE_DRDY | IDE_ERR);
	close(d.fd);
	d.fd = real_fd;
	/* SET FEATURES 02h turns it back on; soft reset keeps the setting */
	CHECK_EQ(nondata(&c, 0xEF, 0x02), IDE_DRDY | IDE_DSC);
	identify_words(&c, w);
	CHECK_EQ(w[85] & (1u << 5), 1u << 5);
	CHECK_EQ(nondata(&c, 0xEF, 0x82), IDE_DRDY | IDE_DSC);
	ide_reset(&c);
	identify_words(&c, w);
	CHECK_EQ(w[85] & (1u << 5), 0);
	ide_destroy(&c);
	block_close(&d);
}

UNIT_MAIN(test_empty_channel_floats, test_ata_identify_read_write, test_ata_dma,
	  test_atapi_registers, test_srst_restores_signature, test_ata_write_cache_and_flush)
