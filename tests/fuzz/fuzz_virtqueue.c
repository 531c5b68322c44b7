/*
   libFuzzer target: the virtqueue walker and the virtio-blk request parser over fake guest
 * memory filled from the input. Whatever the rings say, every host access must stay inside
 * the fake RAM (ASan checks) and nothing may crash or loop forever.
 * Built and run by `make fuzz`. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/blk_req.h"
#include "virtio/virtqueue.h"
#include "lib/log.h"

#define RAM 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	static struct vq_chain chain;
	static struct blk_req req;
	if (!ram) {
		ram = malloc(RAM);
		log_set_debug(false);
	}
	if (size < 16)
		return 0;
	/* Header: queue size exponent, flags, ring addresses, last_avail, capacity. */
	uint16_t qsize = (uint16_t)(1u << (data[0] % 11));
	bool event_idx = data[1] & 1, indirect = data[1] & 2;
	uint64_t desc, avail, used, cap;
	uint16_t last;
	desc = (uint64_t)(data[2] | data[3] << 8) * 16;
	avail = (uint64_t)(data[4] | data[5] << 8) * 2;
	used = (uint64_t)(data[6] | data[7] << 8) * 4;
	last = (uint16_t)(data[8] | data[9] << 8);
	cap = (uint64_t)data[10] << 8 | data[11];
	memset(ram, 0, RAM);
	memcpy(ram, data + 16, size - 16 < RAM ? size - 16 : RAM);
	struct guest_mem mem = { 0 };
	guest_mem_add(&mem, 0, RAM, ram);
	struct virtqueue vq = { .name = "fuzz", .size = qsize, .desc_gpa = desc,
				.avail_gpa = avail, .used_gpa = used };
	if (vq_enable(&vq, &mem, event_idx, indirect) < 0)
		return 0;
	vq.last_avail = last;
	for (int i = 0; i < 2 * VQ_MAX_SIZE; i++) {
		int r = vq_pop(&vq, &chain);
		if (r <= 0)
			break;
		uint8_t buf[64];
		vq_copy_from(&chain, data[12], buf, sizeof(buf));
		if (blk_req_parse(&chain, cap, &req) == 0 && req.status)
			*req.status = 0;
		vq_copy_to(&chain, data[13], buf, sizeof(buf));
		vq_push(&vq, chain.head, (uint32_t)chain.in_len);
		vq_should_notify(&vq);
	}
	vq_enable_notify(&vq);
	return 0;
}
