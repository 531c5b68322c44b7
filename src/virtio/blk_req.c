#include "virtio/blk_req.h"

#include <errno.h>
#include <string.h>

/* Copy iovecs [from, from+n) of c into r->iov, skipping `skip` bytes at the start and
 * keeping at most `keep` bytes. */
static void take_iov(struct blk_req *r, const struct vq_chain *c, unsigned from, unsigned n,
		     uint64_t skip, uint64_t keep)
{
	r->niov = 0;
	r->len = 0;
	for (unsigned i = from; i < from + n && keep; i++) {
		uint64_t l = c->iov[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		uint64_t take = l - skip < keep ? l - skip : keep;
		r->iov[r->niov++] = (struct iovec){ (uint8_t *)c->iov[i].iov_base + skip, take };
		r->len += take;
		keep -= take;
		skip = 0;
	}
}

static int range_ok(uint64_t sector, uint64_t sectors, uint64_t capacity)
{
	return sector <= capacity && sectors <= capacity - sector;
}

int blk_req_parse(const struct vq_chain *c, uint64_t capacity, struct blk_req *r)
{
	r->status = NULL;
	r->niov = 0;
	r->len = r->off = r->count = 0;
	r->zero_flags = 0;
	r->result = VIRTIO_BLK_S_OK;
	if (c->nin == 0 || c->in_len == 0)
		return -EINVAL;
	/* The status byte is the last byte of the last writable segment. */
	const struct iovec *last = &c->iov[c->nout + c->nin - 1];
	r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	uint8_t hdr[16];
	if (vq_copy_from(c, 0, hdr, sizeof(hdr)) != sizeof(hdr)) {
		r->type = ~0u;
		r->result = VIRTIO_BLK_S_IOERR;
		return 0;
	}
	uint32_t type;
	memcpy(&type, hdr, 4);
	memcpy(&r->sector, hdr + 8, 8);
	r->type = type;
	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_GET_ID:
		take_iov(r, c, c->nout, c->nin, 0, c->in_len - 1);
		break;
	case VIRTIO_BLK_T_OUT:
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		take_iov(r, c, 0, c->nout, sizeof(hdr), c->out_len - sizeof(hdr));
		break;
	case VIRTIO_BLK_T_FLUSH:
		return 0;
	default:
		r->result = VIRTIO_BLK_S_UNSUPP;
		return 0;
	}
	if (type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_OUT) {
		if (r->len % BLK_SECTOR || !range_ok(r->sector, r->len / BLK_SECTOR, capacity)) {
			r->result = VIRTIO_BLK_S_IOERR;
			return 0;
		}
		r->off = r->sector * BLK_SECTOR;
		r->count = r->len;
	} else if (type == VIRTIO_BLK_T_DISCARD || type == VIRTIO_BLK_T_WRITE_ZEROES) {
		/* One segment {le64 sector, le32 num_sectors, le32 flags} (max_*_seg is 1). */
		uint8_t seg[16];
		if (r->len != sizeof(seg) || vq_copy_from(c, sizeof(hdr), seg, sizeof(seg)) != 16) {
			r->result = VIRTIO_BLK_S_IOERR;
			return 0;
		}
		uint64_t sector;
		uint32_t n, flags;
		memcpy(&sector, seg, 8);
		memcpy(&n, seg + 8, 4);
		memcpy(&flags, seg + 12, 4);
		/* Discard takes no flags; write-zeroes only UNMAP. */
		if ((type == VIRTIO_BLK_T_DISCARD && flags) || (flags & ~1u)) {
			r->result = VIRTIO_BLK_S_UNSUPP;
			return 0;
		}
		if (!range_ok(sector, n, capacity)) {
			r->result = VIRTIO_BLK_S_IOERR;
			return 0;
		}
		r->off = sector * BLK_SECTOR;
		r->count = (uint64_t)n * BLK_SECTOR;
		r->zero_flags = flags;
	}
	return 0;
}
