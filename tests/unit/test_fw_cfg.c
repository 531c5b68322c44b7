#include "unit.h"

#include <errno.h>

#include "hw/fw_cfg.h"

static uint8_t ram[0x10000];
static struct guest_mem mem;

static void setup(struct fw_cfg *f)
{
	memset(&mem, 0, sizeof(mem));
	memset(ram, 0, sizeof(ram));
	guest_mem_add(&mem, 0, sizeof(ram), ram);
	fw_cfg_init(f, &mem);
}

static void sel(struct fw_cfg *f, uint16_t key)
{
	fw_cfg_ops.write(f, 0, 2, key);
}

static uint8_t data(struct fw_cfg *f)
{
	return (uint8_t)fw_cfg_ops.read(f, 1, 1);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Write a FWCfgDmaAccess at 0x100 and start it the way SeaBIOS does (low half only). */
static uint32_t dma(struct fw_cfg *f, uint32_t control, uint32_t len, uint64_t addr)
{
	uint8_t *d = ram + 0x100;
	put_be32(d, control);
	put_be32(d + 4, len);
	put_be32(d + 8, (uint32_t)(addr >> 32));
	put_be32(d + 12, (uint32_t)addr);
	fw_cfg_ops.write(f, 4, 4, 0);
	fw_cfg_ops.write(f, 8, 4, __builtin_bswap32(0x100));
	return be32(d);
}

static void test_signature_and_id(void)
{
	struct fw_cfg f;
	setup(&f);
	sel(&f, FW_CFG_SIGNATURE);
	char sig[5] = { 0 };
	for (int i = 0; i < 4; i++)
		sig[i] = (char)data(&f);
	CHECK_STR(sig, "QEMU");
	CHECK_EQ(data(&f), 0); /* past the end */
	sel(&f, FW_CFG_ID);
	CHECK_EQ(data(&f), FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
	/* The DMA port reads "QEMU CFG". */
	char s8[9] = { 0 };
	for (int i = 0; i < 8; i++)
		s8[i] = (char)fw_cfg_ops.read(&f, 4 + (uint64_t)i, 1);
	CHECK_STR(s8, "QEMU CFG");
	sel(&f, 0x1234); /* unknown key reads zeros */
	CHECK_EQ(data(&f), 0);
	fw_cfg_destroy(&f);
}

static void test_files_sorted_in_dir(void)
{
	struct fw_cfg f;
	setup(&f);
	CHECK_EQ(fw_cfg_add_file(&f, "etc/sercon-port", "\xf8\x03", 2), 0);
	CHECK_EQ(fw_cfg_add_file(&f, "bootorder", "/x\n", 3), 0);
	CHECK_EQ(fw_cfg_add_file(&f, "bootorder", "/y\n", 3), -EEXIST);
	char longname[80];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[79] = 0;
	CHECK_EQ(fw_cfg_add_file(&f, longname, "", 0), -ENAMETOOLONG);
	sel(&f, FW_CFG_FILE_DIR);
	uint8_t dir[4 + 2 * 64];
	for (size_t i = 0; i < sizeof(dir); i++)
		dir[i] = data(&f);
	CHECK_EQ(be32(dir), 2);
	CHECK_STR((char *)dir + 4 + 8, "bootorder");
	CHECK_STR((char *)dir + 4 + 64 + 8, "etc/sercon-port");
	uint16_t key = (uint16_t)(dir[4 + 64 + 4] << 8 | dir[4 + 64 + 5]);
	CHECK_EQ(be32(dir + 4 + 64), 2);
	sel(&f, key);
	CHECK_EQ(data(&f), 0xf8);
	CHECK_EQ(data(&f), 0x03);
	CHECK(fw_cfg_find_file(&f, "bootorder") != NULL);
	CHECK(fw_cfg_find_file(&f, "nothing") == NULL);
	fw_cfg_destroy(&f);
}

static void test_dma(void)
{
	struct fw_cfg f;
	setup(&f);
	uint8_t blob[100];
	for (int i = 0; i < 100; i++)
		blob[i] = (uint8_t)(i + 1);
	CHECK_EQ(fw_cfg_add_file(&f, "genroms/x.bin", blob, sizeof(blob)), 0);
	uint16_t key = fw_cfg_find_file(&f, "genroms/x.bin")->key;
	/* select + read 10 bytes */
	CHECK_EQ(dma(&f, (uint32_t)key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 10, 0x1000), 0);
	CHECK_EQ(ram[0x1000], 1);
	CHECK_EQ(ram[0x1009], 10);
	/* skip 80, then read 20: 10 real bytes, 10 zeros */
	CHECK_EQ(dma(&f, FW_CFG_DMA_SKIP, 80, 0), 0);
	memset(ram + 0x2000, 0xEE, 32);
	CHECK_EQ(dma(&f, FW_CFG_DMA_READ, 20, 0x2000), 0);
	CHECK_EQ(ram[0x2000], 91);
	CHECK_EQ(ram[0x2009], 100);
	CHECK_EQ(ram[0x200A], 0);
	CHECK_EQ(ram[0x2013], 0);
	CHECK_EQ(ram[0x2014], 0xEE);
	/* a buffer outside RAM, and writes, are errors for the guest */
	CHECK_EQ(dma(&f, FW_CFG_DMA_READ, 16, 0xFFFFFFF0ull), FW_CFG_DMA_ERROR);
	CHECK_EQ(dma(&f, FW_CFG_DMA_READ, 16, 0xFFF8), FW_CFG_DMA_ERROR);
	CHECK_EQ(dma(&f, FW_CFG_DMA_WRITE, 4, 0x1000), FW_CFG_DMA_ERROR);
	/* a descriptor outside RAM is ignored without harm */
	fw_cfg_ops.write(&f, 4, 4, __builtin_bswap32(0x7));
	fw_cfg_ops.write(&f, 8, 4, 0);
	CHECK_EQ(f.dma_hi, 0);
	/* numbered items through DMA */
	CHECK_EQ(fw_cfg_add_u16(&f, FW_CFG_NB_CPUS, 3), 0);
	CHECK_EQ(dma(&f, FW_CFG_NB_CPUS << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 2, 0x3000), 0);
	CHECK_EQ(ram[0x3000], 3);
	CHECK_EQ(fw_cfg_add(&f, 0x25, "x", 1), -EINVAL);
	fw_cfg_destroy(&f);
}

UNIT_MAIN(test_signature_and_id, test_files_sorted_in_dir, test_dma)
