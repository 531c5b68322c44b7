/*
 * g_vevil.c - a malicious virtio-blk driver. For each kind of malformed queue (looping
 * chain, buffer outside RAM, huge length, avail index far ahead, head beyond the queue,
 * readable after writable, bad indirect table, rings outside RAM) it kicks the device and
 * expects DEVICE_NEEDS_RESET plus a config interrupt (MSI-X), then resets the device and
 * checks that a good request works again, and that the virtio-rng device never stopped.
 */
#include "virtio.h"

const char guest_name[] = "vevil";

#define VEC_CFG 0x45

static volatile u32 cfg_irqs;
static struct rt_vdev blk, rng;
static struct rt_vq bq, rq;
static u8 *hdr, *buf, *st;

static void cfg_handler(struct rt_frame *f)
{
	(void)f;
	cfg_irqs++;
}

static void blk_up(bool bad_rings)
{
	if (!rt_virtio_init(&blk, VIRTIO_F_INDIRECT_DESC))
		rt_fail("blk FEATURES_OK refused");
	rt_virtio_msix(&blk, 0, VEC_CFG);
	rt_virtio_msix_enable(&blk, 0);
	if (bad_rings) {
		/* Rings far beyond RAM: enabling the queue must break the device, not the VMM. */
		mmio_write16(blk.common + 0x16, 0);
		mmio_write64(blk.common + 0x20, 0x7ff0000000ull);
		mmio_write64(blk.common + 0x28, 0x7ff0010000ull);
		mmio_write64(blk.common + 0x30, 0x7ff0020000ull);
		mmio_write16(blk.common + 0x1c, 1);
		rt_virtio_driver_ok(&blk);
		return;
	}
	if (!rt_virtio_setup_vq(&blk, &bq, 0, 16, 0xffff))
		rt_fail("blk queue setup");
	rt_virtio_driver_ok(&blk);
}

static void rng_check(void)
{
	struct rt_buf b = { (u64)buf, 16, true };
	rt_vq_add(&rq, &b, 1, false);
	rt_vq_kick(&rq);
	u16 head;
	u32 len;
	if (!rt_vq_wait(&rq, &head, &len, 3000) || len != 16)
		rt_fail("virtio-rng stopped working");
}

static void good_read(const char *after)
{
	blk_up(false);
	struct { u32 type, res; u64 sector; } *h = (void *)hdr;
	*h = (typeof(*h)){ 0, 0, 0 };
	*st = 0xee;
	struct rt_buf b[3] = { { (u64)hdr, 16, false }, { (u64)buf, 512, true }, { (u64)st, 1, true } };
	rt_vq_add(&bq, b, 3, false);
	rt_vq_kick(&bq);
	u16 head;
	u32 len;
	if (!rt_vq_wait(&bq, &head, &len, 3000) || *st != 0)
		rt_fail("after %s and a reset, a good read fails", after);
}

/* Put a raw chain starting at head into the avail ring, with avail idx advanced by `adv`. */
static void publish(u16 head, u16 adv)
{
	u16 idx = bq.avail[1];
	bq.avail[2 + idx % bq.size] = head;
	barrier();
	bq.avail[1] = (u16)(idx + adv);
	rt_vq_kick(&bq);
}

static void expect_needs_reset(const char *what)
{
	u64 end = rdtsc() + rt_tsc_hz() * 3;
	while (!(rt_virtio_status(&blk) & VIRTIO_S_NEEDS_RESET)) {
		if (rdtsc() > end)
			rt_fail("%s: no DEVICE_NEEDS_RESET", what);
		__asm__ volatile("pause");
	}
	u32 before = cfg_irqs;
	(void)before;
	end = rdtsc() + rt_tsc_hz();
	while (cfg_irqs == 0 && rdtsc() < end)
		__asm__ volatile("pause");
	if (cfg_irqs == 0)
		rt_fail("%s: no configuration interrupt", what);
	cfg_irqs = 0;
	rt_printf("vevil: %s: NEEDS_RESET\n", what);
	rng_check();
	rt_virtio_set_status(&blk, 0);
	good_read(what);
}

void guest_main(void)
{
	if (!rt_virtio_find(&blk, VIRTIO_ID_BLK, 0) || !rt_virtio_find(&rng, VIRTIO_ID_RNG, 0))
		rt_fail("need a virtio-blk and a virtio-rng device");
	rt_set_handler(VEC_CFG, cfg_handler);
	sti();
	hdr = rt_dma_alloc(64, 64);
	buf = rt_dma_alloc(4096, 4096);
	st = rt_dma_alloc(64, 64);
	if (!rt_virtio_init(&rng, 0) || !rt_virtio_setup_vq(&rng, &rq, 0, 16, 0xffff))
		rt_fail("rng setup");
	rt_virtio_driver_ok(&rng);
	good_read("start");

	volatile struct vring_desc *d;
	d = bq.desc;
	d[0] = (struct vring_desc){ (u64)hdr, 16, VRING_F_NEXT, 1 };
	d[1] = (struct vring_desc){ (u64)buf, 512, VRING_F_NEXT, 0 };
	publish(0, 1);
	expect_needs_reset("looping chain");

	d = bq.desc;
	d[0] = (struct vring_desc){ 0xfffffffff000ull, 4096, 0, 0 };
	publish(0, 1);
	expect_needs_reset("buffer outside RAM");

	d = bq.desc;
	d[0] = (struct vring_desc){ (u64)hdr, 0xfffffff0u, VRING_F_WRITE, 0 };
	publish(0, 1);
	expect_needs_reset("huge length");

	publish(0, 200);
	expect_needs_reset("avail index far ahead");

	publish(99, 1);
	expect_needs_reset("head beyond the queue");

	d = bq.desc;
	d[0] = (struct vring_desc){ (u64)st, 1, VRING_F_WRITE | VRING_F_NEXT, 1 };
	d[1] = (struct vring_desc){ (u64)hdr, 16, 0, 0 };
	publish(0, 1);
	expect_needs_reset("readable after writable");

	struct vring_desc *t = rt_dma_alloc(32, 16);
	t[0] = (struct vring_desc){ (u64)hdr, 16, VRING_F_NEXT, 7 };
	d = bq.desc;
	d[0] = (struct vring_desc){ (u64)t, 32, VRING_F_INDIRECT, 0 };
	publish(0, 1);
	expect_needs_reset("bad indirect table");

	d = bq.desc;
	d[0] = (struct vring_desc){ (u64)hdr, 16, 0, 0 };
	publish(0, 1);
	expect_needs_reset("request without a status byte");

	rt_virtio_set_status(&blk, 0);
	blk_up(true);
	expect_needs_reset("rings outside RAM");
	cli();
}
