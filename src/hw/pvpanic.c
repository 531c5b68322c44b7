#include "hw/pvpanic.h"

static uint64_t pvpanic_read(void *ctx, uint64_t off, unsigned size)
{
	(void)ctx, (void)off, (void)size;
	return PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
}

static void pvpanic_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct pvpanic *p = ctx;
	(void)off, (void)size;
	/* CRASH_LOADED alone means a kdump kernel takes over: the guest goes on. */
	if ((val & PVPANIC_PANICKED) && p->panicked)
		p->panicked(p->ctx, (unsigned)val);
}

const struct io_ops pvpanic_ops = { .read = pvpanic_read, .write = pvpanic_write };
