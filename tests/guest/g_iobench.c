/*
 * g_iobench.c - I/O benchmark: a polling virtio driver running at CPL3 (natively on PVM
 * hosts) measures virtio-blk 4 KiB random reads (IOPS), 128 KiB sequential reads and writes
 * (MB/s), and virtio-net transmission of 1514-byte frames to the TAP (frames/s, MB/s).
 * The same ELF runs under QEMU (bench/io/run.sh). Prints "BENCH <name> <value> <unit>".
 * cmdline: blk=0 / net=0 to skip, secs= per figure (2), qd= queue depth (32).
 */
#include "virtio.h"

const char guest_name[] = "iobench";

#define HDRSZ 16
#define MAXQD 64

struct req {
	u32 type, reserved;
	u64 sector;
};

static struct rt_vdev bdev, ndev;
static struct rt_vq bq, rxq, txq;
static struct req *reqs;
static u8 *stat, *buf;
static u64 cap, secs, qd, tsc_hz;
static u64 rng_state = 88172645463325252ull;

static u64 rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Submit request slot i: type, sector, size bytes of buffer i. */
static void submit(unsigned i, u32 type, u64 sector, u32 size)
{
	reqs[i] = (struct req){ type, 0, sector };
	struct rt_buf b[3] = { { (u64)&reqs[i], HDRSZ, false },
			       { (u64)(buf + (u64)i * 131072), size, type == 0 },
			       { (u64)&stat[i], 1, true } };
	if (rt_vq_add(&bq, b, 3, false) < 0)
		rt_fail("blk ring full");
}

/* Keep qd requests in flight for secs seconds; returns completed requests. */
static u64 blk_run(u32 type, u32 size, bool random)
{
	u64 span = cap - size / 512, next = 0, done = 0;
	u64 end = rdtsc() + secs * tsc_hz;
	unsigned inflight = 0;
	u16 slot_of_head[1024];
	for (unsigned i = 0; i < qd; i++) {
		u64 s = random ? (rnd() % span) & ~7ull : next;
		next = (next + size / 512) % span;
		int h = bq.free_head;
		submit(i, type, s, size);
		slot_of_head[h] = (u16)i;
		inflight++;
	}
	rt_vq_kick(&bq);
	while (inflight) {
		u16 head;
		u32 len;
		bool any = false;
		while (rt_vq_get(&bq, &head, &len)) {
			unsigned i = slot_of_head[head];
			if (stat[i] != 0)
				rt_fail("blk request failed: status %u", stat[i]);
			done++;
			inflight--;
			if (rdtsc() < end) {
				u64 s = random ? (rnd() % span) & ~7ull : next;
				next = (next + size / 512) % span;
				int h = bq.free_head;
				submit(i, type, s, size);
				slot_of_head[h] = (u16)i;
				inflight++;
				any = true;
			}
		}
		if (any)
			rt_vq_kick(&bq);
	}
	return done;
}

static u64 run_randread(u64 arg)
{
	(void)arg;
	return blk_run(0, 4096, true);
}
static u64 run_seqread(u64 arg)
{
	(void)arg;
	return blk_run(0, 131072, false);
}
static u64 run_seqwrite(u64 arg)
{
	(void)arg;
	return blk_run(1, 131072, false);
}

static void report(const char *name, u64 value, const char *unit)
{
	rt_printf("BENCH %s %lu %s\n", name, value, unit);
}

static void bench_blk(void)
{
	if (!rt_virtio_find(&bdev, VIRTIO_ID_BLK, 0))
		rt_fail("no virtio-blk");
	if (!rt_virtio_init(&bdev, 0) || !rt_virtio_setup_vq(&bdev, &bq, 0, 256, 0xffff))
		rt_fail("virtio-blk setup");
	rt_virtio_driver_ok(&bdev);
	cap = rt_virtio_cfg64(&bdev, 0);
	if (cap < 65536)
		rt_fail("the bench disk needs at least 32 MiB");
	reqs = rt_dma_alloc(sizeof(*reqs) * MAXQD, 64);
	stat = rt_dma_alloc(MAXQD, 64);
	buf = rt_dma_alloc(131072ull * MAXQD > 8u << 20 ? 8u << 20 : 131072ull * MAXQD, 4096);
	u64 t0 = rdtsc(), n = rt_run_user(run_randread, 0), t1 = rdtsc();
	report("blk_randread_4k_iops", n * tsc_hz / (t1 - t0), "IOPS");
	u64 qsave = qd;
	if (qd > 8)
		qd = 8;
	t0 = rdtsc(), n = rt_run_user(run_seqwrite, 0), t1 = rdtsc();
	report("blk_seqwrite_128k", n * 131072 * tsc_hz / (t1 - t0) >> 20, "MB/s");
	t0 = rdtsc(), n = rt_run_user(run_seqread, 0), t1 = rdtsc();
	report("blk_seqread_128k", n * 131072 * tsc_hz / (t1 - t0) >> 20, "MB/s");
	qd = qsave;
}

static u64 run_tx(u64 arg)
{
	(void)arg;
	u8 *frames = rt_phys(arg);
	u64 sent = 0, end = rdtsc() + secs * tsc_hz;
	unsigned inflight = 0;
	while (rdtsc() < end) {
		u16 head;
		u32 len;
		while (rt_vq_get(&txq, &head, &len))
			inflight--;
		unsigned batch = 0;
		while (inflight < 128) {
			struct rt_buf b = { (u64)(frames + 2048 * (sent % 128)), 12 + 1514, false };
			if (rt_vq_add(&txq, &b, 1, false) < 0)
				break;
			inflight++;
			sent++;
			batch++;
		}
		if (batch)
			rt_vq_kick(&txq);
	}
	return sent;
}

static void bench_net(void)
{
	if (!rt_virtio_find(&ndev, VIRTIO_ID_NET, 0))
		rt_fail("no virtio-net");
	if (!rt_virtio_init(&ndev, 1ull << 5) || !rt_virtio_setup_vq(&ndev, &rxq, 0, 256, 0xffff) ||
	    !rt_virtio_setup_vq(&ndev, &txq, 1, 256, 0xffff))
		rt_fail("virtio-net setup");
	rt_virtio_driver_ok(&ndev);
	u8 mac[6];
	for (unsigned i = 0; i < 6; i++)
		mac[i] = rt_virtio_cfg8(&ndev, i);
	u8 *frames = rt_dma_alloc(2048 * 128, 4096);
	for (unsigned i = 0; i < 128; i++) {
		u8 *e = frames + 2048 * i + 12;
		memset(e, 0xff, 6); /* broadcast: the bridge floods it, nobody needs to answer */
		memcpy(e + 6, mac, 6);
		e[12] = 0x88;
		e[13] = 0xb5;
	}
	u64 t0 = rdtsc(), n = rt_run_user(run_tx, (u64)frames), t1 = rdtsc();
	report("net_tx_frames", n * tsc_hz / (t1 - t0), "frames/s");
	report("net_tx_1514", n * 1514 * tsc_hz / (t1 - t0) >> 20, "MB/s");
}

void guest_main(void)
{
	secs = rt_cmdline_u64("secs", 2);
	qd = rt_cmdline_u64("qd", 32);
	if (qd == 0 || qd > MAXQD)
		qd = 32;
	tsc_hz = rt_tsc_hz();
	if (rt_cmdline_u64("blk", 1))
		bench_blk();
	if (rt_cmdline_u64("net", 1))
		bench_net();
}
