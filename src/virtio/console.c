#include "virtio/console.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "lib/log.h"

#define VCON_CFG_SIZE 12 /* cols, rows, max_nr_ports, emerg_wr: unused without features */

static void input_event(void *ctx, uint32_t events);

static void watch_input(struct virtio_console *c, bool on)
{
	if (c->in_fd < 0 || !c->vp.env.loop || c->in_watched == on || (on && c->in_eof))
		return;
	if (on)
		c->in_watched = evl_add(c->vp.env.loop, c->in_fd, EPOLLIN, input_event, c) == 0;
	else {
		evl_del(c->vp.env.loop, c->in_fd);
		c->in_watched = false;
	}
}

/* Move buffered input into receive buffers. Lock held. */
static void deliver_input(struct virtio_console *c)
{
	struct virtqueue *vq = virtio_pci_vq(&c->vp, VCON_RXQ);
	bool pushed = false;
	while (c->in_off < c->in_len) {
		int got = vq_pop(vq, &c->chain);
		if (got < 0) {
			virtio_pci_set_needs_reset(&c->vp);
			break;
		}
		if (got == 0)
			break;
		size_t n = vq_copy_to(&c->chain, 0, c->inbuf + c->in_off, c->in_len - c->in_off);
		c->in_off += n;
		c->rx_bytes += n;
		vq_push(vq, c->chain.head, (uint32_t)n);
		pushed = true;
	}
	if (pushed)
		virtio_pci_notify(&c->vp, VCON_RXQ);
	/* Read more only once everything buffered has reached the guest. */
	watch_input(c, c->in_off >= c->in_len && virtio_pci_running(&c->vp));
}

static void input_event(void *ctx, uint32_t events)
{
	struct virtio_console *c = ctx;
	(void)events;
	virtio_pci_lock(&c->vp);
	if (c->in_off >= c->in_len) {
		ssize_t n = read(c->in_fd, c->inbuf, sizeof(c->inbuf));
		if (n > 0) {
			c->in_len = (size_t)n;
			c->in_off = 0;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			c->in_eof = true;
			watch_input(c, false);
		}
	}
	deliver_input(c);
	virtio_pci_unlock(&c->vp);
}

/* One chain of output: the guest's bytes go out as they are; a failing sink drops them. */
static uint32_t con_output(void *ctx, const struct vq_chain *ch)
{
	struct virtio_console *c = ctx;
	for (unsigned i = 0; i < ch->nout; i++) {
		const uint8_t *p = ch->iov[i].iov_base;
		size_t left = ch->iov[i].iov_len;
		while (left) {
			ssize_t w = write(c->out_fd, p, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			p += w;
			left -= (size_t)w;
		}
	}
	c->tx_bytes += ch->out_len;
	return 0;
}

static void con_kick(void *ctx, unsigned q)
{
	struct virtio_console *c = ctx;
	if (q == VCON_RXQ)
		deliver_input(c);
	else
		virtio_pci_serve_queue(&c->vp, VCON_TXQ, &c->chain, con_output, c);
}

static void con_start(void *ctx)
{
	struct virtio_console *c = ctx;
	watch_input(c, c->in_off >= c->in_len);
}

static void unwatch_input(struct virtio_console *c)
{
	virtio_pci_unwatch(&c->vp, &c->in_watched, c->in_fd);
}

static void con_reset(void *ctx)
{
	unwatch_input(ctx);
}

static void con_cfg_read(void *ctx, unsigned off, void *buf, unsigned len)
{
	(void)ctx, (void)off;
	memset(buf, 0, len);
}

static const struct virtio_dev_ops con_ops = {
	.device_id = 3,
	.pci_class = 0x078000,
	.cfg_read = con_cfg_read,
	.start = con_start,
	.kick = con_kick,
	.reset = con_reset,
};

int virtio_console_init(struct virtio_console *c, const char *name, int out_fd, int in_fd,
			const struct virtio_env *env, const struct msi_sink *msi)
{
	memset(c, 0, sizeof(*c));
	c->out_fd = out_fd;
	c->in_fd = in_fd;
	return virtio_pci_init(&c->vp, name, &con_ops, c, 0, 2, 64, VCON_CFG_SIZE, env, msi);
}

void virtio_console_destroy(struct virtio_console *c)
{
	if (!c->vp.ops)
		return;
	unwatch_input(c);
	virtio_pci_destroy(&c->vp);
}
