/* An I/O bus: port I/O or MMIO ranges mapped to device callbacks.
 *
 * Ranges never overlap: bus_add() rejects an overlapping insert. Lookups run on vCPU threads
 * under a read lock, so devices (e.g. PCI BARs) may be moved while the guest runs. Accesses to
 * no device read as all ones and are logged once per address at debug level. */
#ifndef DOMUS_BUS_H
#define DOMUS_BUS_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct io_ops {
	/* off is relative to the range base; size is 1, 2, 4 or 8. */
	uint64_t (*read)(void *ctx, uint64_t off, unsigned size);
	void (*write)(void *ctx, uint64_t off, unsigned size, uint64_t val);
};

struct bus_range {
	uint64_t base, len;
	const struct io_ops *ops;
	void *ctx;
	const char *name;
};

#define BUS_UNLOGGED_MAX 64

struct bus {
	const char *name; /* "port" or "mmio", for messages */
	struct bus_range *r;
	int nr, cap;
	pthread_rwlock_t lock;
	pthread_mutex_t log_lock;
	uint64_t unlogged[BUS_UNLOGGED_MAX]; /* addresses already logged as unhandled */
	int nr_unlogged;
};

void bus_init(struct bus *b, const char *name);
void bus_destroy(struct bus *b);
/* 0, -EEXIST when [base, base+len) overlaps a range, -EINVAL for len 0 or wrap, -ENOMEM. */
int bus_add(struct bus *b, uint64_t base, uint64_t len, const struct io_ops *ops, void *ctx,
	    const char *name);
/* Remove the range that starts at base with this ctx; 0 or -ENOENT. */
int bus_remove(struct bus *b, uint64_t base, void *ctx);
/* Dispatch one access. Returns true when a device handled it; otherwise a read yields all ones. */
bool bus_read(struct bus *b, uint64_t addr, unsigned size, uint64_t *val);
bool bus_write(struct bus *b, uint64_t addr, unsigned size, uint64_t val);

#endif
