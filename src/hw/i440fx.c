#include "hw/i440fx.h"

#include <errno.h>
#include <string.h>

#define CFG_ENABLE 0x80000000u

void i440fx_init(struct i440fx *h)
{
	memset(h, 0, sizeof(*h));
	pthread_mutex_init(&h->lock, NULL);
	struct pci_fn *f = &h->host;
	pci_fn_init(f, 0x8086, 0x1237, 0x02, 0x06, 0x00, 0x00);
	/* Red Hat / "QEMU virtual machine": firmware built for QEMU checks for it. */
	f->cfg[PCI_SUBSYS_VENDOR] = 0xF4;
	f->cfg[PCI_SUBSYS_VENDOR + 1] = 0x1A;
	f->cfg[PCI_SUBSYS_ID] = 0x00;
	f->cfg[PCI_SUBSYS_ID + 1] = 0x11;
	f->cfg[PCI_COMMAND] = PCI_CMD_MEM | PCI_CMD_IO;
	f->cfg[PCI_STATUS] = 0x80; /* fast back-to-back capable */
	f->cfg[PCI_STATUS + 1] = 0x02;
	for (unsigned i = 0; i < 7; i++)
		f->wmask[I440FX_PAM0 + i] = i == 0 ? 0x30 : 0x33;
	f->wmask[I440FX_SMRAM] = 0x78;
	f->cfg[I440FX_SMRAM] = 0x02; /* C_BASE_SEG: compatible SMRAM at 0xA0000 */
	h->fn[0] = f;
}

void i440fx_destroy(struct i440fx *h)
{
	pthread_mutex_destroy(&h->lock);
}

int i440fx_plug(struct i440fx *h, unsigned devfn, struct pci_fn *f)
{
	if (devfn > 255 || h->fn[devfn])
		return -EEXIST;
	h->fn[devfn] = f;
	return 0;
}

static uint64_t addr_read(void *ctx, uint64_t off, unsigned size)
{
	struct i440fx *h = ctx;
	(void)off;
	if (size != 4)
		return 0xFF;
	pthread_mutex_lock(&h->lock);
	uint32_t v = h->addr;
	pthread_mutex_unlock(&h->lock);
	return v;
}

static void addr_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct i440fx *h = ctx;
	(void)off;
	if (size != 4)
		return; /* byte writes at 0xCF8 are not configuration cycles */
	pthread_mutex_lock(&h->lock);
	h->addr = (uint32_t)val & 0x80FFFFFCu;
	pthread_mutex_unlock(&h->lock);
}

/* The addressed function on bus 0, or NULL (nothing there: reads all ones). */
static struct pci_fn *target(struct i440fx *h, unsigned *reg)
{
	if (!(h->addr & CFG_ENABLE) || ((h->addr >> 16) & 0xFF) != 0)
		return NULL;
	*reg = h->addr & 0xFC;
	return h->fn[(h->addr >> 8) & 0xFF];
}

static uint64_t data_read(void *ctx, uint64_t off, unsigned size)
{
	struct i440fx *h = ctx;
	unsigned reg = 0;
	uint64_t v = ~0ull >> (64 - 8 * size);
	pthread_mutex_lock(&h->lock);
	struct pci_fn *f = target(h, &reg);
	if (f && off + size <= 4)
		v = pci_fn_read(f, reg + (unsigned)off, size);
	pthread_mutex_unlock(&h->lock);
	return v;
}

static void data_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct i440fx *h = ctx;
	unsigned reg = 0;
	pthread_mutex_lock(&h->lock);
	struct pci_fn *f = target(h, &reg);
	if (f && off + size <= 4)
		pci_fn_write(f, reg + (unsigned)off, size, (uint32_t)val);
	pthread_mutex_unlock(&h->lock);
}

const struct io_ops i440fx_addr_ops = { .read = addr_read, .write = addr_write };
const struct io_ops i440fx_data_ops = { .read = data_read, .write = data_write };
