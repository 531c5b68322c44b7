/*
 * virtio.c - minimal modern virtio-pci driver (see virtio.h).
 */
#include "virtio.h"

/* Common configuration offsets (virtio 1.2, 4.1.4.3). */
#define CC_DFSELECT 0x00
#define CC_DF 0x04
#define CC_GFSELECT 0x08
#define CC_GF 0x0C
#define CC_MSIX 0x10
#define CC_STATUS 0x14
#define CC_Q_SELECT 0x16
#define CC_Q_SIZE 0x18
#define CC_Q_MSIX 0x1A
#define CC_Q_ENABLE 0x1C
#define CC_Q_NOFF 0x1E
#define CC_Q_DESC 0x20
#define CC_Q_AVAIL 0x28
#define CC_Q_USED 0x30

/* Rings and buffers live in RAM from 16 MiB to 48 MiB, outside the guest image (so guests
 * that do not use virtio stay small); guests using it need at least 64 MiB. */
#define DMA_POOL_BASE 0x1000000ull
#define DMA_POOL_SIZE 0x2000000ull
static u64 dma_used;

void *rt_dma_alloc(u64 size, u64 align)
{
	u64 at = (dma_used + align - 1) & ~(align - 1);
	if (at + size > DMA_POOL_SIZE)
		rt_fail("virtio: DMA pool exhausted");
	dma_used = at + size;
	u8 *p = rt_phys(DMA_POOL_BASE + at);
	memset(p, 0, size);
	return p;
}

static u64 bar_addr(unsigned devfn, unsigned bar)
{
	bool io;
	u64 a = rt_pci_bar(devfn, bar, &io);
	if (a >= 0x100000000ull && rt_cpl() == 0)
		rt_map_identity(a & ~0x1fffffull, 0x400000);
	return a;
}

bool rt_virtio_find(struct rt_vdev *d, unsigned type, unsigned nth)
{
	memset(d, 0, sizeof(*d));
	int df = -1;
	for (unsigned k = 0; k <= nth; k++) {
		df = rt_pci_find(0x1af4, (u16)(0x1040 + type), df + 1);
		if (df < 0)
			return false;
	}
	d->devfn = (unsigned)df;
	for (unsigned c = rt_pci_find_cap(d->devfn, 0x09, 0); c; c = rt_pci_find_cap(d->devfn, 0x09, c)) {
		u8 ctype = (u8)rt_pci_read(d->devfn, c + 3, 1);
		u8 bar = (u8)rt_pci_read(d->devfn, c + 4, 1);
		u64 a = bar_addr(d->devfn, bar) + rt_pci_read(d->devfn, c + 8, 4);
		if (ctype == 1)
			d->common = a;
		else if (ctype == 2) {
			d->notify = a;
			d->notify_mult = rt_pci_read(d->devfn, c + 16, 4);
		} else if (ctype == 3)
			d->isr = a;
		else if (ctype == 4)
			d->devcfg = a;
	}
	unsigned mc = rt_pci_find_cap(d->devfn, 0x11, 0);
	if (mc) {
		u32 t = rt_pci_read(d->devfn, mc + 4, 4);
		d->msix_cap = mc;
		d->msix_table = bar_addr(d->devfn, t & 7) + (t & ~7u);
	}
	return d->common && d->notify && d->isr;
}

u8 rt_virtio_status(struct rt_vdev *d)
{
	return mmio_read8(d->common + CC_STATUS);
}

void rt_virtio_set_status(struct rt_vdev *d, u8 s)
{
	mmio_write8(d->common + CC_STATUS, s);
}

bool rt_virtio_init(struct rt_vdev *d, u64 want)
{
	rt_virtio_set_status(d, 0);
	if (rt_virtio_status(d) != 0)
		return false;
	rt_virtio_set_status(d, VIRTIO_S_ACK);
	rt_virtio_set_status(d, VIRTIO_S_ACK | VIRTIO_S_DRIVER);
	mmio_write32(d->common + CC_DFSELECT, 0);
	u64 have = mmio_read32(d->common + CC_DF);
	mmio_write32(d->common + CC_DFSELECT, 1);
	have |= (u64)mmio_read32(d->common + CC_DF) << 32;
	d->features = have & (want | VIRTIO_F_VERSION_1);
	mmio_write32(d->common + CC_GFSELECT, 0);
	mmio_write32(d->common + CC_GF, (u32)d->features);
	mmio_write32(d->common + CC_GFSELECT, 1);
	mmio_write32(d->common + CC_GF, (u32)(d->features >> 32));
	rt_virtio_set_status(d, VIRTIO_S_ACK | VIRTIO_S_DRIVER | VIRTIO_S_FEATURES_OK);
	return rt_virtio_status(d) & VIRTIO_S_FEATURES_OK;
}

bool rt_virtio_setup_vq(struct rt_vdev *d, struct rt_vq *q, unsigned idx, u16 size, u16 msix)
{
	memset(q, 0, sizeof(*q));
	mmio_write16(d->common + CC_Q_SELECT, (u16)idx);
	u16 max = mmio_read16(d->common + CC_Q_SIZE);
	if (max == 0 || size > max)
		return false;
	mmio_write16(d->common + CC_Q_SIZE, size);
	q->d = d;
	q->index = idx;
	q->size = size;
	q->desc = rt_dma_alloc(16ull * size, 16);
	q->avail = rt_dma_alloc(6 + 2ull * size, 2);
	q->used = rt_dma_alloc(6 + 8ull * size, 4);
	for (u16 i = 0; i < size; i++)
		q->desc[i].next = (u16)(i + 1);
	q->num_free = size;
	mmio_write64(d->common + CC_Q_DESC, (u64)q->desc);
	mmio_write64(d->common + CC_Q_AVAIL, (u64)q->avail);
	mmio_write64(d->common + CC_Q_USED, (u64)q->used);
	mmio_write16(d->common + CC_Q_MSIX, msix);
	q->notify_addr = d->notify + (u64)mmio_read16(d->common + CC_Q_NOFF) * d->notify_mult;
	mmio_write16(d->common + CC_Q_ENABLE, 1);
	return mmio_read16(d->common + CC_Q_ENABLE) == 1;
}

void rt_virtio_msix(struct rt_vdev *d, unsigned entry, u8 vector)
{
	u64 e = d->msix_table + 16ull * entry;
	mmio_write32(e, 0xfee00000u | rt_lapic_id() << 12);
	mmio_write32(e + 4, 0);
	mmio_write32(e + 8, vector);
	mmio_write32(e + 12, 0);
}

void rt_virtio_msix_enable(struct rt_vdev *d, u16 config_entry)
{
	u16 ctl = (u16)rt_pci_read(d->devfn, d->msix_cap + 2, 2);
	rt_pci_write(d->devfn, d->msix_cap + 2, 2, ctl | 0x8000);
	mmio_write16(d->common + CC_MSIX, config_entry);
}

void rt_virtio_driver_ok(struct rt_vdev *d)
{
	rt_virtio_set_status(d, rt_virtio_status(d) | VIRTIO_S_DRIVER_OK);
}

u8 rt_virtio_cfg8(struct rt_vdev *d, unsigned off)
{
	return mmio_read8(d->devcfg + off);
}

u32 rt_virtio_cfg32(struct rt_vdev *d, unsigned off)
{
	return mmio_read32(d->devcfg + off);
}

u64 rt_virtio_cfg64(struct rt_vdev *d, unsigned off)
{
	return mmio_read32(d->devcfg + off) | (u64)mmio_read32(d->devcfg + off + 4) << 32;
}

int rt_vq_add(struct rt_vq *q, const struct rt_buf *b, unsigned n, bool indirect)
{
	unsigned need = indirect ? 1 : n;
	if (n == 0 || q->num_free < need)
		return -1;
	u16 head = q->free_head;
	if (indirect) {
		struct vring_desc *t = rt_dma_alloc(16ull * n, 16);
		for (unsigned i = 0; i < n; i++) {
			t[i].addr = b[i].addr;
			t[i].len = b[i].len;
			t[i].flags = (u16)((b[i].write ? VRING_F_WRITE : 0) | (i + 1 < n ? VRING_F_NEXT : 0));
			t[i].next = (u16)(i + 1);
		}
		volatile struct vring_desc *dd = &q->desc[head];
		q->free_head = dd->next;
		dd->addr = (u64)t;
		dd->len = 16 * n;
		dd->flags = VRING_F_INDIRECT;
	} else {
		u16 i = head, last = head;
		for (unsigned k = 0; k < n; k++) {
			volatile struct vring_desc *dd = &q->desc[i];
			dd->addr = b[k].addr;
			dd->len = b[k].len;
			dd->flags = (u16)((b[k].write ? VRING_F_WRITE : 0) | (k + 1 < n ? VRING_F_NEXT : 0));
			last = i;
			i = dd->next;
		}
		(void)last;
		q->free_head = i;
	}
	q->num_free = (u16)(q->num_free - need);
	u16 idx = q->avail[1];
	q->avail[2 + idx % q->size] = head;
	barrier();
	q->avail[1] = (u16)(idx + 1);
	return head;
}

void rt_vq_kick(struct rt_vq *q)
{
	__asm__ volatile("mfence" ::: "memory");
	/* As Linux does: a device that polls the ring says so (VRING_USED_F_NO_NOTIFY); the fence
	 * above orders our avail index before this read, against its flag clear and index read. */
	if (q->used[0] & 1)
		return;
	mmio_write16(q->notify_addr, (u16)q->index);
}

bool rt_vq_get(struct rt_vq *q, u16 *head, u32 *len)
{
	if (q->used[1] == q->last_used)
		return false;
	barrier();
	volatile u32 *e = (volatile u32 *)(q->used + 2) + 2 * (q->last_used % q->size);
	u16 h = (u16)e[0];
	*head = h;
	*len = e[1];
	q->last_used++;
	/* Free the chain: follow NEXT in the ring descriptors (an indirect head is one). */
	u16 i = h, n = 1;
	while ((q->desc[i].flags & VRING_F_NEXT) && n < q->size) {
		i = q->desc[i].next;
		n++;
	}
	q->desc[i].next = q->free_head;
	q->free_head = h;
	q->num_free = (u16)(q->num_free + n);
	return true;
}

bool rt_vq_wait(struct rt_vq *q, u16 *head, u32 *len, u64 ms)
{
	u64 end = rdtsc() + rt_tsc_hz() / 1000 * ms;
	while (!rt_vq_get(q, head, len)) {
		if (rdtsc() > end)
			return false;
		__asm__ volatile("pause");
	}
	return true;
}
