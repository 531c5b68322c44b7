#include "virtio/net.h"

#include <errno.h>
#include <linux/if_tun.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/log.h"

#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP 1
#define HDR_NUM_BUFFERS 10 /* offset of num_buffers in the 12-byte header */

static void tap_event(void *ctx, uint32_t events);

static void watch_tap(struct virtio_net *n, bool on)
{
	if (!n->vp.env.loop || n->tap_watched == on)
		return;
	if (on)
		n->tap_watched = evl_add(n->vp.env.loop, n->tap_fd, EPOLLIN, tap_event, n) == 0;
	else {
		evl_del(n->vp.env.loop, n->tap_fd);
		n->tap_watched = false;
	}
}

/* Put the pending packet into receive buffers. True when it went in (or was dropped), false
 * when the guest has too few buffers right now. Lock held. */
static bool rx_place(struct virtio_net *n, bool *pushed)
{
	struct virtqueue *vq = virtio_pci_vq(&n->vp, VNET_RXQ);
	bool mrg = virtio_pci_has_feature(&n->vp, VIRTIO_NET_F_MRG_RXBUF);
	size_t off = 0;
	unsigned used = 0;
	while (off < n->pkt_len) {
		if (used == sizeof(n->rxc) / sizeof(n->rxc[0]) || (!mrg && used == 1)) {
			/* The packet does not fit the buffers the driver gives: drop it. */
			vq_unpop(vq, (uint16_t)used);
			n->rx_dropped++;
			return true;
		}
		int got = vq_pop(vq, &n->rxc[used]);
		if (got < 0) {
			virtio_pci_set_needs_reset(&n->vp);
			return true;
		}
		if (got == 0) {
			vq_unpop(vq, (uint16_t)used);
			return false;
		}
		size_t c = vq_copy_to(&n->rxc[used], 0, n->pkt + off, n->pkt_len - off);
		if (c == 0 && n->rxc[used].in_len == 0) {
			vq_unpop(vq, (uint16_t)(used + 1));
			virtio_pci_set_needs_reset(&n->vp);
			return true;
		}
		off += c;
		used++;
	}
	/* num_buffers lives in the first buffer's header. */
	uint16_t nb = (uint16_t)used;
	uint8_t nbb[2] = { (uint8_t)nb, (uint8_t)(nb >> 8) };
	vq_copy_to(&n->rxc[0], HDR_NUM_BUFFERS, nbb, 2);
	off = 0;
	for (unsigned i = 0; i < used; i++) {
		size_t c = n->rxc[i].in_len < n->pkt_len - off ? n->rxc[i].in_len : n->pkt_len - off;
		vq_push(vq, n->rxc[i].head, (uint32_t)c);
		off += c;
	}
	n->rx_frames++;
	*pushed = true;
	return true;
}

/* Move packets from the TAP into the guest until either runs dry. Lock held. */
static void rx_pump(struct virtio_net *n)
{
	bool pushed = false;
	struct virtqueue *vq = virtio_pci_vq(&n->vp, VNET_RXQ);
	if (!(n->link_status & VIRTIO_NET_S_LINK_UP)) {
		/* Unplugged: what the host still sends is lost on the wire. */
		if (n->pkt_len)
			n->rx_dropped++;
		n->pkt_len = 0;
		while (read(n->tap_fd, n->pkt, VNET_MAX_FRAME) > 0)
			n->rx_dropped++;
		return;
	}
	while (virtio_pci_running(&n->vp) && vq->ready) {
		if (!n->pkt_len) {
			ssize_t r = read(n->tap_fd, n->pkt, VNET_MAX_FRAME);
			if (r <= TAP_VNET_HDR_LEN)
				break;
			n->pkt_len = (size_t)r;
		}
		if (!rx_place(n, &pushed)) {
			/* Too few buffers: stop reading until the driver adds some (rx kick). The
			 * chains taken for this packet went back, so ask for a kick on buffers
			 * beyond those. */
			if (vq_enable_notify_more(vq))
				continue;
			watch_tap(n, false);
			break;
		}
		n->pkt_len = 0;
	}
	if (pushed)
		virtio_pci_notify(&n->vp, VNET_RXQ);
}

static void tap_event(void *ctx, uint32_t events)
{
	struct virtio_net *n = ctx;
	(void)events;
	virtio_pci_lock(&n->vp);
	rx_pump(n);
	virtio_pci_unlock(&n->vp);
}

/* One frame to send: header and frame go to the TAP as one write; the kernel checks the
 * header. Unplugged, the frame is lost on the wire. */
static uint32_t tx_frame(void *ctx, const struct vq_chain *c)
{
	struct virtio_net *n = ctx;
	if (!(n->link_status & VIRTIO_NET_S_LINK_UP))
		n->tx_dropped++;
	else if (c->out_len > TAP_VNET_HDR_LEN && c->out_len <= VNET_MAX_FRAME &&
		 writev(n->tap_fd, c->iov, c->nout) >= 0)
		n->tx_frames++;
	return 0;
}

static void net_kick(void *ctx, unsigned q)
{
	struct virtio_net *n = ctx;
	if (q == VNET_TXQ) {
		virtio_pci_serve_queue(&n->vp, VNET_TXQ, &n->chain, tx_frame, n);
		return;
	}
	watch_tap(n, true);
	rx_pump(n);
}

static void net_start(void *ctx)
{
	struct virtio_net *n = ctx;
	unsigned off = 0;
	if (virtio_pci_has_feature(&n->vp, VIRTIO_NET_F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		if (virtio_pci_has_feature(&n->vp, VIRTIO_NET_F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (virtio_pci_has_feature(&n->vp, VIRTIO_NET_F_GUEST_TSO6))
			off |= TUN_F_TSO6;
		if (virtio_pci_has_feature(&n->vp, VIRTIO_NET_F_GUEST_ECN))
			off |= TUN_F_TSO_ECN;
	}
	int e = tap_set_offload(n->tap_fd, off);
	if (e < 0)
		log_warn("%s: TAP offloads 0x%x: %s", n->vp.name, off, strerror(-e));
	watch_tap(n, true);
}

static void unwatch_tap(struct virtio_net *n)
{
	virtio_pci_unwatch(&n->vp, &n->tap_watched, n->tap_fd);
}

static void net_reset(void *ctx)
{
	struct virtio_net *n = ctx;
	unwatch_tap(n);
	virtio_pci_lock(&n->vp);
	n->pkt_len = 0;
	virtio_pci_unlock(&n->vp);
}

static void net_cfg_read(void *ctx, unsigned off, void *buf, unsigned len)
{
	struct virtio_net *n = ctx;
	memcpy(n->cfg, n->mac, 6);
	n->cfg[6] = (uint8_t)n->link_status;
	n->cfg[7] = (uint8_t)(n->link_status >> 8);
	n->cfg[8] = 1; /* max_virtqueue_pairs */
	n->cfg[9] = 0;
	n->cfg[10] = 1500 & 0xFF; /* mtu */
	n->cfg[11] = 1500 >> 8;
	memcpy(buf, n->cfg + off, len);
}

static const struct virtio_dev_ops net_ops = {
	.device_id = 1,
	.pci_class = 0x020000,
	.cfg_read = net_cfg_read,
	.start = net_start,
	.kick = net_kick,
	.reset = net_reset,
};

int virtio_net_init(struct virtio_net *n, const char *name, int tap_fd, const uint8_t mac[6],
		    const struct virtio_env *env, const struct msi_sink *msi)
{
	memset(n, 0, sizeof(*n));
	n->tap_fd = tap_fd;
	memcpy(n->mac, mac, 6);
	n->link_status = VIRTIO_NET_S_LINK_UP;
	n->pkt = malloc(VNET_MAX_FRAME);
	if (!n->pkt)
		return -ENOMEM;
	uint64_t f = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_STATUS |
		     1ull << VIRTIO_NET_F_MRG_RXBUF | 1ull << VIRTIO_NET_F_CSUM |
		     1ull << VIRTIO_NET_F_GUEST_CSUM | 1ull << VIRTIO_NET_F_GUEST_TSO4 |
		     1ull << VIRTIO_NET_F_GUEST_TSO6 | 1ull << VIRTIO_NET_F_GUEST_ECN |
		     1ull << VIRTIO_NET_F_HOST_TSO4 | 1ull << VIRTIO_NET_F_HOST_TSO6 |
		     1ull << VIRTIO_NET_F_HOST_ECN;
	int e = virtio_pci_init(&n->vp, name, &net_ops, n, f, 2, 256, sizeof(n->cfg), env, msi);
	if (!e && env->loop)
		e = virtio_pci_poll_queue(&n->vp, VNET_TXQ);
	return e;
}

void virtio_net_set_link(struct virtio_net *n, bool up)
{
	virtio_pci_lock(&n->vp);
	uint16_t was = n->link_status;
	n->link_status = up ? VIRTIO_NET_S_LINK_UP : 0;
	if (was != n->link_status)
		virtio_pci_config_changed(&n->vp);
	/* Frames waiting in the TAP or for receive buffers are dropped on the I/O thread. */
	if (!up)
		virtio_pci_kick_later(&n->vp, VNET_RXQ);
	virtio_pci_unlock(&n->vp);
	int e = tap_set_carrier(n->tap_fd, up);
	if (e < 0)
		log_warn("%s: TAP carrier %s: %s", n->vp.name, up ? "on" : "off", strerror(-e));
}

bool virtio_net_link_up(struct virtio_net *n)
{
	virtio_pci_lock(&n->vp);
	bool up = n->link_status & VIRTIO_NET_S_LINK_UP;
	virtio_pci_unlock(&n->vp);
	return up;
}

void virtio_net_destroy(struct virtio_net *n)
{
	if (n->vp.ops) {
		unwatch_tap(n);
		virtio_pci_destroy(&n->vp);
	}
	free(n->pkt);
	n->pkt = NULL;
}
