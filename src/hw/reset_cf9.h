/* The PIIX reset control register at port 0xCF9: writing RST_CPU (bit 2) resets the machine
 * (SYS_RST and FULL_RST choose hard or soft reset on real chips; here both restart the guest). */
#ifndef DOMUS_RESET_CF9_H
#define DOMUS_RESET_CF9_H
#include <stdint.h>

#include "vmm/bus.h"

struct reset_cf9 {
	void (*reset)(void *ctx);
	void *ctx;
	uint8_t val;
};

extern const struct io_ops reset_cf9_ops;

#endif
