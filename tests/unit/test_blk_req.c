/* virtio-blk request parsing on crafted chains: split headers, data and status placement,
 * range checks with overflow, discard segments, chains without a status byte. */
#include "unit.h"

#include <errno.h>
#include <stdint.h>

#include "virtio/blk_req.h"

static uint8_t mem[65536];

static void chain_set(struct vq_chain *c, unsigned nout, unsigned nin, const uint32_t *lens)
{
	memset(c, 0, sizeof(*c));
	uint32_t off = 0;
	for (unsigned i = 0; i < nout + nin; i++) {
		c->iov[i] = (struct iovec){ mem + off, lens[i] };
		off += lens[i];
		if (i < nout)
			c->out_len += lens[i];
		else
			c->in_len += lens[i];
	}
	c->nout = (uint16_t)nout;
	c->nin = (uint16_t)nin;
}

static void hdr(uint32_t type, uint64_t sector)
{
	memcpy(mem, &type, 4);
	memset(mem + 4, 0, 4);
	memcpy(mem + 8, &sector, 8);
}

static void test_read_write(void)
{
	struct vq_chain c;
	struct blk_req r;
	hdr(VIRTIO_BLK_T_IN, 10);
	chain_set(&c, 1, 2, (uint32_t[]){ 16, 4096, 1 });
	CHECK_EQ(blk_req_parse(&c, 100, &r), 0);
	CHECK_EQ(r.result, VIRTIO_BLK_S_OK);
	CHECK_EQ(r.off, 5120);
	CHECK_EQ(r.len, 4096);
	CHECK_EQ(r.niov, 1);
	CHECK(r.status == mem + 16 + 4096);
	/* Header split over two readable segments, data and status in one writable one. */
	hdr(VIRTIO_BLK_T_IN, 0);
	chain_set(&c, 2, 1, (uint32_t[]){ 7, 9, 513 });
	CHECK_EQ(blk_req_parse(&c, 100, &r), 0);
	CHECK_EQ(r.len, 512);
	CHECK(r.status == mem + 16 + 512);
	/* OUT: data after the header in the same segment. */
	hdr(VIRTIO_BLK_T_OUT, 99);
	chain_set(&c, 1, 1, (uint32_t[]){ 16 + 512, 1 });
	CHECK_EQ(blk_req_parse(&c, 100, &r), 0);
	CHECK_EQ(r.result, VIRTIO_BLK_S_OK);
	CHECK(r.iov[0].iov_base == mem + 16);
	CHECK_EQ(r.len, 512);
	/* Past the end, straddling, huge sectors, odd lengths: IOERR. */
	hdr(VIRTIO_BLK_T_OUT, 100);
	CHECK_EQ(blk_req_parse(&c, 100, &r), 0);
	CHECK_EQ(r.result, VIRTIO_BLK_S_IOERR);
	hdr(VIRTIO_BLK_T_IN, UINT64_MAX);
	chain_set(&c, 1, 2, (uint32_t[]){ 16, 4096, 1 });
	CHECK_EQ(blk_req_parse(&c, 100, &r), 0);
	CHECK_EQ(r.result, VIRTIO_BLK_S_IOERR);
	hdr(VIRTIO_BLK_T_IN, 0);
	chain_set(&c, 1, 2, (uint32_t[]){ 16, 100, 1 });
	CHECK_EQ(blk_req_parse(&c, 100, &r), 0);
	CHECK_EQ(r.result, VIRTIO_BLK_S_IOERR);
	/* A short header. */
	chain_set(&c, 1, 1, (uint32_t[]){ 8, 1 });
	CHECK_EQ(blk_req_parse(&c, 100, &r), 0);
	CHECK_EQ(r.result, VIRTIO_BLK_S_IOERR);
	/* Unknown type. */
	hdr(77, 0);
	chain_set(&c, 1, 1, (uint32_t[]){ 16, 1 });
	CHECK_EQ(blk_req_parse(&c, 100, &r), 0);
	CHECK_EQ(r.result, VIRTIO_BLK_S_UNSUPP);
	/* No writable byte for the status: cannot be answered. */
	hdr(VIRTIO_BLK_T_FLUSH, 0);
	chain_set(&c, 1, 0, (uint32_t[]){ 16 });
	CHECK_EQ(blk_req_parse(&c, 100, &r), -EINVAL);
}

static void test_discard(void)
{
	struct vq_chain c;
	struct blk_req r;
	struct { uint64_t sector; uint32_t n, flags; } seg = { 8, 16, 0 };
	hdr(VIRTIO_BLK_T_DISCARD, 0);
	memcpy(mem + 16, &seg, 16);
	chain_set(&c, 1, 1, (uint32_t[]){ 32, 1 });
	CHECK_EQ(blk_req_parse(&c, 100, &r), 0);
	CHECK_EQ(r.result, VIRTIO_BLK_S_OK);
	CHECK_EQ(r.off, 4096);
	CHECK_EQ(r.count, 8192);
	seg.flags = 1; /* UNMAP is for write-zeroes only */
	memcpy(mem + 16, &seg, 16);
	CHECK_EQ(blk_req_parse(&c, 100, &r), 0);
	CHECK_EQ(r.result, VIRTIO_BLK_S_UNSUPP);
	hdr(VIRTIO_BLK_T_WRITE_ZEROES, 0);
	CHECK_EQ(blk_req_parse(&c, 100, &r), 0);
	CHECK_EQ(r.result, VIRTIO_BLK_S_OK);
	CHECK_EQ(r.zero_flags, 1);
	seg = (typeof(seg)){ 90, 20, 0 };
	memcpy(mem + 16, &seg, 16);
	CHECK_EQ(blk_req_parse(&c, 100, &r), 0);
	CHECK_EQ(r.result, VIRTIO_BLK_S_IOERR);
	/* Two segments: more than max_discard_seg. */
	hdr(VIRTIO_BLK_T_DISCARD, 0);
	chain_set(&c, 1, 1, (uint32_t[]){ 48, 1 });
	CHECK_EQ(blk_req_parse(&c, 100, &r), 0);
	CHECK_EQ(r.result, VIRTIO_BLK_S_IOERR);
}

UNIT_MAIN(test_read_write, test_discard)
