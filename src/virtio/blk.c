#include "virtio/blk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/log.h"

#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14
#define VIRTIO_BLK_ID_PCI_CLASS 0x018000 /* mass storage, other */

/* Device configuration layout (5.2.4). */
#define CFG_CAPACITY 0
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
#define CFG_WRITEBACK 32
#define CFG_NUM_QUEUES 34
#define CFG_MAX_DISCARD_SECTORS 36
#define CFG_MAX_DISCARD_SEG 40
#define CFG_DISCARD_ALIGN 44
#define CFG_MAX_WZ_SECTORS 48
#define CFG_MAX_WZ_SEG 52
#define CFG_WZ_MAY_UNMAP 56
#define MAX_DISCARD_SECTORS 0x400000u /* 2 GiB per request */

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void blk_cfg_read(void *ctx, unsigned off, void *buf, unsigned len)
{
	struct virtio_blk *b = ctx;
	memcpy(buf, b->cfg + off, len);
}

/* Answer a request: status byte, used entry. Lock held. */
static void complete(struct virtio_blk *b, struct blk_req *r, uint16_t head, uint8_t status,
		     uint32_t written)
{
	if (r->status)
		*r->status = status;
	if (status != VIRTIO_BLK_S_OK)
		b->errors++;
	vq_push(virtio_pci_vq(&b->vp, 0), head, written + 1);
}

static void io_done(void *ctx, void *tag, int64_t res)
{
	struct virtio_blk *b = ctx;
	struct virtio_blk_slot *s = tag;
	struct blk_req *r = &s->req;
	if (res == -EOPNOTSUPP) {
		/* Discard is only a hint; zeroing must happen, by writing if need be. */
		if (r->type == VIRTIO_BLK_T_DISCARD)
			res = 0;
		else if (r->type == VIRTIO_BLK_T_WRITE_ZEROES)
			res = block_zero_fill(&b->disk, r->off, r->count);
	}
	bool ok = res >= 0 && (r->type == VIRTIO_BLK_T_FLUSH || r->type == VIRTIO_BLK_T_DISCARD ||
			       r->type == VIRTIO_BLK_T_WRITE_ZEROES || (uint64_t)res == r->len);
	if (!ok)
		log_debug("%s: request type %u at sector %llu: %s", b->vp.name, r->type,
			  (unsigned long long)r->sector,
			  res < 0 ? strerror((int)-res) : "short transfer");
	complete(b, r, s->head, ok ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR,
		 ok && r->type == VIRTIO_BLK_T_IN ? (uint32_t)r->len : 0);
	b->free_slots[b->nfree++] = (uint16_t)(s - b->slots);
	b->inflight--;
	if (!b->inflight)
		pthread_cond_broadcast(&b->drained);
}

static void io_event(void *ctx, uint32_t events)
{
	struct virtio_blk *b = ctx;
	(void)events;
	virtio_pci_lock(&b->vp);
	block_aio_poll(&b->disk);
	virtio_pci_notify(&b->vp, 0);
	virtio_pci_unlock(&b->vp);
}

/* Start one parsed request; returns true when it went to the disk (completes later). */
static bool start(struct virtio_blk *b, struct virtio_blk_slot *s)
{
	struct blk_req *r = &s->req;
	struct block_req d = { .off = r->off, .len = r->count, .iov = r->iov, .iovcnt = r->niov,
			      .tag = s };
	bool writes = r->type == VIRTIO_BLK_T_OUT || r->type == VIRTIO_BLK_T_DISCARD ||
		      r->type == VIRTIO_BLK_T_WRITE_ZEROES;
	if (r->result != VIRTIO_BLK_S_OK || (writes && b->disk.readonly)) {
		complete(b, r, s->head, r->result != VIRTIO_BLK_S_OK ? r->result
								       : VIRTIO_BLK_S_IOERR, 0);
		return false;
	}
	switch (r->type) {
	case VIRTIO_BLK_T_GET_ID: {
		size_t n = r->len < sizeof(b->serial) ? r->len : sizeof(b->serial);
		size_t done = 0;
		for (unsigned i = 0; i < r->niov && done < n; i++) {
			size_t l = r->iov[i].iov_len < n - done ? r->iov[i].iov_len : n - done;
			memcpy(r->iov[i].iov_base, b->serial + done, l);
			done += l;
		}
		complete(b, r, s->head, VIRTIO_BLK_S_OK, (uint32_t)done);
		return false;
	}
	case VIRTIO_BLK_T_IN:
		d.op = BLOCK_READ;
		break;
	case VIRTIO_BLK_T_OUT:
		d.op = BLOCK_WRITE;
		break;
	case VIRTIO_BLK_T_FLUSH:
		d.op = BLOCK_FLUSH;
		break;
	case VIRTIO_BLK_T_DISCARD:
		d.op = BLOCK_PUNCH;
		break;
	default: /* WRITE_ZEROES; UNMAP may leave a hole, which reads as zeros */
		d.op = r->zero_flags & 1 ? BLOCK_PUNCH : BLOCK_ZERO;
		break;
	}
	if ((r->type == VIRTIO_BLK_T_IN || r->type == VIRTIO_BLK_T_OUT) && r->len == 0) {
		complete(b, r, s->head, VIRTIO_BLK_S_OK, 0);
		return false;
	}
	if (block_aio_queue(&b->disk, &d) < 0) {
		complete(b, r, s->head, VIRTIO_BLK_S_IOERR, 0);
		return false;
	}
	return true;
}

static void blk_kick(void *ctx, unsigned q)
{
	struct virtio_blk *b = ctx;
	struct virtqueue *vq = virtio_pci_vq(&b->vp, q);
	bool answered = false;
	for (;;) {
		while (b->nfree) {
			int got = vq_pop(vq, &b->chain);
			if (got < 0) {
				virtio_pci_set_needs_reset(&b->vp);
				goto out;
			}
			if (got == 0)
				break;
			b->requests++;
			uint16_t idx = b->free_slots[--b->nfree];
			struct virtio_blk_slot *s = &b->slots[idx];
			s->head = b->chain.head;
			if (blk_req_parse(&b->chain, b->capacity, &s->req) < 0) {
				/* No status byte to answer with: the driver is broken. */
				b->free_slots[b->nfree++] = idx;
				log_warn("%s: request without a status byte", b->vp.name);
				virtio_pci_set_needs_reset(&b->vp);
				goto out;
			}
			if (start(b, s)) {
				b->inflight++;
				/* Done in-line (a memory-backed image): give it back now, so the
				 * driver can reuse it while the next one is copied. */
				if (b->disk.nr_sync_done && block_aio_poll(&b->disk))
					answered = true;
			} else {
				b->free_slots[b->nfree++] = idx;
				answered = true;
			}
		}
		if (!b->nfree || !vq_enable_notify(vq))
			break;
	}
out:
	block_aio_submit(&b->disk);
	/* What finished during submission completes now, not one event-loop trip later. */
	if (block_aio_poll(&b->disk) || answered)
		virtio_pci_notify(&b->vp, q);
}

static void blk_reset(void *ctx)
{
	struct virtio_blk *b = ctx;
	/* Requests already at the disk write guest memory when they finish: wait for them. */
	virtio_pci_lock(&b->vp);
	while (b->inflight)
		pthread_cond_wait(&b->drained, &b->vp.lock);
	virtio_pci_unlock(&b->vp);
}

static const struct virtio_dev_ops blk_ops = {
	.device_id = 2,
	.pci_class = VIRTIO_BLK_ID_PCI_CLASS,
	.cfg_read = blk_cfg_read,
	.kick = blk_kick,
	.reset = blk_reset,
};

int virtio_blk_init(struct virtio_blk *b, const char *name, const char *path, bool readonly,
		    const char *serial, const struct virtio_env *env, const struct msi_sink *msi,
		    char *err, size_t errlen)
{
	memset(b, 0, sizeof(*b));
	b->disk.fd = b->disk.event_fd = b->disk.dfd = -1;
	pthread_cond_init(&b->drained, NULL);
	int r = block_open(&b->disk, path, readonly ? BLOCK_READONLY : 0, err, errlen);
	if (r < 0)
		return r;
	b->capacity = b->disk.size / BLK_SECTOR;
	/* GET_ID: up to 20 bytes, NUL-padded only when shorter (5.2.6). */
	const char *id = serial ? serial : name;
	memcpy(b->serial, id, strnlen(id, sizeof(b->serial)));
	b->slots = calloc(VIRTIO_BLK_QUEUE_SIZE, sizeof(*b->slots));
	b->free_slots = calloc(VIRTIO_BLK_QUEUE_SIZE, sizeof(*b->free_slots));
	if (!b->slots || !b->free_slots) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < VIRTIO_BLK_QUEUE_SIZE; i++)
		b->free_slots[b->nfree++] = (uint16_t)(VIRTIO_BLK_QUEUE_SIZE - 1 - i);
	int e = block_aio_init(&b->disk, VIRTIO_BLK_QUEUE_SIZE, io_done, b);
	if (e < 0) {
		snprintf(err, errlen, "image %s: I/O setup: %s", path, strerror(-e));
		return e;
	}

	memcpy(b->cfg + CFG_CAPACITY, &b->capacity, 8);
	put32(b->cfg + CFG_SEG_MAX, VQ_MAX_SEGS - 2);
	put32(b->cfg + CFG_BLK_SIZE, 512);
	b->cfg[CFG_WRITEBACK] = 1;
	b->cfg[CFG_NUM_QUEUES] = 1;
	uint64_t features = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
			    1ull << VIRTIO_BLK_F_FLUSH;
	if (readonly) {
		features |= 1ull << VIRTIO_BLK_F_RO;
	} else {
		features |= 1ull << VIRTIO_BLK_F_DISCARD | 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
		put32(b->cfg + CFG_MAX_DISCARD_SECTORS, MAX_DISCARD_SECTORS);
		put32(b->cfg + CFG_MAX_DISCARD_SEG, 1);
		put32(b->cfg + CFG_DISCARD_ALIGN, 8);
		put32(b->cfg + CFG_MAX_WZ_SECTORS, MAX_DISCARD_SECTORS);
		put32(b->cfg + CFG_MAX_WZ_SEG, 1);
		b->cfg[CFG_WZ_MAY_UNMAP] = 1;
	}
	e = virtio_pci_init(&b->vp, name, &blk_ops, b, features, 1, VIRTIO_BLK_QUEUE_SIZE,
			    VIRTIO_BLK_CFG_SIZE, env, msi);
	if (e < 0) {
		snprintf(err, errlen, "%s: %s", name, strerror(-e));
		return e;
	}
	if (env->loop) {
		e = virtio_pci_poll_queue(&b->vp, 0);
		if (!e)
			e = evl_add(env->loop, block_aio_event_fd(&b->disk), EPOLLIN, io_event, b);
		if (e < 0) {
			snprintf(err, errlen, "%s: %s", name, strerror(-e));
			return e;
		}
		b->io_watched = true;
	}
	return 0;
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	if (b->vp.ops)
		blk_reset(b); /* let requests at the disk finish before their memory goes */
	if (b->io_watched)
		evl_del(b->vp.env.loop, block_aio_event_fd(&b->disk));
	b->io_watched = false;
	if (b->vp.ops)
		virtio_pci_destroy(&b->vp);
	block_close(&b->disk);
	free(b->slots);
	free(b->free_slots);
	b->slots = NULL;
	b->free_slots = NULL;
	pthread_cond_destroy(&b->drained);
}
