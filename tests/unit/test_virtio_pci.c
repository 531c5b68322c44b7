/* The virtio-pci transport (virtio_pci.c) driven through its BARs as a guest driver would,
 * with a fake device: the common configuration registers, feature negotiation (FEATURES_OK
 * refused for features the device did not offer and for drivers without VERSION_1), kicks,
 * INTx + ISR and MSI-X delivery, and a device reset while the back end still holds a request
 * (its completion during or after the reset must touch neither the rings nor an interrupt). */
#include "unit.h"

#include <errno.h>
#include <pthread.h>

#include "hw/pci.h"
#include "virtio/virtio_pci.h"
#include "vring_ram.h"

#define DEVFN PCI_DEVFN(1, 0)

#define DEV_FEATURE 5 /* the fake device's one own feature bit */

static struct bus pio, mmio;
static struct pci_bus bus;
static struct virtio_pci vp;

/* The fake device and its observers. */
static unsigned kicks[VIRTIO_PCI_MAX_QUEUES], fired[VIRTIO_PCI_MAX_QUEUES + 1], resets,
	starts, cfg_reads, cfg_writes;
static int intx_level;
static uint8_t devcfg[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
static bool hold_requests;          /* kick pops and keeps the chain (I/O in flight) */
static int held_head = -1;
static bool complete_during_reset;  /* ops->reset completes the held request */
static bool reset_saw_ready, reset_lock_was_free;

static void fake_irq(void *ctx, unsigned gsi, int level)
{
	(void)ctx, (void)gsi;
	intx_level = level;
}

static void msi_fire(void *ctx, unsigned vec)
{
	(void)ctx;
	if (vec <= VIRTIO_PCI_MAX_QUEUES)
		fired[vec]++;
}

static const struct msi_sink sink = { .fire = msi_fire };

static void dev_cfg_read(void *ctx, unsigned off, void *buf, unsigned len)
{
	(void)ctx;
	cfg_reads++;
	memcpy(buf, devcfg + off, len);
}

static void dev_cfg_write(void *ctx, unsigned off, const void *buf, unsigned len)
{
	(void)ctx;
	cfg_writes++;
	memcpy(devcfg + off, buf, len);
}

static void dev_start(void *ctx)
{
	(void)ctx;
	starts++;
}

static void complete_held(void)
{
	if (held_head < 0)
		return;
	virtio_pci_lock(&vp);
	vq_push(virtio_pci_vq(&vp, 0), (uint16_t)held_head, 4);
	virtio_pci_notify(&vp, 0);
	virtio_pci_unlock(&vp);
	held_head = -1;
}

static void dev_kick(void *ctx, unsigned q)
{
	(void)ctx;
	kicks[q]++;
	if (!hold_requests)
		return;
	static struct vq_chain c;
	if (vq_pop(virtio_pci_vq(&vp, q), &c) == 1)
		held_head = c.head;
}

static void dev_reset(void *ctx)
{
	(void)ctx;
	resets++;
	/* Runs without the transport lock (the back end may wait for completions that take it)
	 * and with the queues already stopped. */
	reset_lock_was_free = pthread_mutex_trylock(&vp.lock) == 0;
	if (reset_lock_was_free)
		pthread_mutex_unlock(&vp.lock);
	reset_saw_ready = virtio_pci_vq(&vp, 0)->ready;
	if (complete_during_reset)
		complete_held();
}

static const struct virtio_dev_ops ops = {
	.device_id = 2,
	.pci_class = 0x010000,
	.cfg_read = dev_cfg_read,
	.cfg_write = dev_cfg_write,
	.start = dev_start,
	.kick = dev_kick,
	.reset = dev_reset,
};

static uint64_t rd(uint64_t off, unsigned size)
{
	return virtio_pci_bar_ops.read(&vp, off, size);
}

static void wr(uint64_t off, unsigned size, uint64_t v)
{
	virtio_pci_bar_ops.write(&vp, off, size, v);
}

static uint16_t used_idx(void)
{
	return used16()[1];
}

static void setup(void)
{
	ram_reset();
	memset(kicks, 0, sizeof(kicks));
	memset(fired, 0, sizeof(fired));
	resets = starts = cfg_reads = cfg_writes = 0;
	intx_level = 0;
	hold_requests = complete_during_reset = false;
	held_head = -1;
	bus_init(&pio, "port");
	bus_init(&mmio, "mmio");
	static const struct pci_windows win = { 0xC000, 0x10000, 0xC0000000, 0xFC000000, 0, 0 };
	pci_bus_init(&bus, &pio, &mmio, fake_irq, NULL, &win);
	struct virtio_env env = { .mem = &mem };
	CHECK_EQ(virtio_pci_init(&vp, "vt", &ops, NULL, 1ull << DEV_FEATURE, 2, 16,
				 sizeof(devcfg), &env, &sink), 0);
	CHECK_EQ(pci_bus_add(&bus, &vp.pci, DEVFN), 0);
}

static void teardown(void)
{
	virtio_pci_destroy(&vp);
	pci_bus_destroy(&bus);
}

/* The driver's side of initialization (virtio 1.2, 3.1.1) up to FEATURES_OK with features
 * f; returns the status read back. */
static uint8_t negotiate(uint64_t f)
{
	wr(VIRTIO_CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	wr(VIRTIO_CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	wr(VIRTIO_CC_GFSELECT, 4, 0);
	wr(VIRTIO_CC_GF, 4, (uint32_t)f);
	wr(VIRTIO_CC_GFSELECT, 4, 1);
	wr(VIRTIO_CC_GF, 4, (uint32_t)(f >> 32));
	wr(VIRTIO_CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			 VIRTIO_STATUS_FEATURES_OK);
	return (uint8_t)rd(VIRTIO_CC_STATUS, 1);
}

static void queue0_setup(void)
{
	wr(VIRTIO_CC_Q_SELECT, 2, 0);
	wr(VIRTIO_CC_Q_SIZE, 2, QSZ);
	wr(VIRTIO_CC_Q_DESC, 8, DESC);
	wr(VIRTIO_CC_Q_AVAIL, 4, AVAIL);
	wr(VIRTIO_CC_Q_AVAIL + 4, 4, 0);
	wr(VIRTIO_CC_Q_USED, 8, USED);
	wr(VIRTIO_CC_Q_ENABLE, 2, 1);
}

static void driver_ok(void)
{
	wr(VIRTIO_CC_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			 VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* Offer one 16-byte writable buffer as descriptor 0 on queue 0. */
static void offer_one(void)
{
	*desc(0) = (struct vring_desc){ BUF, 16, VRING_DESC_F_WRITE, 0 };
	uint16_t *av = avail();
	av[2 + av[1] % QSZ] = 0;
	av[1]++;
}

static void enable_msix(void)
{
	unsigned cap = vp.msix.cap;
	pci_cfg_write(&bus, DEVFN, cap + 2, 2, MSIX_CTRL_ENABLE);
	CHECK(pci_msix_enabled(&vp.msix));
	for (unsigned v = 0; v < vp.msix.nvec; v++) /* unmask every vector */
		virtio_pci_msix_bar_ops.write(&vp, v * MSIX_ENTRY_SIZE + 12, 4, 0);
}

static void test_common_config(void)
{
	setup();
	CHECK_EQ(rd(VIRTIO_CC_NUMQ, 2), 2);
	CHECK_EQ(rd(VIRTIO_CC_STATUS, 1), 0);
	/* Device features in two 32-bit halves: our bit, and VERSION_1 (bit 32) etc. */
	wr(VIRTIO_CC_DFSELECT, 4, 0);
	CHECK_EQ(rd(VIRTIO_CC_DF, 4) & (1u << DEV_FEATURE), 1u << DEV_FEATURE);
	CHECK(rd(VIRTIO_CC_DF, 4) & (1u << VIRTIO_F_EVENT_IDX));
	wr(VIRTIO_CC_DFSELECT, 4, 1);
	CHECK_EQ(rd(VIRTIO_CC_DFSELECT, 4), 1);
	CHECK_EQ(rd(VIRTIO_CC_DF, 4) & 1, 1); /* VERSION_1 */
	wr(VIRTIO_CC_DFSELECT, 4, 2);
	CHECK_EQ(rd(VIRTIO_CC_DF, 4), 0);
	/* Driver features read back by half. */
	wr(VIRTIO_CC_GFSELECT, 4, 0);
	wr(VIRTIO_CC_GF, 4, 0x20);
	CHECK_EQ(rd(VIRTIO_CC_GF, 4), 0x20);
	wr(VIRTIO_CC_GFSELECT, 4, 1);
	CHECK_EQ(rd(VIRTIO_CC_GF, 4), 0);
	wr(VIRTIO_CC_GFSELECT, 4, 7); /* past the two halves: ignored */
	wr(VIRTIO_CC_GF, 4, 0xFFFFFFFF);
	CHECK_EQ(rd(VIRTIO_CC_GF, 4), 0);
	CHECK_EQ(vp.guest_features, 0x20);
	/* Queue registers of the selected queue. */
	wr(VIRTIO_CC_Q_SELECT, 2, 1);
	CHECK_EQ(rd(VIRTIO_CC_Q_SELECT, 2), 1);
	CHECK_EQ(rd(VIRTIO_CC_Q_SIZE, 2), 16);
	CHECK_EQ(rd(VIRTIO_CC_Q_NOFF, 2), 1);
	CHECK_EQ(rd(VIRTIO_CC_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	wr(VIRTIO_CC_Q_SIZE, 2, 4);
	CHECK_EQ(rd(VIRTIO_CC_Q_SIZE, 2), 4);
	wr(VIRTIO_CC_Q_SIZE, 2, 0); /* 0 or too big: back to the maximum */
	CHECK_EQ(rd(VIRTIO_CC_Q_SIZE, 2), 16);
	wr(VIRTIO_CC_Q_SIZE, 2, 64);
	CHECK_EQ(rd(VIRTIO_CC_Q_SIZE, 2), 16);
	wr(VIRTIO_CC_Q_DESC, 4, 0x12345000);
	wr(VIRTIO_CC_Q_DESC + 4, 4, 0x9);
	CHECK_EQ(rd(VIRTIO_CC_Q_DESC, 4), 0x12345000);
	CHECK_EQ(rd(VIRTIO_CC_Q_DESC + 4, 4), 0x9);
	CHECK_EQ(rd(VIRTIO_CC_Q_DESC, 8), 0x912345000ull);
	wr(VIRTIO_CC_Q_USED, 8, 0xABCD000ull);
	CHECK_EQ(rd(VIRTIO_CC_Q_USED, 8), 0xABCD000ull);
	/* MSI-X vectors: 3 exist (2 queues + config); others read back as NO_VECTOR. */
	wr(VIRTIO_CC_Q_MSIX, 2, 2);
	CHECK_EQ(rd(VIRTIO_CC_Q_MSIX, 2), 2);
	wr(VIRTIO_CC_Q_MSIX, 2, 3);
	CHECK_EQ(rd(VIRTIO_CC_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	wr(VIRTIO_CC_MSIX, 2, 0);
	CHECK_EQ(rd(VIRTIO_CC_MSIX, 2), 0);
	wr(VIRTIO_CC_MSIX, 2, 200);
	CHECK_EQ(rd(VIRTIO_CC_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	/* A queue that does not exist: size 0, nothing sticks. */
	wr(VIRTIO_CC_Q_SELECT, 2, 5);
	CHECK_EQ(rd(VIRTIO_CC_Q_SIZE, 2), 0);
	CHECK_EQ(rd(VIRTIO_CC_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	wr(VIRTIO_CC_Q_SIZE, 2, 8);
	wr(VIRTIO_CC_Q_DESC, 8, 0x1000);
	wr(VIRTIO_CC_Q_ENABLE, 2, 1);
	CHECK_EQ(rd(VIRTIO_CC_Q_SIZE, 2), 0);
	CHECK_EQ(rd(VIRTIO_CC_Q_ENABLE, 2), 0);
	/* Misaligned accesses and holes read 0. */
	CHECK_EQ(rd(VIRTIO_CC_NUMQ + 1, 2), 0);
	CHECK_EQ(rd(0x3C, 4), 0);
	/* Device configuration: in range goes to the device, past cfg_size does not. */
	CHECK_EQ(rd(VIRTIO_DEVCFG_OFF + 4, 4), 0x08070605);
	CHECK_EQ(cfg_reads, 1);
	CHECK_EQ(rd(VIRTIO_DEVCFG_OFF + 6, 4), 0);
	CHECK_EQ(cfg_reads, 1);
	wr(VIRTIO_DEVCFG_OFF, 1, 0xEE);
	CHECK_EQ(devcfg[0], 0xEE);
	wr(VIRTIO_DEVCFG_OFF + 7, 2, 0xFFFF);
	CHECK_EQ(cfg_writes, 1);
	teardown();
}

static void test_features_ok(void)
{
	const uint64_t v1 = 1ull << VIRTIO_F_VERSION_1;
	setup();
	/* A feature the device did not offer: FEATURES_OK stays clear. */
	CHECK_EQ(negotiate(v1 | 1ull << 6) & VIRTIO_STATUS_FEATURES_OK, 0);
	wr(VIRTIO_CC_STATUS, 1, 0);
	CHECK_EQ(rd(VIRTIO_CC_STATUS, 1), 0);
	/* A legacy driver (no VERSION_1): refused. */
	CHECK_EQ(negotiate(1ull << DEV_FEATURE) & VIRTIO_STATUS_FEATURES_OK, 0);
	wr(VIRTIO_CC_STATUS, 1, 0);
	/* Offered features with VERSION_1: accepted, and then frozen. */
	CHECK_EQ(negotiate(v1 | 1ull << DEV_FEATURE) & VIRTIO_STATUS_FEATURES_OK,
		 VIRTIO_STATUS_FEATURES_OK);
	CHECK(virtio_pci_has_feature(&vp, DEV_FEATURE));
	CHECK(!virtio_pci_has_feature(&vp, VIRTIO_F_EVENT_IDX));
	wr(VIRTIO_CC_GFSELECT, 4, 0);
	wr(VIRTIO_CC_GF, 4, 1u << VIRTIO_F_EVENT_IDX);
	CHECK(!virtio_pci_has_feature(&vp, VIRTIO_F_EVENT_IDX));
	/* A reset forgets the negotiation. */
	wr(VIRTIO_CC_STATUS, 1, 0);
	CHECK_EQ(resets, 3);
	CHECK_EQ(vp.guest_features, 0);
	teardown();
}

static void test_kick_and_intx(void)
{
	setup();
	CHECK(negotiate(1ull << VIRTIO_F_VERSION_1) & VIRTIO_STATUS_FEATURES_OK);
	queue0_setup();
	CHECK_EQ(rd(VIRTIO_CC_Q_ENABLE, 2), 1);
	/* Enabled queues are frozen. */
	wr(VIRTIO_CC_Q_SIZE, 2, 4);
	wr(VIRTIO_CC_Q_DESC, 8, 0x5000);
	CHECK_EQ(rd(VIRTIO_CC_Q_SIZE, 2), QSZ);
	CHECK_EQ(rd(VIRTIO_CC_Q_DESC, 8), DESC);
	/* No kicks reach the device before DRIVER_OK; DRIVER_OK starts it and kicks queues
	 * that are ready (buffers may be queued already). */
	wr(VIRTIO_NOTIFY_OFF, 2, 0);
	CHECK_EQ(kicks[0], 0);
	driver_ok();
	CHECK_EQ(starts, 1);
	CHECK_EQ(kicks[0], 1);
	CHECK(virtio_pci_running(&vp));
	wr(VIRTIO_NOTIFY_OFF, 2, 0);
	CHECK_EQ(kicks[0], 2);
	wr(VIRTIO_NOTIFY_OFF + VIRTIO_NOTIFY_MULT, 2, 1); /* queue 1 is not enabled */
	CHECK_EQ(kicks[1], 0);
	wr(VIRTIO_NOTIFY_OFF + 2 * VIRTIO_NOTIFY_MULT, 2, 2); /* no queue 2 */
	/* A completion with MSI-X off: ISR bit 0 and INTx, both cleared by reading the ISR. */
	hold_requests = true;
	offer_one();
	wr(VIRTIO_NOTIFY_OFF, 2, 0);
	CHECK_EQ(held_head, 0);
	complete_held();
	CHECK_EQ(used_idx(), 1);
	CHECK_EQ(intx_level, 1);
	CHECK_EQ(rd(VIRTIO_ISR_OFF, 1), 1);
	CHECK_EQ(intx_level, 0);
	CHECK_EQ(rd(VIRTIO_ISR_OFF, 1), 0);
	/* A configuration change: generation bumped, ISR bit 1. */
	uint8_t gen = (uint8_t)rd(VIRTIO_CC_CFGGEN, 1);
	virtio_pci_lock(&vp);
	virtio_pci_config_changed(&vp);
	virtio_pci_unlock(&vp);
	CHECK_EQ(rd(VIRTIO_CC_CFGGEN, 1), (uint8_t)(gen + 1));
	CHECK_EQ(rd(VIRTIO_ISR_OFF, 1), 2);
	teardown();
}

static void test_msix_vectors(void)
{
	setup();
	CHECK(negotiate(1ull << VIRTIO_F_VERSION_1) & VIRTIO_STATUS_FEATURES_OK);
	enable_msix();
	wr(VIRTIO_CC_MSIX, 2, 2);
	queue0_setup();
	wr(VIRTIO_CC_Q_SELECT, 2, 0);
	wr(VIRTIO_CC_Q_MSIX, 2, 1);
	driver_ok();
	hold_requests = true;
	offer_one();
	wr(VIRTIO_NOTIFY_OFF, 2, 0);
	complete_held();
	CHECK_EQ(fired[1], 1);
	CHECK_EQ(fired[0], 0);
	CHECK_EQ(intx_level, 0); /* no INTx while MSI-X is on */
	virtio_pci_lock(&vp);
	virtio_pci_config_changed(&vp);
	virtio_pci_unlock(&vp);
	CHECK_EQ(fired[2], 1);
	teardown();
}

static void test_reset_with_request_in_flight(void)
{
	setup();
	CHECK(negotiate(1ull << VIRTIO_F_VERSION_1) & VIRTIO_STATUS_FEATURES_OK);
	enable_msix();
	queue0_setup();
	wr(VIRTIO_CC_Q_SELECT, 2, 0);
	wr(VIRTIO_CC_Q_MSIX, 2, 0);
	driver_ok();
	hold_requests = true;
	offer_one();
	wr(VIRTIO_NOTIFY_OFF, 2, 0);
	CHECK_EQ(held_head, 0); /* the back end holds the request */
	/* The driver resets the device; the back end completes the request while ops->reset
	 * waits for it: the used ring (guest memory the driver may reuse) stays untouched and
	 * no interrupt is sent. */
	complete_during_reset = true;
	wr(VIRTIO_CC_STATUS, 1, 0);
	CHECK_EQ(resets, 1);
	CHECK(reset_lock_was_free);
	CHECK(!reset_saw_ready);
	CHECK_EQ(held_head, -1);
	CHECK_EQ(used_idx(), 0);
	CHECK_EQ(fired[0], 0);
	CHECK_EQ(intx_level, 0);
	/* Everything is back to the reset state. */
	CHECK_EQ(rd(VIRTIO_CC_STATUS, 1), 0);
	CHECK_EQ(rd(VIRTIO_CC_Q_ENABLE, 2), 0);
	CHECK_EQ(rd(VIRTIO_CC_Q_SIZE, 2), 16);
	CHECK_EQ(rd(VIRTIO_CC_Q_DESC, 8), 0);
	CHECK_EQ(rd(VIRTIO_CC_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	CHECK_EQ(rd(VIRTIO_CC_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	CHECK(!virtio_pci_running(&vp));

	/* A back end that completes only after the reset (it did not wait): the queue has no
	 * rings any more, so the push is dropped instead of writing through a stale mapping. */
	CHECK(negotiate(1ull << VIRTIO_F_VERSION_1) & VIRTIO_STATUS_FEATURES_OK);
	queue0_setup();
	driver_ok();
	offer_one();
	wr(VIRTIO_NOTIFY_OFF, 2, 0);
	CHECK_EQ(held_head, 0);
	complete_during_reset = false;
	wr(VIRTIO_CC_STATUS, 1, 0);
	CHECK_EQ(held_head, 0);
	memset(ram + USED, 0, 64);
	complete_held(); /* after the reset: must not crash nor write */
	CHECK_EQ(used_idx(), 0);
	CHECK_EQ(intx_level, 0);
	CHECK_EQ(rd(VIRTIO_ISR_OFF, 1), 0);
	/* Kicks of a reset device go nowhere. */
	unsigned k = kicks[0];
	wr(VIRTIO_NOTIFY_OFF, 2, 0);
	CHECK_EQ(kicks[0], k);
	teardown();
}

static void test_needs_reset(void)
{
	setup();
	CHECK(negotiate(1ull << VIRTIO_F_VERSION_1) & VIRTIO_STATUS_FEATURES_OK);
	/* Rings outside guest RAM: the queue is refused and the device needs a reset. */
	wr(VIRTIO_CC_Q_SELECT, 2, 0);
	wr(VIRTIO_CC_Q_DESC, 8, 0x40000000ull);
	wr(VIRTIO_CC_Q_AVAIL, 8, AVAIL);
	wr(VIRTIO_CC_Q_USED, 8, USED);
	wr(VIRTIO_CC_Q_ENABLE, 2, 1);
	CHECK_EQ(rd(VIRTIO_CC_Q_ENABLE, 2), 0);
	CHECK(rd(VIRTIO_CC_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
	driver_ok(); /* broken before DRIVER_OK: a config interrupt now, no start */
	CHECK_EQ(starts, 0);
	CHECK(rd(VIRTIO_CC_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET);
	CHECK(!virtio_pci_running(&vp));
	CHECK_EQ(rd(VIRTIO_ISR_OFF, 1), 2);
	wr(VIRTIO_CC_STATUS, 1, 0);
	CHECK_EQ(rd(VIRTIO_CC_STATUS, 1), 0);
	teardown();
}

UNIT_MAIN(test_common_config, test_features_ok, test_kick_and_intx, test_msix_vectors,
	  test_reset_with_request_in_flight, test_needs_reset)
