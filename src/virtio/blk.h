/* virtio-blk (virtio 1.2, 5.2) on a disk image: read/write, FLUSH (fdatasync, acknowledged
 * only after it returns), DISCARD and WRITE_ZEROES (hole punching / zero ranges), GET_ID,
 * read-only disks (the guest sees VIRTIO_BLK_F_RO and writes fail with IOERR). Requests run
 * asynchronously on the I/O thread (io_uring), up to a queue's worth in flight. */
#ifndef DOMUS_VIRTIO_BLK_H
#define DOMUS_VIRTIO_BLK_H
#include <pthread.h>

#include "backend/block.h"
#include "virtio/blk_req.h"
#include "virtio/virtio_pci.h"

#define VIRTIO_BLK_QUEUE_SIZE 256
#define VIRTIO_BLK_CFG_SIZE 60

struct virtio_blk_slot {
	struct blk_req req;
	uint16_t head;
};

struct virtio_blk {
	struct virtio_pci vp;
	struct block disk;
	char serial[VIRTIO_BLK_ID_BYTES];
	uint64_t capacity; /* sectors */
	uint8_t cfg[VIRTIO_BLK_CFG_SIZE];
	struct virtio_blk_slot *slots;
	uint16_t *free_slots;
	unsigned nfree, inflight;
	pthread_cond_t drained;
	struct vq_chain chain; /* scratch for vq_pop */
	bool io_watched;
	uint64_t requests, errors;
};

/* Open the image and set up the PCI function (join a bus with pci_bus_add(&b->vp.pci, ..)).
 * serial: GET_ID string (up to 20 bytes used). 0, or -errno with the reason in err. */
int virtio_blk_init(struct virtio_blk *b, const char *name, const char *path, bool readonly,
		    const char *serial, const struct virtio_env *env, const struct msi_sink *msi,
		    char *err, size_t errlen);
void virtio_blk_destroy(struct virtio_blk *b);

#endif
