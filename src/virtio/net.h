/* virtio-net (virtio 1.2, 5.1) on a TAP device: one receive and one transmit queue, the
 * 12-byte virtio_net_hdr passed through to the TAP's vnet header (so checksum and TSO
 * offloads negotiated with the guest are handed to the host stack), mergeable receive
 * buffers, MAC and link status in the configuration space. */
#ifndef DOMUS_VIRTIO_NET_H
#define DOMUS_VIRTIO_NET_H
#include "backend/tap.h"
#include "virtio/virtio_pci.h"

#define VNET_RXQ 0
#define VNET_TXQ 1
#define VNET_MAX_FRAME (65536 + TAP_VNET_HDR_LEN)

struct virtio_net {
	struct virtio_pci vp;
	int tap_fd;
	bool tap_watched;
	uint8_t mac[6];
	uint16_t link_status;
	uint8_t cfg[12];
	struct vq_chain chain;
	struct vq_chain rxc[64];  /* chains taken for one mergeable packet */
	uint8_t *pkt;             /* a packet read from the TAP, not yet in guest buffers */
	size_t pkt_len;
	uint64_t rx_frames, tx_frames, rx_dropped, tx_dropped;
};

/* tap_fd is the caller's (closed by it after destroy). */
int virtio_net_init(struct virtio_net *n, const char *name, int tap_fd, const uint8_t mac[6],
		    const struct virtio_env *env, const struct msi_sink *msi);
void virtio_net_destroy(struct virtio_net *n);
/* Plug or unplug the cable: the status field's LINK_UP bit changes with a configuration
 * interrupt (the driver sees carrier), the TAP's carrier follows (the host side sees it), and
 * while down the frames of both directions are dropped, as on a cut wire. Any thread. */
void virtio_net_set_link(struct virtio_net *n, bool up);
bool virtio_net_link_up(struct virtio_net *n);

#endif
