/*
 * g_vnet.c - virtio-net through the guest's own driver: MAC and link status from the
 * configuration, then broadcast frames (ethertype 0x88b5, payload "domus-vnet <mac> <n>")
 * every 100 ms until a frame of that ethertype from another MAC arrives (another guest on the
 * bridge, or the host through the TAP, whose payload starts "domus-vnet host").
 * cmdline: mac= expected MAC, from=host (wait for the host's frame), timeout= s (30).
 */
#include "virtio.h"

const char guest_name[] = "vnet";

#define F_MAC (1ull << 5)
#define F_MRG_RXBUF (1ull << 15)
#define F_STATUS (1ull << 16)
#define NRX 32
#define BUFSZ 2048
#define HDR 12

static struct rt_vdev dev;
static struct rt_vq rxq, txq;
static u8 *rxbuf, *txbuf;
static u8 mac[6];

static void post_rx(unsigned i)
{
	struct rt_buf b = { (u64)(rxbuf + BUFSZ * i), BUFSZ, true };
	rt_vq_add(&rxq, &b, 1, false);
}

static void fmt_mac(char *s, const u8 *m)
{
	rt_snprintf(s, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void send_frame(unsigned seq)
{
	u16 head;
	u32 len;
	while (rt_vq_get(&txq, &head, &len))
		;
	u8 *f = txbuf + BUFSZ * (seq % 8);
	memset(f, 0, HDR + 14);
	u8 *e = f + HDR;
	memset(e, 0xff, 6);
	memcpy(e + 6, mac, 6);
	e[12] = 0x88;
	e[13] = 0xb5;
	char m[18];
	fmt_mac(m, mac);
	int n = rt_snprintf((char *)e + 14, 64, "domus-vnet %s %u", m, seq);
	u32 flen = 14 + (u32)n + 1;
	if (flen < 60)
		flen = 60;
	struct rt_buf b = { (u64)f, HDR + flen, false };
	if (rt_vq_add(&txq, &b, 1, false) >= 0)
		rt_vq_kick(&txq);
}

void guest_main(void)
{
	if (!rt_virtio_find(&dev, VIRTIO_ID_NET, 0))
		rt_fail("no virtio-net device");
	if (!rt_virtio_init(&dev, F_MAC | F_MRG_RXBUF | F_STATUS))
		rt_fail("FEATURES_OK refused");
	for (unsigned i = 0; i < 6; i++)
		mac[i] = rt_virtio_cfg8(&dev, i);
	u16 status = (u16)(rt_virtio_cfg8(&dev, 6) | rt_virtio_cfg8(&dev, 7) << 8);
	char ms[18], want[32];
	fmt_mac(ms, mac);
	rt_printf("vnet: mac %s link %s features %lx\n", ms, status & 1 ? "up" : "down", dev.features);
	if (!(dev.features & F_MAC))
		rt_fail("no VIRTIO_NET_F_MAC");
	if ((dev.features & F_STATUS) && !(status & 1))
		rt_fail("link is down");
	if (rt_cmdline_str("mac", want, sizeof(want)) && strcmp(want, ms))
		rt_fail("mac %s, expected %s", ms, want);
	if (!rt_virtio_setup_vq(&dev, &rxq, 0, 64, 0xffff) || !rt_virtio_setup_vq(&dev, &txq, 1, 64, 0xffff))
		rt_fail("queue setup");
	rxbuf = rt_dma_alloc(BUFSZ * NRX, 4096);
	txbuf = rt_dma_alloc(BUFSZ * 8, 4096);
	for (unsigned i = 0; i < NRX; i++)
		post_rx(i);
	rt_virtio_driver_ok(&dev);
	rt_vq_kick(&rxq);

	char from[16];
	bool want_host = rt_cmdline_str("from", from, sizeof(from)) && !strcmp(from, "host");
	u64 tsc = rt_tsc_hz(), deadline = rdtsc() + tsc * rt_cmdline_u64("timeout", 30);
	u64 next = 0;
	unsigned seq = 0, got = 0;
	while (rdtsc() < deadline) {
		if (rdtsc() >= next) {
			send_frame(seq++);
			next = rdtsc() + tsc / 10;
		}
		u16 head;
		u32 len;
		while (rt_vq_get(&rxq, &head, &len)) {
			u8 *f = rxbuf + BUFSZ * head;
			u8 *e = f + HDR;
			if (len > HDR + 14 && e[12] == 0x88 && e[13] == 0xb5 && memcmp(e + 6, mac, 6)) {
				char src[18], text[80];
				fmt_mac(src, e + 6);
				u32 pl = len - HDR - 14 < 79 ? len - HDR - 14 : 79;
				memcpy(text, e + 14, pl);
				text[pl] = 0;
				bool host = !strncmp(text, "domus-vnet host", 15);
				if (got < 3)
					rt_printf("vnet: frame from %s: %s\n", src, text);
				if (host == want_host)
					got++;
			}
			post_rx(head);
			rt_vq_kick(&rxq);
		}
		if (got >= 1 && seq >= 5) {
			rt_printf("vnet: sent %u frames, received %u from %s\n", seq, got,
				  want_host ? "the host" : "a peer");
			return;
		}
	}
	rt_fail("no frame from %s within the timeout (sent %u)", want_host ? "the host" : "a peer", seq);
}
