#include "hw/fw_cfg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

#define PORT_SEL 0
#define PORT_DATA 1
#define PORT_DMA_HI 4
#define PORT_DMA_LO 8
#define DIR_ENTRY 64 /* be32 size, be16 select, be16 reserved, name[56] */
#define DMA_SIGNATURE 0x51454D5520434647ull /* "QEMU CFG", big-endian */

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	be16(p, (uint16_t)(v >> 16));
	be16(p + 2, (uint16_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static struct fw_cfg_item *find_key(struct fw_cfg *f, uint16_t key)
{
	for (unsigned i = 0; i < f->nr; i++)
		if (f->items[i].key == key)
			return &f->items[i];
	return NULL;
}

static int set_item(struct fw_cfg *f, uint16_t key, const char *name, const void *data,
		    size_t len)
{
	if (len > UINT32_MAX)
		return -EINVAL;
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	if (len)
		memcpy(copy, data, len);
	struct fw_cfg_item *it = find_key(f, key);
	if (!it) {
		if (f->nr == FW_CFG_MAX_ITEMS) {
			free(copy);
			return -ENOSPC;
		}
		it = &f->items[f->nr++];
		it->key = key;
	} else {
		free(it->data);
	}
	memset(it->name, 0, sizeof(it->name));
	if (name)
		strcpy(it->name, name);
	it->data = copy;
	it->len = (uint32_t)len;
	return 0;
}

/* The directory lists files sorted by name: SeaBIOS and OVMF do not care, but QEMU sorts and a
 * stable order keeps selectors stable across runs. Keys are reassigned in name order. */
static int rebuild_dir(struct fw_cfg *f)
{
	struct fw_cfg_item *files[FW_CFG_MAX_ITEMS];
	unsigned n = 0;
	for (unsigned i = 0; i < f->nr; i++)
		if (f->items[i].name[0])
			files[n++] = &f->items[i];
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && strcmp(files[j - 1]->name, files[j]->name) > 0; j--) {
			struct fw_cfg_item *t = files[j];
			files[j] = files[j - 1];
			files[j - 1] = t;
		}
	size_t len = 4 + (size_t)n * DIR_ENTRY;
	uint8_t *dir = calloc(1, len);
	if (!dir)
		return -ENOMEM;
	be32(dir, n);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *e = dir + 4 + (size_t)i * DIR_ENTRY;
		files[i]->key = (uint16_t)(FW_CFG_FILE_FIRST + i);
		be32(e, files[i]->len);
		be16(e + 4, files[i]->key);
		memcpy(e + 8, files[i]->name, FW_CFG_NAME_MAX);
	}
	int r = set_item(f, FW_CFG_FILE_DIR, NULL, dir, len);
	free(dir);
	f->nr_files = n;
	return r;
}

void fw_cfg_init(struct fw_cfg *f, const struct guest_mem *mem)
{
	memset(f, 0, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	f->mem = mem;
	fw_cfg_add(f, FW_CFG_SIGNATURE, "QEMU", 4);
	fw_cfg_add_u32(f, FW_CFG_ID, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
	rebuild_dir(f);
}

void fw_cfg_destroy(struct fw_cfg *f)
{
	for (unsigned i = 0; i < f->nr; i++)
		free(f->items[i].data);
	pthread_mutex_destroy(&f->lock);
	memset(f, 0, sizeof(*f));
}

int fw_cfg_add(struct fw_cfg *f, uint16_t key, const void *data, size_t len)
{
	if (key >= FW_CFG_FILE_FIRST && key < FW_CFG_ARCH_ACPI_TABLES)
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	int r = set_item(f, key, NULL, data, len);
	pthread_mutex_unlock(&f->lock);
	return r;
}

int fw_cfg_add_u16(struct fw_cfg *f, uint16_t key, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };
	return fw_cfg_add(f, key, b, sizeof(b));
}

int fw_cfg_add_u32(struct fw_cfg *f, uint16_t key, uint32_t v)
{
	uint8_t b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return fw_cfg_add(f, key, b, sizeof(b));
}

int fw_cfg_add_u64(struct fw_cfg *f, uint16_t key, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return fw_cfg_add(f, key, b, sizeof(b));
}

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, size_t len)
{
	if (!name[0] || strlen(name) >= FW_CFG_NAME_MAX)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&f->lock);
	int r = -EEXIST;
	if (!fw_cfg_find_file(f, name)) {
		/* A temporary key outside the file range until the directory renumbers it. */
		uint16_t tmp = (uint16_t)(0x4000 + f->nr);
		r = set_item(f, tmp, name, data, len);
		if (r == 0)
			r = rebuild_dir(f);
	}
	pthread_mutex_unlock(&f->lock);
	return r;
}

const struct fw_cfg_item *fw_cfg_find_file(const struct fw_cfg *f, const char *name)
{
	for (unsigned i = 0; i < f->nr; i++)
		if (f->items[i].name[0] && !strcmp(f->items[i].name, name))
			return &f->items[i];
	return NULL;
}

static void select_key(struct fw_cfg *f, uint16_t key)
{
	f->sel = key;
	f->off = 0;
}

/* One FWCfgDmaAccess at gpa: { be32 control, be32 length, be64 address }. A bad descriptor
 * or buffer address sets the error bit; the guest sees it, never the monitor. */
static void run_dma(struct fw_cfg *f, uint64_t desc_gpa)
{
	uint8_t *d = gpa_to_hva(f->mem, desc_gpa, 16);
	f->dma_count++;
	if (!d) {
		log_debug("fw_cfg: DMA descriptor at 0x%llx is not RAM",
			  (unsigned long long)desc_gpa);
		return;
	}
	uint32_t control = get_be32(d), len = get_be32(d + 4);
	uint64_t addr = (uint64_t)get_be32(d + 8) << 32 | get_be32(d + 12);
	int error = 0;
	if (control & FW_CFG_DMA_SELECT)
		select_key(f, (uint16_t)(control >> 16));
	const struct fw_cfg_item *it = find_key(f, f->sel);
	if (control & FW_CFG_DMA_WRITE) {
		error = 1; /* every item is read-only */
	} else if (control & (FW_CFG_DMA_READ | FW_CFG_DMA_SKIP)) {
		uint8_t *dst = NULL;
		if ((control & FW_CFG_DMA_READ) && len) {
			dst = gpa_to_hva(f->mem, addr, len);
			if (!dst)
				error = 1;
		}
		if (!error) {
			uint32_t avail = it && f->off < it->len ? it->len - f->off : 0;
			uint32_t n = len < avail ? len : avail;
			if (dst) {
				if (n)
					memcpy(dst, it->data + f->off, n);
				memset(dst + n, 0, len - n); /* past the end reads as zeros */
			}
			f->off += n;
		}
	}
	/* Done: control becomes 0, or just the error bit. */
	be32(d, error ? FW_CFG_DMA_ERROR : 0);
}

static uint64_t fw_cfg_read(void *ctx, uint64_t off, unsigned size)
{
	struct fw_cfg *f = ctx;
	uint64_t v = 0;
	pthread_mutex_lock(&f->lock);
	if (off == PORT_DATA) {
		const struct fw_cfg_item *it = find_key(f, f->sel);
		for (unsigned i = 0; i < size; i++) {
			uint8_t b = 0;
			if (it && f->off < it->len)
				b = it->data[f->off++];
			v |= (uint64_t)b << (8 * i);
		}
	} else if (off >= PORT_DMA_HI && off + size <= FW_CFG_PORT_LEN) {
		/* The signature, big-endian, byte by byte. */
		for (unsigned i = 0; i < size; i++) {
			unsigned byte = (unsigned)(off - PORT_DMA_HI) + i;
			uint8_t b = (uint8_t)(DMA_SIGNATURE >> (8 * (7 - byte)));
			v |= (uint64_t)b << (8 * i);
		}
	} else if (off == PORT_SEL && size == 2) {
		v = f->sel;
	} else {
		v = ~0ull >> (64 - 8 * size);
	}
	pthread_mutex_unlock(&f->lock);
	return v;
}

static uint32_t bswap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xFF00) | ((v << 8) & 0xFF0000) | (v << 24);
}

static void fw_cfg_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct fw_cfg *f = ctx;
	pthread_mutex_lock(&f->lock);
	if (off == PORT_SEL && size == 2) {
		select_key(f, (uint16_t)val);
	} else if (off == PORT_DMA_HI && size == 4) {
		f->dma_hi = bswap32((uint32_t)val);
	} else if (off == PORT_DMA_LO && size == 4) {
		uint64_t gpa = (uint64_t)f->dma_hi << 32 | bswap32((uint32_t)val);
		f->dma_hi = 0;
		run_dma(f, gpa);
	} else {
		log_debug("fw_cfg: ignored %u-byte write at +%llu", size, (unsigned long long)off);
	}
	pthread_mutex_unlock(&f->lock);
}

const struct io_ops fw_cfg_ops = { .read = fw_cfg_read, .write = fw_cfg_write };
