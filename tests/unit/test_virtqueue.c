/* The virtqueue walker against crafted rings: well-formed chains, and every way a malicious
 * driver can lie (loops, out-of-RAM and wrapping buffers, huge lengths, bad indices, wrong
 * directions, bad indirect tables). A broken queue stays broken and never touches memory
 * outside the fake guest RAM (ASan watches that in `make SAN=1 unit`). */
#include "unit.h"

#include <errno.h>
#include <stdint.h>

#include "virtio/virtqueue.h"
#include "vring_ram.h"

static struct vq_chain chain;

static void setup(struct virtqueue *vq, bool event_idx, bool indirect)
{
	ram_reset();
	memset(vq, 0, sizeof(*vq));
	vq->name = "test.q0";
	vq->size = QSZ;
	vq->desc_gpa = DESC;
	vq->avail_gpa = AVAIL;
	vq->used_gpa = USED;
	CHECK_EQ(vq_enable(vq, &mem, event_idx, indirect), 0);
}

static void set_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*desc(i) = (struct vring_desc){ addr, len, flags, next };
}

static void offer(uint16_t head)
{
	uint16_t idx = avail()[1];
	avail()[2 + idx % QSZ] = head;
	avail()[1] = (uint16_t)(idx + 1);
}

static void test_good_chain(void)
{
	struct virtqueue vq;
	setup(&vq, false, false);
	CHECK_EQ(vq_pop(&vq, &chain), 0);
	set_desc(0, BUF, 16, VRING_DESC_F_NEXT, 3);
	set_desc(3, BUF + 0x100, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 5);
	set_desc(5, BUF + 0x400, 1, VRING_DESC_F_WRITE, 0);
	memcpy(ram + BUF, "0123456789abcdef", 16);
	offer(0);
	CHECK_EQ(vq_pop(&vq, &chain), 1);
	CHECK_EQ(chain.head, 0);
	CHECK_EQ(chain.nout, 1);
	CHECK_EQ(chain.nin, 2);
	CHECK_EQ(chain.out_len, 16);
	CHECK_EQ(chain.in_len, 513);
	CHECK(chain.iov[0].iov_base == ram + BUF);
	char tmp[8];
	CHECK_EQ(vq_copy_from(&chain, 10, tmp, 8), 6);
	CHECK(!memcmp(tmp, "abcdef", 6));
	uint8_t src[600];
	memset(src, 0x5A, sizeof(src));
	CHECK_EQ(vq_copy_to(&chain, 500, src, 20), 13);
	CHECK_EQ(ram[BUF + 0x100 + 511], 0x5A);
	CHECK_EQ(ram[BUF + 0x400], 0x5A);
	CHECK_EQ(vq_pop(&vq, &chain), 0);
	vq_push(&vq, 0, 513);
	CHECK_EQ(used16()[1], 1);
	uint32_t *ue = (uint32_t *)(ram + USED + 4);
	CHECK_EQ(ue[0], 0);
	CHECK_EQ(ue[1], 513);
	CHECK(vq_should_notify(&vq));
	avail()[0] = VRING_AVAIL_F_NO_INTERRUPT;
	CHECK(!vq_should_notify(&vq));
	/* Wrap the 16-bit indices. */
	vq.last_avail = 0xFFFF;
	avail()[1] = 0xFFFF;
	offer(5);
	CHECK_EQ(vq_pop(&vq, &chain), 1);
	CHECK_EQ(chain.head, 5);
	CHECK_EQ(vq.last_avail, 0);
	CHECK(!vq.broken);
}

static void expect_broken(struct virtqueue *vq, const char *what)
{
	int r = vq_pop(vq, &chain);
	if (r != -EIO || !vq->broken)
		fprintf(stderr, "not caught: %s\n", what);
	CHECK_EQ(r, -EIO);
	CHECK(vq->broken);
	CHECK_EQ(vq_pop(vq, &chain), -EIO); /* stays broken */
	vq_push(vq, 0, 0);                  /* ignored */
	CHECK_EQ(used16()[1], 0);
}

static void test_loops(void)
{
	struct virtqueue vq;
	setup(&vq, false, false);
	set_desc(0, BUF, 16, VRING_DESC_F_NEXT, 1);
	set_desc(1, BUF, 16, VRING_DESC_F_NEXT, 0);
	offer(0);
	expect_broken(&vq, "two-descriptor loop");
	setup(&vq, false, false);
	set_desc(2, BUF, 16, VRING_DESC_F_NEXT, 2);
	offer(2);
	expect_broken(&vq, "self loop");
}

static void test_bad_addresses(void)
{
	struct virtqueue vq;
	setup(&vq, false, false);
	set_desc(0, RAM_SIZE - 8, 16, 0, 0);
	offer(0);
	expect_broken(&vq, "buffer past the end of RAM");
	setup(&vq, false, false);
	set_desc(0, 0xFFFFFFFFFFFFF000ull, 0x2000, 0, 0);
	offer(0);
	expect_broken(&vq, "wrapping address");
	setup(&vq, false, false);
	set_desc(0, BUF, 0xFFFFFFFFu, VRING_DESC_F_WRITE, 0);
	offer(0);
	expect_broken(&vq, "huge length");
	setup(&vq, false, false);
	set_desc(0, 0x40000000, 16, 0, 0);
	offer(0);
	expect_broken(&vq, "address beyond RAM");
	/* Zero-length buffers are skipped, not mapped. */
	setup(&vq, false, false);
	set_desc(0, 0xFFFFFFFFFFFFFFF0ull, 0, VRING_DESC_F_NEXT, 1);
	set_desc(1, BUF, 4, 0, 0);
	offer(0);
	CHECK_EQ(vq_pop(&vq, &chain), 1);
	CHECK_EQ(chain.nout, 1);
}

static void test_bad_indices(void)
{
	struct virtqueue vq;
	setup(&vq, false, false);
	avail()[1] = QSZ + 1;
	expect_broken(&vq, "avail index too far ahead");
	setup(&vq, false, false);
	avail()[2] = QSZ;
	avail()[1] = 1;
	expect_broken(&vq, "head beyond the queue");
	setup(&vq, false, false);
	set_desc(0, BUF, 4, VRING_DESC_F_NEXT, 200);
	offer(0);
	expect_broken(&vq, "next beyond the queue");
	/* Exactly a full ring is fine. */
	setup(&vq, false, false);
	for (unsigned i = 0; i < QSZ; i++) {
		set_desc(i, BUF, 4, 0, 0);
		offer((uint16_t)i);
	}
	for (unsigned i = 0; i < QSZ; i++)
		CHECK_EQ(vq_pop(&vq, &chain), 1);
	CHECK_EQ(vq_pop(&vq, &chain), 0);
}

static void test_direction(void)
{
	struct virtqueue vq;
	setup(&vq, false, false);
	set_desc(0, BUF, 4, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1);
	set_desc(1, BUF, 4, 0, 0);
	offer(0);
	expect_broken(&vq, "readable after writable");
}

static void test_indirect(void)
{
	struct virtqueue vq;
	struct vring_desc *t = (struct vring_desc *)(ram + 0x8000);
	setup(&vq, false, true);
	t[0] = (struct vring_desc){ BUF, 16, VRING_DESC_F_NEXT, 2 };
	t[2] = (struct vring_desc){ BUF + 64, 32, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 1 };
	t[1] = (struct vring_desc){ BUF + 128, 1, VRING_DESC_F_WRITE, 0 };
	set_desc(4, 0x8000, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(4);
	CHECK_EQ(vq_pop(&vq, &chain), 1);
	CHECK_EQ(chain.head, 4);
	CHECK_EQ(chain.nout, 1);
	CHECK_EQ(chain.nin, 2);
	CHECK_EQ(chain.in_len, 33);

	setup(&vq, false, false);
	set_desc(4, 0x8000, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(4);
	expect_broken(&vq, "indirect not negotiated");

	struct { uint32_t len; uint16_t flags; const char *what; } bad[] = {
		{ 0, VRING_DESC_F_INDIRECT, "empty table" },
		{ 40, VRING_DESC_F_INDIRECT, "length not a multiple of 16" },
		{ 16 * (VQ_MAX_SEGS + 1), VRING_DESC_F_INDIRECT, "too many entries" },
		{ 48, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, "INDIRECT with NEXT" },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup(&vq, false, true);
		set_desc(4, 0x8000, bad[i].len, bad[i].flags, 5);
		set_desc(5, BUF, 4, 0, 0);
		offer(4);
		expect_broken(&vq, bad[i].what);
	}
	setup(&vq, false, true);
	t[0] = (struct vring_desc){ BUF, 16, VRING_DESC_F_NEXT, 1 };
	t[1] = (struct vring_desc){ BUF, 16, VRING_DESC_F_NEXT, 0 };
	set_desc(4, 0x8000, 2 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(4);
	expect_broken(&vq, "indirect loop");
	setup(&vq, false, true);
	t[0] = (struct vring_desc){ 0x8000, 16, VRING_DESC_F_INDIRECT, 0 };
	set_desc(4, 0x8000, 16, VRING_DESC_F_INDIRECT, 0);
	offer(4);
	expect_broken(&vq, "nested indirect");
	setup(&vq, false, true);
	t[0] = (struct vring_desc){ BUF, 16, VRING_DESC_F_NEXT, 9 };
	set_desc(4, 0x8000, 2 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(4);
	expect_broken(&vq, "indirect next beyond the table");
	setup(&vq, false, true);
	set_desc(4, RAM_SIZE - 16, 32, VRING_DESC_F_INDIRECT, 0);
	offer(4);
	expect_broken(&vq, "indirect table outside RAM");
}

static void test_enable(void)
{
	struct virtqueue vq;
	setup(&vq, false, false);
	vq_reset(&vq);
	CHECK(vq.name != NULL);
	vq.size = 6;
	CHECK_EQ(vq_enable(&vq, &mem, false, false), -EINVAL);
	vq_reset(&vq);
	vq.size = QSZ;
	vq.desc_gpa = RAM_SIZE - 64;
	vq.avail_gpa = AVAIL;
	vq.used_gpa = USED;
	CHECK_EQ(vq_enable(&vq, &mem, false, false), -EFAULT);
	CHECK(vq.broken);
	vq_reset(&vq);
	vq.size = QSZ;
	vq.desc_gpa = DESC + 8;
	vq.avail_gpa = AVAIL;
	vq.used_gpa = USED;
	CHECK_EQ(vq_enable(&vq, &mem, false, false), -EFAULT);
	vq_reset(&vq);
	CHECK_EQ(vq_pop(&vq, &chain), 0); /* not ready: nothing, not an error */
}

static void test_event_idx(void)
{
	struct virtqueue vq;
	setup(&vq, true, false);
	uint16_t *used_event = &avail()[2 + QSZ];
	uint16_t *avail_event = (uint16_t *)(ram + USED + 4 + 8 * QSZ);
	for (unsigned i = 0; i < 4; i++) {
		set_desc(i, BUF, 4, 0, 0);
		offer((uint16_t)i);
	}
	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(vq_pop(&vq, &chain), 1);
	CHECK(!vq_enable_notify(&vq));
	CHECK_EQ(*avail_event, 4);
	offer(0);
	CHECK(vq_enable_notify(&vq)); /* raced: more arrived */
	/* A device that needs more chains than are there puts them back; the kick it asks for
	 * must come with the next chain the driver adds, not with one already offered. */
	CHECK_EQ(vq_pop(&vq, &chain), 1);
	vq_unpop(&vq, 1);
	CHECK(!vq_enable_notify_more(&vq));
	CHECK_EQ(*avail_event, 5);
	uint16_t old_idx = avail()[1];
	offer(1);
	/* The driver's vring_need_event(avail_event, new, old) says kick; with avail_event at
	 * last_avail (4), as vq_enable_notify() would set it, it would not. */
	uint16_t now = avail()[1];
	CHECK((uint16_t)(now - *avail_event - 1) < (uint16_t)(now - old_idx));
	CHECK(!((uint16_t)(now - vq.last_avail - 1) < (uint16_t)(now - old_idx)));
	*used_event = 1; /* driver: interrupt once used passes 1 */
	vq_push(&vq, 0, 0);
	CHECK(vq_should_notify(&vq)); /* the first one always */
	vq_push(&vq, 1, 0);
	CHECK(vq_should_notify(&vq)); /* used went 1 -> 2, past used_event 1 */
	vq_push(&vq, 2, 0);
	CHECK(!vq_should_notify(&vq));
	*used_event = 5;
	vq_push(&vq, 3, 0);
	CHECK(!vq_should_notify(&vq));
}

/* Polling: kicks suppressed while it lasts, asked for again (and a race caught) when it ends. */
static void test_polling(void)
{
	struct virtqueue vq;
	for (int ev = 0; ev < 2; ev++) {
		setup(&vq, ev, false);
		uint16_t *avail_event = (uint16_t *)(ram + USED + 4 + 8 * QSZ);
		set_desc(0, BUF, 4, 0, 0);
		offer(0);
		CHECK_EQ(vq_pop(&vq, &chain), 1);
		CHECK(!vq_enable_notify(&vq));
		CHECK_EQ(used16()[0], 0);
		vq_poll_start(&vq);
		CHECK(vq.polling);
		/* Without EVENT_IDX the driver sees NO_NOTIFY; with it, avail_event stays behind. */
		CHECK_EQ(used16()[0], ev ? 0 : VRING_USED_F_NO_NOTIFY);
		CHECK(!vq_has_avail(&vq));
		offer(0);
		offer(0);
		CHECK(vq_has_avail(&vq));
		CHECK_EQ(vq_pop(&vq, &chain), 1);
		/* While polling, enable_notify only looks: nothing is published. */
		CHECK(vq_enable_notify(&vq));
		if (ev)
			CHECK_EQ(*avail_event, 1);
		CHECK_EQ(vq_pop(&vq, &chain), 1);
		CHECK(!vq_enable_notify(&vq));
		CHECK_EQ(used16()[0], ev ? 0 : VRING_USED_F_NO_NOTIFY);
		/* The driver adds one as polling ends: stop reports it. */
		offer(0);
		CHECK(vq_poll_stop(&vq));
		CHECK(!vq.polling);
		CHECK_EQ(used16()[0], 0);
		if (ev)
			CHECK_EQ(*avail_event, 3);
		CHECK(!vq_poll_stop(&vq)); /* not polling: nothing to do */
		/* A broken queue neither polls nor writes the ring. */
		vq.broken = true;
		vq_poll_start(&vq);
		CHECK(!vq.polling);
		CHECK(!vq_has_avail(&vq));
	}
}

UNIT_MAIN(test_good_chain, test_loops, test_bad_addresses, test_bad_indices, test_direction,
	  test_indirect, test_enable, test_event_idx, test_polling)
