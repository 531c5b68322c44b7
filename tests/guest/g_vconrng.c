/*
 * g_vconrng.c - virtio-console (hvc0) and virtio-rng through the guest's own driver.
 * rng: two 64-byte requests, neither all zeros, not equal. console: writes
 * "hvc0: hello from the guest" on the transmit queue; with echo=1 it posts a receive buffer,
 * prints "READY hvc" on the serial port, waits for input and writes "hvc0: echo <input>".
 * cmdline: rng=0 / con=0 to skip a device, echo=1.
 */
#include "virtio.h"

const char guest_name[] = "vconrng";

static void test_rng(void)
{
	struct rt_vdev d;
	struct rt_vq q;
	if (!rt_virtio_find(&d, VIRTIO_ID_RNG, 0))
		rt_fail("no virtio-rng device");
	if (!rt_virtio_init(&d, 0) || !rt_virtio_setup_vq(&d, &q, 0, 16, 0xffff))
		rt_fail("virtio-rng setup");
	rt_virtio_driver_ok(&d);
	u8 *buf = rt_dma_alloc(128, 64);
	for (unsigned i = 0; i < 2; i++) {
		struct rt_buf b = { (u64)(buf + 64 * i), 64, true };
		rt_vq_add(&q, &b, 1, false);
		rt_vq_kick(&q);
		u16 head;
		u32 len;
		if (!rt_vq_wait(&q, &head, &len, 5000))
			rt_fail("virtio-rng: no answer");
		if (len != 64)
			rt_fail("virtio-rng: %u bytes, expected 64", len);
	}
	bool zero = true;
	for (unsigned i = 0; i < 64; i++)
		zero &= buf[i] == 0;
	if (zero || !memcmp(buf, buf + 64, 64))
		rt_fail("virtio-rng: the bytes do not look random");
	rt_printf("vconrng: rng %02x%02x%02x%02x...\n", buf[0], buf[1], buf[2], buf[3]);
}

static void con_write(struct rt_vq *tx, const char *s)
{
	u64 n = strlen(s);
	char *p = rt_dma_alloc(n, 1);
	memcpy(p, s, n);
	struct rt_buf b = { (u64)p, (u32)n, false };
	rt_vq_add(tx, &b, 1, false);
	rt_vq_kick(tx);
	u16 head;
	u32 len;
	if (!rt_vq_wait(tx, &head, &len, 5000))
		rt_fail("virtio-console: transmit not completed");
}

static void test_console(void)
{
	struct rt_vdev d;
	struct rt_vq rx, tx;
	if (!rt_virtio_find(&d, VIRTIO_ID_CONSOLE, 0))
		rt_fail("no virtio-console device");
	if (!rt_virtio_init(&d, 0) || !rt_virtio_setup_vq(&d, &rx, 0, 16, 0xffff) ||
	    !rt_virtio_setup_vq(&d, &tx, 1, 16, 0xffff))
		rt_fail("virtio-console setup");
	rt_virtio_driver_ok(&d);
	con_write(&tx, "hvc0: hello from the guest\n");
	if (!rt_cmdline_u64("echo", 0))
		return;
	char *in = rt_dma_alloc(64, 64);
	struct rt_buf b = { (u64)in, 63, true };
	rt_vq_add(&rx, &b, 1, false);
	rt_vq_kick(&rx);
	rt_printf("READY hvc\n");
	u16 head;
	u32 len;
	if (!rt_vq_wait(&rx, &head, &len, 30000))
		rt_fail("virtio-console: no input within 30 s");
	in[len < 63 ? len : 63] = 0;
	char line[128];
	rt_snprintf(line, sizeof(line), "hvc0: echo %s\n", in);
	con_write(&tx, line);
	rt_printf("vconrng: console received %u bytes\n", len);
}

void guest_main(void)
{
	if (rt_cmdline_u64("rng", 1))
		test_rng();
	if (rt_cmdline_u64("con", 1))
		test_console();
}
