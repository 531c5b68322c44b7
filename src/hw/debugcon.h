/* The Bochs/QEMU debug console: a write-only byte port (0x402) where SeaBIOS and its VGA BIOS
 * print their debug log. Lines go to the log at debug level, prefixed with the source name, so
 * `domus run --debug` shows what the firmware did. Reads return 0xE9, the port's signature. */
#ifndef DOMUS_DEBUGCON_H
#define DOMUS_DEBUGCON_H
#include <pthread.h>
#include <stddef.h>

#include "vmm/bus.h"

#define DEBUGCON_PORT 0x402
#define DEBUGCON_LINE 200

struct debugcon {
	pthread_mutex_t lock;
	const char *source;
	char line[DEBUGCON_LINE + 1];
	size_t len;
};

extern const struct io_ops debugcon_ops;

void debugcon_init(struct debugcon *d, const char *source);
/* Flush a partial line and release. */
void debugcon_destroy(struct debugcon *d);

#endif
