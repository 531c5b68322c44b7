/*
 * g_vblk.c - virtio-blk through the guest's own virtio-pci driver: capacity, GET_ID,
 * 32 concurrent 4 KiB writes, FLUSH, read-back with checksums, an indirect request,
 * DISCARD and WRITE_ZEROES reading back zeros, an out-of-range read failing with IOERR, and
 * a marker the host checks in the image. With ro=1: RO is offered, reads work, writes fail.
 * cmdline: nth= device index (0), serial= expected GET_ID, sectors= expected capacity,
 * ro=1, intx=1 (use INTx + ISR instead of MSI-X), discard=zero (default: the discarded block
 * must read back as zeros, i.e. the host punched a hole) | keep (the host's file system cannot
 * punch holes: the block must keep its data) | any (either; only where neither can be known).
 * Data layout (host test relies on it): sector 8*i..8*i+7 (i < 32) hold byte (i*7 + j) & 0xff
 * at offset j of the 4 KiB block, except blocks 0 and 1 (discarded / zeroed); sector 512
 * holds "DOMUS-VBLK-MARKER".
 */
#include "virtio.h"

const char guest_name[] = "vblk";

#define F_RO (1ull << 5)
#define F_BLK_SIZE (1ull << 6)
#define F_FLUSH (1ull << 9)
#define F_DISCARD (1ull << 13)
#define F_WZ (1ull << 14)
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WZ 13
#define NREQ 32
#define VEC_MSIX 0x41

struct hdr {
	u32 type, reserved;
	u64 sector;
};

static struct rt_vdev dev;
static struct rt_vq vq;
static volatile u32 irqs;
static bool use_intx;
static u8 intx_line;

static void msix_handler(struct rt_frame *f)
{
	(void)f;
	irqs++;
}

static void intx_handler(struct rt_frame *f)
{
	(void)f;
	if (mmio_read8(dev.isr) & 1)
		irqs++;
}

static struct hdr *hdrs;
static u8 *status;
static u8 *data;

/* One request: header, optional data, status. Returns the status byte. */
static u8 request(u32 type, u64 sector, void *buf, u32 len, bool dev_writes, bool indirect)
{
	struct hdr *h = &hdrs[0];
	h->type = type;
	h->reserved = 0;
	h->sector = sector;
	status[0] = 0xee;
	struct rt_buf b[3];
	unsigned n = 0;
	b[n++] = (struct rt_buf){ (u64)h, sizeof(*h), false };
	if (len)
		b[n++] = (struct rt_buf){ (u64)buf, len, dev_writes };
	b[n++] = (struct rt_buf){ (u64)status, 1, true };
	if (rt_vq_add(&vq, b, n, indirect) < 0)
		rt_fail("ring full");
	rt_vq_kick(&vq);
	u16 head;
	u32 got;
	if (!rt_vq_wait(&vq, &head, &got, 5000))
		rt_fail("request type %u sector %lu: no answer", type, sector);
	return status[0];
}

static u32 csum(const u8 *p, u64 n)
{
	u32 a = 1, b = 0;
	for (u64 i = 0; i < n; i++) {
		a = (a + p[i]) % 65521;
		b = (b + a) % 65521;
	}
	return b << 16 | a;
}

static void fill(u8 *p, unsigned i)
{
	for (unsigned j = 0; j < 4096; j++)
		p[j] = (u8)(i * 7 + j);
}

static bool all_zero(const u8 *p, u64 n)
{
	for (u64 i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

void guest_main(void)
{
	unsigned nth = (unsigned)rt_cmdline_u64("nth", 0);
	bool ro = rt_cmdline_u64("ro", 0);
	use_intx = rt_cmdline_u64("intx", 0);
	if (!rt_virtio_find(&dev, VIRTIO_ID_BLK, nth))
		rt_fail("no virtio-blk device #%u", nth);
	if (!rt_virtio_init(&dev, F_RO | F_BLK_SIZE | F_FLUSH | F_DISCARD | F_WZ | VIRTIO_F_INDIRECT_DESC))
		rt_fail("FEATURES_OK refused");
	rt_printf("vblk: device %x.%x features %lx\n", dev.devfn >> 3, dev.devfn & 7, dev.features);
	if (use_intx) {
		intx_line = (u8)rt_pci_read(dev.devfn, 0x3c, 1);
		/* Level-triggered in the ELCR, as PCI interrupts are. */
		u16 elcr = (u16)(inb(0x4d0) | inb(0x4d1) << 8);
		elcr |= (u16)(1u << intx_line);
		outb(0x4d0, (u8)elcr);
		outb(0x4d1, (u8)(elcr >> 8));
		rt_set_handler((u8)(0x20 + intx_line), intx_handler);
		rt_pic_unmask(intx_line);
		if (!rt_virtio_setup_vq(&dev, &vq, 0, 128, 0xffff))
			rt_fail("queue setup");
	} else {
		rt_set_handler(VEC_MSIX, msix_handler);
		rt_virtio_msix(&dev, 0, VEC_MSIX);
		rt_virtio_msix_enable(&dev, 0xffff);
		if (!rt_virtio_setup_vq(&dev, &vq, 0, 128, 0))
			rt_fail("queue setup");
	}
	rt_virtio_driver_ok(&dev);
	sti();

	u64 cap = rt_virtio_cfg64(&dev, 0);
	u64 want = rt_cmdline_u64("sectors", 0);
	rt_printf("vblk: capacity %lu sectors, blk_size %u\n", cap, rt_virtio_cfg32(&dev, 20));
	if (want && cap != want)
		rt_fail("capacity %lu, expected %lu", cap, want);
	if (cap < 1024)
		rt_fail("image too small for the test (need 512 KiB)");

	hdrs = rt_dma_alloc(sizeof(struct hdr) * NREQ, 16);
	status = rt_dma_alloc(NREQ, 1);
	data = rt_dma_alloc(4096 * NREQ, 4096);

	char id[21], want_id[21];
	memset(id, 0, sizeof(id));
	if (request(T_GET_ID, 0, id, 20, true, false) != 0)
		rt_fail("GET_ID failed");
	rt_printf("vblk: id '%s'\n", id);
	if (rt_cmdline_str("serial", want_id, sizeof(want_id)) && strcmp(id, want_id))
		rt_fail("GET_ID '%s', expected '%s'", id, want_id);

	if (ro) {
		if (!(dev.features & F_RO))
			rt_fail("read-only disk without VIRTIO_BLK_F_RO");
		if (request(T_IN, 0, data, 4096, true, false) != 0)
			rt_fail("read from a read-only disk failed");
		fill(data, 3);
		u8 s = request(T_OUT, 0, data, 4096, false, false);
		if (s != 1)
			rt_fail("write to a read-only disk: status %u, expected IOERR (1)", s);
		rt_printf("vblk: read-only: reads ok, write refused with IOERR\n");
		return;
	}
	if (dev.features & F_RO)
		rt_fail("writable disk offers VIRTIO_BLK_F_RO");

	/* 32 writes in flight at once, then one kick. */
	u32 sum_w = 0;
	for (unsigned i = 0; i < NREQ; i++) {
		fill(data + 4096 * i, i);
		sum_w ^= csum(data + 4096 * i, 4096);
		hdrs[i] = (struct hdr){ T_OUT, 0, 8ull * i };
		status[i] = 0xee;
		struct rt_buf b[3] = { { (u64)&hdrs[i], 16, false }, { (u64)(data + 4096 * i), 4096, false },
				       { (u64)&status[i], 1, true } };
		if (rt_vq_add(&vq, b, 3, false) < 0)
			rt_fail("ring full at %u", i);
	}
	rt_vq_kick(&vq);
	for (unsigned i = 0; i < NREQ; i++) {
		u16 head;
		u32 len;
		if (!rt_vq_wait(&vq, &head, &len, 5000))
			rt_fail("write %u: no answer", i);
	}
	for (unsigned i = 0; i < NREQ; i++)
		if (status[i] != 0)
			rt_fail("write %u: status %u", i, status[i]);
	if (request(T_FLUSH, 0, NULL, 0, false, false) != 0)
		rt_fail("flush failed");
	/* Read back in one 128 KiB request, through an indirect table. */
	memset(data, 0, 4096 * NREQ);
	if (request(T_IN, 0, data, 4096 * NREQ, true, true) != 0)
		rt_fail("read back failed");
	u32 sum_r = 0;
	for (unsigned i = 0; i < NREQ; i++)
		sum_r ^= csum(data + 4096 * i, 4096);
	rt_printf("vblk: wrote %u x 4 KiB, checksum %x, read back %x\n", NREQ, sum_w, sum_r);
	if (sum_r != sum_w)
		rt_fail("read-back checksum differs");

	char discard[8] = "zero";
	rt_cmdline_str("discard", discard, sizeof(discard));
	if (strcmp(discard, "zero") && strcmp(discard, "keep") && strcmp(discard, "any"))
		rt_fail("discard=%s: expected zero, keep or any", discard);
	if (!ro && !(dev.features & F_DISCARD))
		rt_fail("DISCARD not offered on a writable disk");
	if (dev.features & F_DISCARD) {
		struct { u64 sector; u32 num, flags; } *seg = rt_dma_alloc(16, 16);
		*seg = (typeof(*seg)){ 0, 8, 0 };
		if (request(T_DISCARD, 0, seg, 16, false, false) != 0)
			rt_fail("discard failed");
		*seg = (typeof(*seg)){ 8, 8, 0 };
		if (request(T_WZ, 0, seg, 16, false, false) != 0)
			rt_fail("write zeroes failed");
		memset(data, 0xff, 8192);
		if (request(T_IN, 0, data, 8192, true, false) != 0)
			rt_fail("read after discard failed");
		if (!all_zero(data + 4096, 4096))
			rt_fail("write-zeroes block does not read as zeros");
		/* A discarded block reads as zeros (hole punched) or keeps its data (the host file
		 * system cannot punch holes; discard is only a hint). The harness knows which one its
		 * file system does and says so with discard=. */
		bool dz = all_zero(data, 4096);
		u8 *old = rt_dma_alloc(4096, 64);
		fill(old, 0);
		bool kept = !memcmp(data, old, 4096);
		if (!dz && !kept)
			rt_fail("discarded block reads as neither zeros nor its old data");
		if (!strcmp(discard, "zero") && !dz)
			rt_fail("discarded block kept its data (discard=zero: the host punches holes)");
		if (!strcmp(discard, "keep") && !kept)
			rt_fail("discarded block reads as zeros (discard=keep: the host cannot punch holes)");
		rt_printf("vblk: write-zeroes reads back zeros; discard %s (discard=%s)\n",
			  dz ? "punched a hole" : "kept the data", discard);
	}
	u8 s = request(T_IN, cap, data, 512, true, false);
	if (s != 1)
		rt_fail("read past the end: status %u, expected IOERR (1)", s);
	s = request(T_IN, cap - 1, data, 1024, true, false);
	if (s != 1)
		rt_fail("read straddling the end: status %u, expected IOERR (1)", s);
	s = request(99, 0, data, 512, true, false);
	if (s != 2)
		rt_fail("unknown request type: status %u, expected UNSUPP (2)", s);

	memset(data, 0, 512);
	memcpy(data, "DOMUS-VBLK-MARKER", 17);
	if (request(T_OUT, 512, data, 512, false, false) != 0 ||
	    request(T_FLUSH, 0, NULL, 0, false, false) != 0)
		rt_fail("marker write failed");
	cli();
	rt_printf("vblk: %u interrupts (%s)\n", irqs, use_intx ? "intx" : "msi-x");
	if (irqs == 0)
		rt_fail("no completion interrupt arrived");
}
