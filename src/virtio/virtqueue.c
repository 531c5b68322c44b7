#include "virtio/virtqueue.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lib/log.h"

/* The driver writes the rings concurrently: every shared field is read once through a
 * volatile pointer, and ordering against the index uses explicit fences. */
#define AVAIL_FLAGS 0
#define AVAIL_IDX 1
#define AVAIL_RING 2
#define USED_FLAGS 0
#define USED_IDX 1

static int vq_break(struct virtqueue *vq, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int vq_break(struct virtqueue *vq, const char *fmt, ...)
{
	if (!vq->broken) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(vq->why, sizeof(vq->why), fmt, ap);
		va_end(ap);
		vq->broken = true;
		log_warn("%s: guest driver error: %s; the device needs a reset",
			 vq->name ? vq->name : "virtqueue", vq->why);
	}
	return -EIO;
}

void vq_reset(struct virtqueue *vq)
{
	const char *name = vq->name;
	memset(vq, 0, sizeof(*vq));
	vq->name = name;
}

int vq_enable(struct virtqueue *vq, const struct guest_mem *mem, bool event_idx, bool indirect)
{
	uint64_t n = vq->size;
	vq->mem = mem;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	if (n == 0 || n > VQ_MAX_SIZE || (n & (n - 1))) {
		vq_break(vq, "queue size %llu is not a power of two up to %d",
				(unsigned long long)n, VQ_MAX_SIZE);
		return -EINVAL;
	}
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3)) {
		vq_break(vq, "misaligned rings");
		return -EFAULT;
	}
	vq->desc = gpa_to_hva(mem, vq->desc_gpa, 16 * n);
	vq->avail = gpa_to_hva(mem, vq->avail_gpa, 6 + 2 * n);
	vq->used = gpa_to_hva(mem, vq->used_gpa, 6 + 8 * n);
	if (!vq->desc || !vq->avail || !vq->used) {
		vq_break(vq, "rings outside guest RAM (desc 0x%llx avail 0x%llx used 0x%llx)",
				(unsigned long long)vq->desc_gpa,
				(unsigned long long)vq->avail_gpa,
				(unsigned long long)vq->used_gpa);
		return -EFAULT;
	}
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->signalled_valid = false;
	vq->ready = true;
	return 0;
}

/* Add one descriptor's buffer to the chain, after checking it against RAM and direction. */
static int add_seg(struct virtqueue *vq, struct vq_chain *c, uint64_t addr, uint32_t len,
		   uint16_t flags)
{
	bool w = flags & VRING_DESC_F_WRITE;
	if (!w && c->nin)
		return vq_break(vq, "chain %u: a readable descriptor after a writable one", c->head);
	if (len == 0)
		return 0;
	if (c->nout + c->nin >= VQ_MAX_SEGS)
		return vq_break(vq, "chain %u: more than %d segments", c->head, VQ_MAX_SEGS);
	void *p = gpa_to_hva(vq->mem, addr, len);
	if (!p)
		return vq_break(vq, "chain %u: buffer 0x%llx+%u outside guest RAM", c->head,
				(unsigned long long)addr, len);
	c->iov[c->nout + c->nin] = (struct iovec){ p, len };
	if (w) {
		c->nin++;
		c->in_len += len;
	} else {
		c->nout++;
		c->out_len += len;
	}
	return 0;
}

static int walk_indirect(struct virtqueue *vq, struct vq_chain *c, uint64_t addr, uint32_t len)
{
	if (!vq->indirect)
		return vq_break(vq, "chain %u: indirect descriptor not negotiated", c->head);
	if (len == 0 || len % 16 || len / 16 > VQ_MAX_SEGS)
		return vq_break(vq, "chain %u: indirect table of %u bytes", c->head, len);
	const volatile struct vring_desc *t = gpa_to_hva(vq->mem, addr, len);
	if (!t)
		return vq_break(vq, "chain %u: indirect table 0x%llx+%u outside guest RAM",
				c->head, (unsigned long long)addr, len);
	unsigned n = len / 16, i = 0;
	for (unsigned hops = 0;; hops++) {
		if (hops >= n)
			return vq_break(vq, "chain %u: indirect table loops", c->head);
		struct vring_desc d = { t[i].addr, t[i].len, t[i].flags, t[i].next };
		if (d.flags & VRING_DESC_F_INDIRECT)
			return vq_break(vq, "chain %u: nested indirect table", c->head);
		if (add_seg(vq, c, d.addr, d.len, d.flags) < 0)
			return -EIO;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= n)
			return vq_break(vq, "chain %u: indirect next %u beyond %u entries", c->head,
					d.next, n);
		i = d.next;
	}
}

int vq_pop(struct virtqueue *vq, struct vq_chain *c)
{
	if (vq->broken)
		return -EIO;
	if (!vq->ready)
		return 0;
	uint16_t avail_idx = vq->avail[AVAIL_IDX];
	uint16_t pending = (uint16_t)(avail_idx - vq->last_avail);
	if (pending == 0)
		return 0;
	if (pending > vq->size)
		return vq_break(vq, "avail index %u is %u ahead of %u (queue size %u)", avail_idx,
				pending, vq->last_avail, vq->size);
	/* The ring entry and descriptors must be read after the index that published them. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	uint16_t head = vq->avail[AVAIL_RING + vq->last_avail % vq->size];
	if (head >= vq->size)
		return vq_break(vq, "avail ring head %u beyond queue size %u", head, vq->size);
	c->head = head;
	c->nout = c->nin = 0;
	c->out_len = c->in_len = 0;
	uint16_t i = head;
	for (unsigned hops = 0;; hops++) {
		if (hops >= vq->size)
			return vq_break(vq, "chain %u loops or is longer than the queue", head);
		const volatile struct vring_desc *vd = &vq->desc[i];
		struct vring_desc d = { vd->addr, vd->len, vd->flags, vd->next };
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (d.flags & VRING_DESC_F_NEXT)
				return vq_break(vq, "chain %u: INDIRECT with NEXT", head);
			if (walk_indirect(vq, c, d.addr, d.len) < 0)
				return -EIO;
			break;
		}
		if (add_seg(vq, c, d.addr, d.len, d.flags) < 0)
			return -EIO;
		if (!(d.flags & VRING_DESC_F_NEXT))
			break;
		if (d.next >= vq->size)
			return vq_break(vq, "chain %u: next %u beyond queue size %u", head, d.next,
					vq->size);
		i = d.next;
	}
	vq->last_avail++;
	return 1;
}

void vq_unpop(struct virtqueue *vq, uint16_t n)
{
	vq->last_avail = (uint16_t)(vq->last_avail - n);
}

void vq_push(struct virtqueue *vq, uint16_t head, uint32_t len)
{
	if (!vq->ready || vq->broken)
		return;
	volatile uint32_t *e = (volatile uint32_t *)(vq->used + 2) + 2 * (vq->used_idx % vq->size);
	e[0] = head;
	e[1] = len;
	/* The entry must be visible before the index that publishes it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	vq->used_idx++;
	vq->used[USED_IDX] = vq->used_idx;
}

bool vq_should_notify(struct virtqueue *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	/* Our used index store must be visible before we read the driver's suppression. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!vq->event_idx)
		return !(vq->avail[AVAIL_FLAGS] & VRING_AVAIL_F_NO_INTERRUPT);
	uint16_t old = vq->signalled_used, now = vq->used_idx;
	bool valid = vq->signalled_valid;
	vq->signalled_used = now;
	vq->signalled_valid = true;
	if (!valid)
		return true;
	uint16_t event = vq->avail[AVAIL_RING + vq->size];
	/* vring_need_event(): did used_idx step over used_event + 1? */
	return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

/* Publish avail_event = idx, then tell whether the driver's avail index is past seen. */
static bool notify_after(struct virtqueue *vq, uint16_t idx, uint16_t seen)
{
	if (!vq->ready || vq->broken)
		return false;
	if (vq->event_idx) {
		volatile uint16_t *avail_event =
			(volatile uint16_t *)((volatile uint32_t *)(vq->used + 2) + 2 * vq->size);
		*avail_event = idx;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vq->avail[AVAIL_IDX] != seen;
}

bool vq_has_avail(const struct virtqueue *vq)
{
	return vq->ready && !vq->broken && vq->avail[AVAIL_IDX] != vq->last_avail;
}

bool vq_enable_notify(struct virtqueue *vq)
{
	if (vq->polling) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		return vq_has_avail(vq);
	}
	return notify_after(vq, vq->last_avail, vq->last_avail);
}

void vq_poll_start(struct virtqueue *vq)
{
	if (!vq->ready || vq->broken || vq->polling)
		return;
	vq->polling = true;
	/* With EVENT_IDX the avail_event we published last is left behind: the driver kicks
	 * only when its index passes it, which it already has. */
	if (!vq->event_idx)
		vq->used[USED_FLAGS] = VRING_USED_F_NO_NOTIFY;
}

bool vq_poll_stop(struct virtqueue *vq)
{
	if (!vq->polling)
		return false;
	vq->polling = false;
	if (!vq->ready || vq->broken)
		return false;
	if (!vq->event_idx)
		vq->used[USED_FLAGS] = 0;
	return notify_after(vq, vq->last_avail, vq->last_avail);
}

bool vq_enable_notify_more(struct virtqueue *vq)
{
	if (!vq->ready || vq->broken)
		return false;
	uint16_t now = vq->avail[AVAIL_IDX];
	return notify_after(vq, now, now);
}

size_t vq_copy_from(const struct vq_chain *c, size_t off, void *dst, size_t len)
{
	size_t done = 0;
	for (unsigned i = 0; i < c->nout && done < len; i++) {
		size_t l = c->iov[i].iov_len;
		if (off >= l) {
			off -= l;
			continue;
		}
		size_t n = l - off < len - done ? l - off : len - done;
		memcpy((uint8_t *)dst + done, (const uint8_t *)c->iov[i].iov_base + off, n);
		done += n;
		off = 0;
	}
	return done;
}

size_t vq_copy_to(const struct vq_chain *c, size_t off, const void *src, size_t len)
{
	size_t done = 0;
	for (unsigned i = c->nout; i < (unsigned)(c->nout + c->nin) && done < len; i++) {
		size_t l = c->iov[i].iov_len;
		if (off >= l) {
			off -= l;
			continue;
		}
		size_t n = l - off < len - done ? l - off : len - done;
		memcpy((uint8_t *)c->iov[i].iov_base + off, (const uint8_t *)src + done, n);
		done += n;
		off = 0;
	}
	return done;
}
