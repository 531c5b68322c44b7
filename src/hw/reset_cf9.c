#include "hw/reset_cf9.h"

#define CF9_SYS_RST 0x02
#define CF9_RST_CPU 0x04

static uint64_t cf9_read(void *ctx, uint64_t off, unsigned size)
{
	const struct reset_cf9 *r = ctx;
	(void)off;
	(void)size;
	return r->val;
}

static void cf9_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct reset_cf9 *r = ctx;
	(void)off;
	(void)size;
	r->val = (uint8_t)(val & CF9_SYS_RST);
	if ((val & CF9_RST_CPU) && r->reset)
		r->reset(r->ctx);
}

const struct io_ops reset_cf9_ops = { .read = cf9_read, .write = cf9_write };
