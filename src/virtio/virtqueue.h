/* The one split-virtqueue walker (virtio 1.2, 2.7) every Domus virtio device uses.
 *
 * The guest owns the rings and may write anything into them at any time; this code treats
 * every field as hostile. vq_enable() checks that the three ring areas lie in guest RAM and
 * are aligned. vq_pop() takes one available chain and returns it as host iovecs, readable
 * (driver-to-device) segments first: every descriptor index is < queue size, every (addr, len)
 * is checked by gpa_to_hva() (overflow-safe), a chain may not be longer than the queue (so a
 * loop is caught), indirect tables are validated (negotiated, not nested, no NEXT with
 * INDIRECT, length a non-zero multiple of 16, in RAM), the number of segments is bounded,
 * a readable descriptor after a writable one is refused, and the avail index may not run more
 * than the queue size ahead. Any violation marks the queue broken: vq_pop() then returns
 * -EIO (and logs once); the device sets DEVICE_NEEDS_RESET. No host access ever leaves guest
 * RAM.
 *
 * Not thread-safe: one thread at a time per queue (the device's lock). */
#ifndef DOMUS_VIRTQUEUE_H
#define DOMUS_VIRTQUEUE_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmm/guest_mem.h"

#define VQ_MAX_SIZE 1024  /* largest queue a device offers */
#define VQ_MAX_SEGS 256   /* segments per chain, indirect ones included */

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_USED_F_NO_NOTIFY 1

#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

struct vring_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtqueue {
	const char *name;        /* "blk0.q0", for the one log line when it breaks */
	const struct guest_mem *mem;
	uint16_t size;
	bool ready;
	bool broken;
	bool event_idx;
	bool indirect;
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Host views of the rings, valid while ready. */
	volatile struct vring_desc *desc;
	volatile uint16_t *avail; /* flags, idx, ring[size], used_event */
	volatile uint16_t *used;  /* flags, idx, then {u32 id, u32 len}[size], avail_event */
	uint16_t last_avail;
	uint16_t used_idx;
	uint16_t signalled_used; /* used_idx at the last interrupt (EVENT_IDX) */
	bool signalled_valid;
	bool polling;            /* the device polls avail: kicks suppressed (vq_poll_start) */
	char why[96];            /* what broke it, for the log */
};

/* A popped chain: iov[0..nout) readable by the device, iov[nout..nout+nin) writable. */
struct vq_chain {
	uint16_t head;
	uint16_t nout, nin;
	uint64_t out_len, in_len;
	struct iovec iov[VQ_MAX_SEGS];
};

/* Clear everything (device reset). */
void vq_reset(struct virtqueue *vq);
/* Check and map the rings set by the driver (size, desc/avail/used addresses in vq, and the
 * negotiated features). 0, or -EINVAL (bad size) / -EFAULT (not RAM, misaligned): the
 * queue is then broken. */
int vq_enable(struct virtqueue *vq, const struct guest_mem *mem, bool event_idx,
	      bool indirect);
/* Take the next available chain: 1 and *c filled, 0 when none is available, -EIO when the
 * queue is (or just became) broken. */
int vq_pop(struct virtqueue *vq, struct vq_chain *c);
/* Give a chain back with len bytes written into its writable part. */
void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len);
/* Return the last n popped chains to the available ring (a device out of resources). */
void vq_unpop(struct virtqueue *vq, uint16_t n);
/* Whether the driver wants an interrupt for what was pushed since the last call that said
 * yes (VIRTQ_AVAIL_F_NO_INTERRUPT or used_event). */
bool vq_should_notify(struct virtqueue *vq);
/* With EVENT_IDX: ask for a kick when anything past what was popped arrives. Returns true
 * when more is already available (the caller pops again, closing the race). */
bool vq_enable_notify(struct virtqueue *vq);
/* The device will look at the avail ring by itself for a while: ask the driver not to kick
 * (VRING_USED_F_NO_NOTIFY, or with EVENT_IDX an avail_event left behind). Meanwhile
 * vq_enable_notify() only tells whether more is available. */
void vq_poll_start(struct virtqueue *vq);
/* Polling is over: ask for kicks again. True when more arrived meanwhile (pop again). */
bool vq_poll_stop(struct virtqueue *vq);
/* Whether the driver made chains available that were not popped yet (a poll). */
bool vq_has_avail(const struct virtqueue *vq);
/* As vq_enable_notify() for a device that gave chains back with vq_unpop() because it needs
 * more than are available (a mergeable receive packet): ask for a kick when the driver adds
 * past what it has made available now, not past what was popped (that entry is already
 * there, so the driver would never kick). True when more arrived meanwhile. */
bool vq_enable_notify_more(struct virtqueue *vq);
/* Copy from a chain's readable / into its writable segments, starting at byte off of that
 * part. Return bytes copied (less when the part is shorter). */
size_t vq_copy_from(const struct vq_chain *c, size_t off, void *dst, size_t len);
size_t vq_copy_to(const struct vq_chain *c, size_t off, const void *src, size_t len);

#endif
