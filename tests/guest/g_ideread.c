/*
 * g_ideread.c - sequential read throughput of the IDE disk hda by bus-master DMA (READ DMA
 * EXT, 64 KiB per command through one PRD entry; the bus-master status is polled with the
 * CPU's interrupts off). cmdline: mib=N (default 64, at least 1).
 * The image must hold a known pattern: 64-bit little-endian word k (0..63) of sector N is
 * IDEREAD_MAGIC ^ (N * 64 + k), i.e. word i of the disk is IDEREAD_MAGIC ^ i. Every chunk read
 * is compared with it (at CPL3, so it runs natively on PVM hosts too); the first mismatch is a
 * FAIL naming sector, word, value read and value expected.
 * Prints "ideread: reading N MiB" when it starts and "ideread: N MiB in T ms: R MB/s" (T on the
 * guest's TSC, the comparison included) and "ideread: N MiB match the pattern" at the end.
 * Used by bench/fv; runs the same under QEMU -M pc.
 */
#include "rt.h"

const char guest_name[] = "ideread";

#define P 0x1F0
#define BM_DEFAULT 0xC000
#define CHUNK_SECTORS 128
#define IDEREAD_MAGIC ((u64)0x1de5ec7000000000ull) /* keep in sync with the image writers (see above) */

static u16 BM;
static u64 poll_limit; /* TSC ticks one command may take before it counts as failed */
static u8 buf[CHUNK_SECTORS * 512] __attribute__((aligned(65536)));
static u32 prd[2] __attribute__((aligned(16)));

static int read_chunk(u64 lba)
{
	outb(BM, 0x00);
	outb(BM + 2, 0x06);
	outb(P + 6, 0x40);
	outb(P + 2, 0), outb(P + 2, CHUNK_SECTORS);
	outb(P + 3, (u8)(lba >> 24)), outb(P + 3, (u8)lba);
	outb(P + 4, (u8)(lba >> 32)), outb(P + 4, (u8)(lba >> 8));
	outb(P + 5, (u8)(lba >> 40)), outb(P + 5, (u8)(lba >> 16));
	outb(P + 7, 0x25);
	outb(BM, 0x09);
	/* Bounded by time, not by a count: each poll is an exit, which costs 1 us on a host and
	 * ~0.5 ms in a nested one, where 10^8 polls would be a day. */
	for (u64 t0 = rdtsc(); rdtsc() - t0 < poll_limit;) {
		u8 bs = inb(BM + 2);
		if (bs & 0x04) {
			outb(BM, 0x00);
			u8 st = inb(P + 7);
			return (bs & 0x02) || (st & 0x01) ? -1 : 0;
		}
	}
	return -1;
}

static u64 bad_word, bad_got;

/* CPL3: compare buf (the chunk starting at sector arg) with the pattern; 0 if it matches,
 * else 1 with the disk word index and the value read in bad_word, bad_got. */
static u64 check_chunk(u64 lba)
{
	const u64 *w = (const u64 *)buf;
	u64 first = lba * 64;
	for (u64 k = 0; k < sizeof(buf) / 8; k++) {
		if (w[k] != (IDEREAD_MAGIC ^ (first + k))) {
			bad_word = first + k;
			bad_got = w[k];
			return 1;
		}
	}
	return 0;
}

void guest_main(void)
{
	u64 mib = rt_cmdline_u64("mib", 64);
	if (mib < 1 || mib > 1u << 20)
		rt_fail("mib=%lu is out of range (1..1048576)", mib);
	/* Keep the bus-master BAR firmware assigned (QEMU runs SeaBIOS first), else place it. */
	outl(0xCF8, 0x80000000u | 1 << 11 | 1 << 8 | 0x20);
	u32 bar = inl(0xCFC);
	BM = (u16)(bar & 0xFFFC);
	if (!(bar & 1) || BM == 0) {
		BM = BM_DEFAULT;
		outl(0xCFC, BM | 1u);
	}
	outl(0xCF8, 0x80000000u | 1 << 11 | 1 << 8 | 0x04);
	outl(0xCFC, 0x5);
	/* nIEN stays clear: the bus-master status bit "interrupt" follows the drive's INTRQ, which
	 * nIEN holds off (QEMU's PIIX never sets the bit then, and this guest would wait forever).
	 * IRQ 14 goes nowhere because the CPU's interrupts stay disabled; reading the status
	 * register after each command deasserts it. */
	outb(P + 0x206, 0x00);
	prd[0] = (u32)(u64)buf;
	prd[1] = 0x80000000u; /* 64 KiB (count 0), end of table */
	outl(BM + 4, (u32)(u64)prd);
	u64 chunks = mib * 1024 * 1024 / sizeof(buf);
	u64 hz = rt_tsc_hz();
	poll_limit = 60 * hz;
	/* The host times the reads between this line and the result line on its own clock. */
	rt_printf("ideread: reading %lu MiB\n", mib);
	u64 t0 = rdtsc();
	for (u64 c = 0; c < chunks; c++) {
		/* The DMA must really write the buffer: a stale chunk would not match. */
		memset(buf, 0, sizeof(buf));
		if (read_chunk(c * CHUNK_SECTORS) < 0)
			rt_fail("READ DMA EXT failed at sector %lu", c * CHUNK_SECTORS);
		if (rt_run_user(check_chunk, c * CHUNK_SECTORS))
			rt_fail("sector %lu word %lu: read 0x%lx, expected 0x%lx (image without the pattern, or "
				"data from the wrong place)",
				bad_word / 64, bad_word % 64, bad_got, IDEREAD_MAGIC ^ bad_word);
	}
	u64 ms = (rdtsc() - t0) * 1000 / hz;
	if (!ms)
		ms = 1;
	rt_printf("ideread: %lu MiB in %lu ms: %lu MB/s\n", mib, ms, mib * 1048576 / 1000 / ms);
	rt_printf("ideread: %lu MiB match the pattern\n", mib);
}
