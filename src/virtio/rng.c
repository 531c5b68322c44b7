#include "virtio/rng.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "lib/log.h"

/* At most this much entropy per request, so one greedy driver cannot stall the I/O thread. */
#define RNG_MAX_PER_REQ 4096

static void rng_kick(void *ctx, unsigned q)
{
	struct virtio_rng *r = ctx;
	struct virtqueue *vq = virtio_pci_vq(&r->vp, q);
	bool pushed = false;
	for (;;) {
		int got;
		while ((got = vq_pop(vq, &r->chain)) > 0) {
			uint32_t done = 0;
			for (unsigned i = r->chain.nout; i < (unsigned)(r->chain.nout + r->chain.nin) &&
							  done < RNG_MAX_PER_REQ; i++) {
				size_t want = r->chain.iov[i].iov_len;
				if (want > RNG_MAX_PER_REQ - done)
					want = RNG_MAX_PER_REQ - done;
				ssize_t n = getrandom(r->chain.iov[i].iov_base, want, 0);
				if (n < 0) {
					log_warn("%s: getrandom: %s", r->vp.name, strerror(errno));
					break;
				}
				done += (uint32_t)n;
			}
			r->bytes += done;
			vq_push(vq, r->chain.head, done);
			pushed = true;
		}
		if (got < 0) {
			virtio_pci_set_needs_reset(&r->vp);
			break;
		}
		if (!vq_enable_notify(vq))
			break;
	}
	if (pushed)
		virtio_pci_notify(&r->vp, q);
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
