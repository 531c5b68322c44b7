/* virtio-rng (virtio 1.2, 5.4): the guest's entropy requests are filled from getrandom(). */
#ifndef DOMUS_VIRTIO_RNG_H
#define DOMUS_VIRTIO_RNG_H
#include "virtio/virtio_pci.h"

struct virtio_rng {
	struct virtio_pci vp;
	struct vq_chain chain;
	uint64_t bytes;
};

int virtio_rng_init(struct virtio_rng *r, const char *name, const struct virtio_env *env,
		    const struct msi_sink *msi);
void virtio_rng_destroy(struct virtio_rng *r);

#endif
