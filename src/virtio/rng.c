#include "virtio/rng.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "lib/log.h"

/* At most this much entropy per request, so one greedy driver cannot stall the I/O thread. */
#define RNG_MAX_PER_REQ 4096

/* Fill one request's writable buffers, up to RNG_MAX_PER_REQ bytes. */
static uint32_t rng_fill(void *ctx, const struct vq_chain *c)
{
	struct virtio_rng *r = ctx;
	uint32_t done = 0;
	for (unsigned i = c->nout; i < (unsigned)(c->nout + c->nin) && done < RNG_MAX_PER_REQ;
	     i++) {
		size_t want = c->iov[i].iov_len;
		if (want > RNG_MAX_PER_REQ - done)
			want = RNG_MAX_PER_REQ - done;
		ssize_t n = getrandom(c->iov[i].iov_base, want, 0);
		if (n < 0) {
			log_warn("%s: getrandom: %s", r->vp.name, strerror(errno));
			break;
		}
		done += (uint32_t)n;
	}
	r->bytes += done;
	return done;
}

static void rng_kick(void *ctx, unsigned q)
{
	struct virtio_rng *r = ctx;
	virtio_pci_serve_queue(&r->vp, q, &r->chain, rng_fill, r);
}

static const struct virtio_dev_ops rng_ops = {
	.device_id = 4,
	.pci_class = 0x00FF00,
	.kick = rng_kick,
};

int virtio_rng_init(struct virtio_rng *r, const char *name, const struct virtio_env *env,
		    const struct msi_sink *msi)
{
	memset(r, 0, sizeof(*r));
	return virtio_pci_init(&r->vp, name, &rng_ops, r, 0, 1, 64, 0, env, msi);
}

void virtio_rng_destroy(struct virtio_rng *r)
{
	if (r->vp.ops)
		virtio_pci_destroy(&r->vp);
}
