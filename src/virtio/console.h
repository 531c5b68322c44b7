/* virtio-console (virtio 1.2, 5.3), one port, no multiport: a second console (hvc0 in
 * Linux). Output goes to out_fd; input, when in_fd >= 0, is read from it on the I/O thread and
 * handed to the guest's receive buffers (reading pauses while the guest has none). */
#ifndef DOMUS_VIRTIO_CONSOLE_H
#define DOMUS_VIRTIO_CONSOLE_H
#include "virtio/virtio_pci.h"

#define VCON_RXQ 0
#define VCON_TXQ 1

struct virtio_console {
	struct virtio_pci vp;
	struct vq_chain chain;
	int out_fd, in_fd;
	bool in_watched, in_eof;
	uint8_t inbuf[4096];
	size_t in_len, in_off;
	uint64_t tx_bytes, rx_bytes;
};

/* out_fd and in_fd belong to the caller (closed by it after destroy); in_fd may be -1. */
int virtio_console_init(struct virtio_console *c, const char *name, int out_fd, int in_fd,
			const struct virtio_env *env, const struct msi_sink *msi);
void virtio_console_destroy(struct virtio_console *c);

#endif
