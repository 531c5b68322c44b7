/* virtio-blk request parsing (virtio 1.2, 5.2.6), kept apart from the device so that unit
 * tests and the fuzzer can drive it with crafted chains.
 *
 * blk_req_parse() reads the 16-byte header from the chain's readable part (it may span
 * segments), finds the status byte (the last writable byte), and builds the data iovecs:
 * the readable bytes after the header for OUT/DISCARD/WRITE_ZEROES, the writable bytes
 * before the status for IN/GET_ID. It checks the data length (a multiple of 512 for IN/OUT,
 * of 16 for DISCARD/WRITE_ZEROES) and the sector range against the capacity with overflow-
 * safe arithmetic. A chain without room for a status byte cannot be answered: the device
 * must treat that as a driver error (NEEDS_RESET). */
#ifndef DOMUS_BLK_REQ_H
#define DOMUS_BLK_REQ_H
#include <stdint.h>

#include "virtio/virtqueue.h"

#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_T_WRITE_ZEROES 13

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_ID_BYTES 20
#define BLK_SECTOR 512ull

struct blk_req {
	uint32_t type;
	uint64_t sector;
	uint8_t *status;       /* host pointer to the status byte; NULL: no room for it */
	uint8_t result;        /* status decided at parse time, or OK when the request is to run */
	uint64_t len;          /* data bytes */
	uint64_t off, count;   /* byte range on the disk for IN/OUT/DISCARD/WRITE_ZEROES */
	uint32_t zero_flags;   /* WRITE_ZEROES: bit 0 = may unmap */
	unsigned niov;
	struct iovec iov[VQ_MAX_SEGS];
};

/* Parse c for a disk of capacity sectors. Returns 0 with r->result = OK for a request to
 * execute, 0 with IOERR/UNSUPP for one to answer at once, -EINVAL when it has no status byte. */
int blk_req_parse(const struct vq_chain *c, uint64_t capacity, struct blk_req *r);

#endif
