#include "hw/pci.h"

#include <errno.h>
#include <string.h>

#include "lib/log.h"

/* PIRQ A..D. ISA IRQs, not IOAPIC pins 16-23, because on PVM hosts only the 8259 PIC delivers
 * and it has 16 inputs; 9 (SCI) and the legacy devices' IRQs are avoided. */
const unsigned pci_pirq_gsi[PCI_NR_PIRQ] = { 10, 11, 5, 3 };

void pci_bus_init(struct pci_bus *b, struct bus *pio, struct bus *mmio,
		  void (*irq_set)(void *ctx, unsigned gsi, int level), void *irq_ctx,
		  const struct pci_windows *win)
{
	memset(b, 0, sizeof(*b));
	b->pio = pio;
	b->mmio = mmio;
	b->win = *win;
	pthread_mutex_init(&b->lock, NULL);
	pthread_mutex_init(&b->intx_lock, NULL);
	for (int i = 0; i < PCI_NR_PIRQ; i++) {
		b->pirq_gsi[i] = pci_pirq_gsi[i];
		b->pirq[i].set = irq_set;
		b->pirq[i].ctx = irq_ctx;
		b->pirq[i].gsi = pci_pirq_gsi[i];
		atomic_store(&b->pirq[i].level, 0);
	}
}

static void bar_unmap(struct pci_device *d, int i)
{
	struct pci_bar *bar = &d->bar[i];
	if (!bar->mapped)
		return;
	bus_remove(bar->type == PCI_BAR_IO ? d->bus->pio : d->bus->mmio, bar->mapped_at, bar->ctx);
	bar->mapped = false;
	if (d->ops && d->ops->bar_moved)
		d->ops->bar_moved(d, i, false, bar->mapped_at);
}

void pci_bus_unmap_all(struct pci_bus *b)
{
	pthread_mutex_lock(&b->lock);
	for (int f = 0; f < PCI_MAX_DEVFN; f++)
		for (int i = 0; b->dev[f] && i < 6; i++)
			bar_unmap(b->dev[f], i);
	pthread_mutex_unlock(&b->lock);
}

void pci_bus_destroy(struct pci_bus *b)
{
	pthread_mutex_destroy(&b->lock);
	pthread_mutex_destroy(&b->intx_lock);
}

void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision, uint16_t subsys_vendor,
		     uint16_t subsys_id, uint8_t intx_pin)
{
	memset(d, 0, sizeof(*d));
	d->name = name;
	pci_cfg_set16(d, PCI_VENDOR_ID, vendor);
	pci_cfg_set16(d, PCI_DEVICE_ID, device);
	d->cfg[PCI_REVISION_ID] = revision;
	d->cfg[PCI_CLASS_PROG] = (uint8_t)class_code;
	d->cfg[PCI_CLASS_PROG + 1] = (uint8_t)(class_code >> 8);
	d->cfg[PCI_CLASS_PROG + 2] = (uint8_t)(class_code >> 16);
	pci_cfg_set16(d, PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor);
	pci_cfg_set16(d, PCI_SUBSYSTEM_ID, subsys_id);
	d->cfg[PCI_INTERRUPT_PIN] = intx_pin <= 4 ? intx_pin : 0;
	/* Command: I/O, memory, bus master, parity, SERR, INTx disable. */
	pci_cfg_set16(d, PCI_COMMAND, 0);
	d->wmask[PCI_COMMAND] = 0x47;
	d->wmask[PCI_COMMAND + 1] = 0x05;
	/* Status error bits are write-one-to-clear; nothing sets them, but guests write them. */
	d->w1c[PCI_STATUS + 1] = 0xF9;
	d->wmask[PCI_INTERRUPT_LINE] = 0xFF;
	d->cfg[0x0C] = 0;                 /* cache line size: writable scratch */
	d->wmask[0x0C] = 0xFF;
	d->wmask[0x0D] = 0xFF;            /* latency timer */
	d->cap_end = 0x40;
}

int pci_add_bar(struct pci_device *d, int idx, enum pci_bar_type type, bool prefetch,
		uint64_t size, const struct io_ops *ops, void *ctx)
{
	if (idx < 0 || idx > 5 || (type == PCI_BAR_MEM64 && idx > 4) || !ops ||
	    size == 0 || (size & (size - 1)) || (type == PCI_BAR_IO && (size < 4 || size > 256)) ||
	    (type != PCI_BAR_IO && size < 16) || (type == PCI_BAR_MEM32 && size > (1ull << 31)) ||
	    d->bar[idx].type != PCI_BAR_NONE || d->bar[idx].upper ||
	    (type == PCI_BAR_MEM64 &&
	     (d->bar[idx + 1].type != PCI_BAR_NONE || d->bar[idx + 1].upper)))
		return -EINVAL;
	struct pci_bar *b = &d->bar[idx];
	*b = (struct pci_bar){ .type = type, .prefetch = prefetch, .size = size, .ops = ops,
			       .ctx = ctx };
	unsigned off = PCI_BAR0 + 4 * (unsigned)idx;
	uint32_t flags, mask;
	if (type == PCI_BAR_IO) {
		flags = PCI_BAR_SPACE_IO;
		mask = ~(uint32_t)(size - 1) & ~3u;
	} else {
		flags = (type == PCI_BAR_MEM64 ? PCI_BAR_MEM_TYPE_64 : 0) |
			(prefetch ? PCI_BAR_MEM_PREFETCH : 0);
		mask = size >= (1ull << 32) ? 0 : ~(uint32_t)(size - 1) & ~0xFu;
	}
	pci_cfg_set32(d, off, flags);
	for (int i = 0; i < 4; i++)
		d->wmask[off + i] = (uint8_t)(mask >> (8 * i));
	if (type == PCI_BAR_MEM64) {
		/* The high half: a 64-bit BAR of 4 GiB or more has low bits in it too. */
		uint32_t hmask = size > (1ull << 32) ? ~(uint32_t)((size - 1) >> 32) : ~0u;
		d->bar[idx + 1].upper = true;
		pci_cfg_set32(d, off + 4, 0);
		for (int i = 0; i < 4; i++)
			d->wmask[off + 4 + i] = (uint8_t)(hmask >> (8 * i));
	}
	return 0;
}

int pci_add_cap(struct pci_device *d, uint8_t id, unsigned len)
{
	unsigned at = (d->cap_end + 3u) & ~3u;
	if (len < 2 || at + len > PCI_CFG_SIZE)
		return -ENOSPC;
	d->cfg[at] = id;
	d->cfg[at + 1] = 0;
	/* Link it at the end of the list, which keeps the order of declaration. */
	if (!(pci_cfg_get16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST)) {
		d->cfg[PCI_CAPABILITY_LIST] = (uint8_t)at;
		pci_cfg_set16(d, PCI_STATUS, pci_cfg_get16(d, PCI_STATUS) | PCI_STATUS_CAP_LIST);
	} else {
		unsigned p = d->cfg[PCI_CAPABILITY_LIST];
		while (d->cfg[p + 1])
			p = d->cfg[p + 1];
		d->cfg[p + 1] = (uint8_t)at;
	}
	d->cap_end = (uint8_t)(at + len > 0xFF ? 0xFF : at + len);
	return (int)at;
}

int pci_bus_add(struct pci_bus *b, struct pci_device *d, uint8_t devfn)
{
	pthread_mutex_lock(&b->lock);
	if (b->dev[devfn]) {
		pthread_mutex_unlock(&b->lock);
		return -EEXIST;
	}
	d->bus = b;
	d->devfn = devfn;
	b->dev[devfn] = d;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

uint64_t pci_bar_addr(const struct pci_device *d, int idx)
{
	const struct pci_bar *bar = &d->bar[idx];
	uint32_t lo = pci_cfg_get32(d, PCI_BAR0 + 4 * (unsigned)idx);
	switch (bar->type) {
	case PCI_BAR_IO:
		return lo & ~3u;
	case PCI_BAR_MEM32:
		return lo & ~0xFu;
	case PCI_BAR_MEM64:
		return (lo & ~0xFull) |
		       (uint64_t)pci_cfg_get32(d, PCI_BAR0 + 4 * (unsigned)idx + 4) << 32;
	default:
		return 0;
	}
}

/* Map or unmap each BAR to match the command register and the BAR's address. */
static void bars_update(struct pci_device *d)
{
	uint16_t cmd = pci_cfg_get16(d, PCI_COMMAND);
	for (int i = 0; i < 6; i++) {
		struct pci_bar *bar = &d->bar[i];
		if (bar->type == PCI_BAR_NONE)
			continue;
		uint64_t addr = pci_bar_addr(d, i);
		bool io = bar->type == PCI_BAR_IO;
		bool on = (cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) && addr != 0 &&
			  addr + bar->size > addr && (!io || addr + bar->size <= 0x10000);
		if (bar->mapped && (!on || bar->mapped_at != addr))
			bar_unmap(d, i);
		if (on && !bar->mapped) {
			struct bus *bus = io ? d->bus->pio : d->bus->mmio;
			int e = bus_add(bus, addr, bar->size, bar->ops, bar->ctx, d->name);
			if (e < 0) {
				log_debug("%s: BAR%d at 0x%llx overlaps another device: not mapped",
					  d->name, i, (unsigned long long)addr);
				continue;
			}
			bar->mapped = true;
			bar->mapped_at = addr;
			if (d->ops && d->ops->bar_moved)
				d->ops->bar_moved(d, i, true, addr);
		}
	}
}

static void intx_update(struct pci_device *d)
{
	struct pci_bus *b = d->bus;
	bool want = d->intx_level && !(pci_cfg_get16(d, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE);
	uint8_t pin = d->cfg[PCI_INTERRUPT_PIN];
	if (d->intx_level)
		d->cfg[PCI_STATUS] |= PCI_STATUS_INTERRUPT;
	else
		d->cfg[PCI_STATUS] &= (uint8_t)~PCI_STATUS_INTERRUPT;
	if (want == d->intx_on || pin == 0 || pin > 4)
		return;
	d->intx_on = want;
	unsigned p = ((unsigned)(d->devfn >> 3) + pin - 1) % PCI_NR_PIRQ;
	b->pirq_count[p] += want ? 1 : -1;
	irq_line_set(&b->pirq[p], b->pirq_count[p] > 0);
}

void pci_set_intx(struct pci_device *d, bool level)
{
	if (!d->bus)
		return;
	pthread_mutex_lock(&d->bus->intx_lock);
	d->intx_level = level;
	intx_update(d);
	pthread_mutex_unlock(&d->bus->intx_lock);
}

uint32_t pci_cfg_read(struct pci_bus *b, uint8_t devfn, unsigned off, unsigned size)
{
	if ((size != 1 && size != 2 && size != 4) || off % size || off + size > PCI_CFG_SIZE)
		return 0xFFFFFFFFu;
	pthread_mutex_lock(&b->lock);
	struct pci_device *d = b->dev[devfn];
	uint32_t v = 0xFFFFFFFFu >> (32 - 8 * size);
	if (d) {
		v = 0;
		for (unsigned i = 0; i < size; i++)
			v |= (uint32_t)d->cfg[off + i] << (8 * i);
	}
	pthread_mutex_unlock(&b->lock);
	return v;
}

void pci_cfg_write(struct pci_bus *b, uint8_t devfn, unsigned off, unsigned size, uint32_t val)
{
	if ((size != 1 && size != 2 && size != 4) || off % size || off + size > PCI_CFG_SIZE)
		return;
	pthread_mutex_lock(&b->lock);
	struct pci_device *d = b->dev[devfn];
	if (!d) {
		pthread_mutex_unlock(&b->lock);
		return;
	}
	for (unsigned i = 0; i < size; i++) {
		uint8_t v = (uint8_t)(val >> (8 * i));
		unsigned o = off + i;
		d->cfg[o] = (uint8_t)((d->cfg[o] & ~d->wmask[o]) | (v & d->wmask[o]));
		d->cfg[o] &= (uint8_t)~(v & d->w1c[o]);
	}
	if (off < PCI_BAR0 + 24 && off + size > PCI_COMMAND) {
		bars_update(d);
		if (off <= PCI_COMMAND + 1 && off + size > PCI_COMMAND + 1) {
			pthread_mutex_lock(&b->intx_lock);
			intx_update(d);
			pthread_mutex_unlock(&b->intx_lock);
		}
	}
	if (d->ops && d->ops->cfg_written)
		d->ops->cfg_written(d, off, size, val);
	pthread_mutex_unlock(&b->lock);
}

struct bar_ref {
	struct pci_device *d;
	int idx;
};

static int alloc_in(uint64_t *next, uint64_t end, uint64_t size, uint64_t *out)
{
	uint64_t a = (*next + size - 1) & ~(size - 1);
	if (a < *next || a + size < a || a + size > end)
		return -ENOSPC;
	*out = a;
	*next = a + size;
	return 0;
}

int pci_bus_assign(struct pci_bus *b)
{
	struct bar_ref refs[PCI_MAX_DEVFN * 6];
	int n = 0;
	pthread_mutex_lock(&b->lock);
	for (int f = 0; f < PCI_MAX_DEVFN; f++)
		for (int i = 0; b->dev[f] && i < 6; i++)
			if (b->dev[f]->bar[i].type != PCI_BAR_NONE)
				refs[n++] = (struct bar_ref){ b->dev[f], i };
	/* Largest first: natural alignment then leaves no holes. Insertion sort, n is small. */
	for (int i = 1; i < n; i++) {
		struct bar_ref r = refs[i];
		int j = i;
		while (j > 0 && refs[j - 1].d->bar[refs[j - 1].idx].size < r.d->bar[r.idx].size) {
			refs[j] = refs[j - 1];
			j--;
		}
		refs[j] = r;
	}
	uint64_t io = b->win.io_base, m32 = b->win.mem32_base, m64 = b->win.mem64_base;
	int ret = 0;
	for (int i = 0; i < n && !ret; i++) {
		struct pci_device *d = refs[i].d;
		struct pci_bar *bar = &d->bar[refs[i].idx];
		unsigned off = PCI_BAR0 + 4 * (unsigned)refs[i].idx;
		uint64_t a = 0;
		if (bar->type == PCI_BAR_IO)
			ret = alloc_in(&io, b->win.io_end, bar->size, &a);
		else if (bar->type == PCI_BAR_MEM64 && b->win.mem64_end > b->win.mem64_base)
			ret = alloc_in(&m64, b->win.mem64_end, bar->size, &a);
		else
			ret = alloc_in(&m32, b->win.mem32_end, bar->size, &a);
		if (ret)
			break;
		uint32_t flags = pci_cfg_get32(d, off) & (bar->type == PCI_BAR_IO ? 3u : 0xFu);
		pci_cfg_set32(d, off, (uint32_t)a | flags);
		if (bar->type == PCI_BAR_MEM64)
			pci_cfg_set32(d, off + 4, (uint32_t)(a >> 32));
	}
	for (int f = 0; f < PCI_MAX_DEVFN && !ret; f++) {
		struct pci_device *d = b->dev[f];
		if (!d)
			continue;
		uint16_t cmd = pci_cfg_get16(d, PCI_COMMAND);
		for (int i = 0; i < 6; i++) {
			if (d->bar[i].type == PCI_BAR_IO)
				cmd |= PCI_COMMAND_IO;
			else if (d->bar[i].type != PCI_BAR_NONE)
				cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
		}
		pci_cfg_set16(d, PCI_COMMAND, cmd);
		uint8_t pin = d->cfg[PCI_INTERRUPT_PIN];
		if (pin >= 1 && pin <= 4)
			d->cfg[PCI_INTERRUPT_LINE] =
				(uint8_t)b->pirq_gsi[((unsigned)(f >> 3) + pin - 1) % PCI_NR_PIRQ];
		bars_update(d);
	}
	pthread_mutex_unlock(&b->lock);
	return ret;
}
