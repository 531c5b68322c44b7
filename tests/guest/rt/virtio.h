/*
 * virtio.h - a minimal modern virtio-pci driver for test guests: find a device, negotiate
 * features, set up split queues, MSI-X or INTx, add buffer chains and reap used ones.
 * Setup (rt_virtio_find, which may map BARs above 4 GiB) runs at ring 0; queue operations
 * work at CPL3 too.
 */
#ifndef RT_VIRTIO_H
#define RT_VIRTIO_H

#include "pci.h"

#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

#define VIRTIO_F_INDIRECT_DESC (1ull << 28)
#define VIRTIO_F_EVENT_IDX (1ull << 29)
#define VIRTIO_F_VERSION_1 (1ull << 32)

#define VIRTIO_S_ACK 1
#define VIRTIO_S_DRIVER 2
#define VIRTIO_S_DRIVER_OK 4
#define VIRTIO_S_FEATURES_OK 8
#define VIRTIO_S_NEEDS_RESET 0x40

#define VRING_F_NEXT 1
#define VRING_F_WRITE 2
#define VRING_F_INDIRECT 4

struct vring_desc {
	u64 addr;
	u32 len;
	u16 flags, next;
};

struct rt_vdev {
	unsigned devfn;
	u64 common, notify, isr, devcfg;
	u32 notify_mult;
	u64 msix_table;
	unsigned msix_cap;
	u64 features;
};

struct rt_vq {
	struct rt_vdev *d;
	unsigned index;
	u16 size;
	volatile struct vring_desc *desc;
	volatile u16 *avail;  /* flags, idx, ring[], used_event */
	volatile u16 *used;   /* flags, idx, then {u32 id, u32 len}[] */
	u16 free_head, num_free, last_used;
	u64 notify_addr;
	volatile u32 irqs;
};

struct rt_buf {
	u64 addr;
	u32 len;
	bool write;
};

/* Find the nth (0-based) virtio device of this type and locate its structures. Ring 0. */
bool rt_virtio_find(struct rt_vdev *d, unsigned type, unsigned nth);
/* Reset, ACK, DRIVER, offer `want` (VERSION_1 added), FEATURES_OK. Returns the accepted
 * features in d->features, false when the device refused. */
bool rt_virtio_init(struct rt_vdev *d, u64 want);
/* Set up queue idx with size entries (<= the device's maximum), MSI-X vector msix (0xffff =
 * none). Rings come from a static pool. */
bool rt_virtio_setup_vq(struct rt_vdev *d, struct rt_vq *q, unsigned idx, u16 size, u16 msix);
/* Program MSI-X table entry `entry` to deliver CPU vector `vector` to the BSP, and enable
 * MSI-X (and the config vector, when config_entry != 0xffff). */
void rt_virtio_msix(struct rt_vdev *d, unsigned entry, u8 vector);
void rt_virtio_msix_enable(struct rt_vdev *d, u16 config_entry);
void rt_virtio_driver_ok(struct rt_vdev *d);
u8 rt_virtio_status(struct rt_vdev *d);
void rt_virtio_set_status(struct rt_vdev *d, u8 s);
/* Device configuration bytes. */
u8 rt_virtio_cfg8(struct rt_vdev *d, unsigned off);
u32 rt_virtio_cfg32(struct rt_vdev *d, unsigned off);
u64 rt_virtio_cfg64(struct rt_vdev *d, unsigned off);
/* Queue n buffers as one chain (readable before writable); returns the head, or -1 when the
 * ring is full. `indirect` puts the chain in an indirect table (from the pool). */
int rt_vq_add(struct rt_vq *q, const struct rt_buf *b, unsigned n, bool indirect);
/* Publish added chains in the avail ring and notify the device. */
void rt_vq_kick(struct rt_vq *q);
/* One used chain: true with head and len; false when none. Frees its descriptors. */
bool rt_vq_get(struct rt_vq *q, u16 *head, u32 *len);
/* Poll until a used chain arrives or `ms` pass; false on timeout. */
bool rt_vq_wait(struct rt_vq *q, u16 *head, u32 *len, u64 ms);
/* Bytes from the DMA pool at 16-48 MiB (zeroed, aligned); never freed. */
void *rt_dma_alloc(u64 size, u64 align);

#endif
