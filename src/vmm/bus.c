#include "vmm/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

void bus_init(struct bus *b, const char *name)
{
	memset(b, 0, sizeof(*b));
	b->name = name;
	pthread_rwlock_init(&b->lock, NULL);
	pthread_mutex_init(&b->log_lock, NULL);
}

void bus_destroy(struct bus *b)
{
	free(b->r);
	pthread_rwlock_destroy(&b->lock);
	pthread_mutex_destroy(&b->log_lock);
	memset(b, 0, sizeof(*b));
}

/* Index of the first range whose end is above addr (ranges are sorted and disjoint). */
static int bus_search(const struct bus *b, uint64_t addr)
{
	int lo = 0, hi = b->nr;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (b->r[mid].base + b->r[mid].len <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int bus_add(struct bus *b, uint64_t base, uint64_t len, const struct io_ops *ops, void *ctx,
	    const char *name)
{
	if (len == 0 || base + len < base)
		return -EINVAL;
	pthread_rwlock_wrlock(&b->lock);
	int i = bus_search(b, base);
	if (i < b->nr && b->r[i].base < base + len) {
		pthread_rwlock_unlock(&b->lock);
		return -EEXIST;
	}
	if (b->nr == b->cap) {
		int cap = b->cap ? b->cap * 2 : 16;
		struct bus_range *n = realloc(b->r, (size_t)cap * sizeof(*n));
		if (!n) {
			pthread_rwlock_unlock(&b->lock);
			return -ENOMEM;
		}
		b->r = n;
		b->cap = cap;
	}
	memmove(&b->r[i + 1], &b->r[i], (size_t)(b->nr - i) * sizeof(b->r[0]));
	b->r[i] = (struct bus_range){ base, len, ops, ctx, name };
	b->nr++;
	pthread_rwlock_unlock(&b->lock);
	return 0;
}

int bus_remove(struct bus *b, uint64_t base, void *ctx)
{
	pthread_rwlock_wrlock(&b->lock);
	int i = bus_search(b, base);
	if (i >= b->nr || b->r[i].base != base || b->r[i].ctx != ctx) {
		pthread_rwlock_unlock(&b->lock);
		return -ENOENT;
	}
	memmove(&b->r[i], &b->r[i + 1], (size_t)(b->nr - i - 1) * sizeof(b->r[0]));
	b->nr--;
	pthread_rwlock_unlock(&b->lock);
	return 0;
}

static void bus_log_unhandled(struct bus *b, uint64_t addr, bool write, unsigned size)
{
	if (!log_debug_enabled())
		return;
	pthread_mutex_lock(&b->log_lock);
	for (int i = 0; i < b->nr_unlogged; i++) {
		if (b->unlogged[i] == addr) {
			pthread_mutex_unlock(&b->log_lock);
			return;
		}
	}
	bool log = b->nr_unlogged < BUS_UNLOGGED_MAX;
	if (log)
		b->unlogged[b->nr_unlogged++] = addr;
	pthread_mutex_unlock(&b->log_lock);
	if (log)
		log_debug("%s %s of %u bytes at 0x%llx: no device there", b->name,
			  write ? "write" : "read", size, (unsigned long long)addr);
}

bool bus_read(struct bus *b, uint64_t addr, unsigned size, uint64_t *val)
{
	pthread_rwlock_rdlock(&b->lock);
	int i = bus_search(b, addr);
	if (i < b->nr && b->r[i].base <= addr && b->r[i].ops->read) {
		const struct bus_range r = b->r[i];
		pthread_rwlock_unlock(&b->lock);
		*val = r.ops->read(r.ctx, addr - r.base, size);
		return true;
	}
	pthread_rwlock_unlock(&b->lock);
	*val = size >= 8 ? ~0ull : ((1ull << (size * 8)) - 1);
	bus_log_unhandled(b, addr, false, size);
	return false;
}

bool bus_write(struct bus *b, uint64_t addr, unsigned size, uint64_t val)
{
	pthread_rwlock_rdlock(&b->lock);
	int i = bus_search(b, addr);
	if (i < b->nr && b->r[i].base <= addr && b->r[i].ops->write) {
		const struct bus_range r = b->r[i];
		pthread_rwlock_unlock(&b->lock);
		r.ops->write(r.ctx, addr - r.base, size, val);
		return true;
	}
	pthread_rwlock_unlock(&b->lock);
	bus_log_unhandled(b, addr, true, size);
	return false;
}
