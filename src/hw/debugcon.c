#include "hw/debugcon.h"

#include <string.h>

#include "lib/log.h"

static void flush(struct debugcon *d)
{
	if (d->len) {
		d->line[d->len] = '\0';
		log_debug("%s: %s", d->source, d->line);
		d->len = 0;
	}
}

void debugcon_init(struct debugcon *d, const char *source)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	d->source = source;
}

void debugcon_destroy(struct debugcon *d)
{
	flush(d);
	pthread_mutex_destroy(&d->lock);
}

static uint64_t debugcon_read(void *ctx, uint64_t off, unsigned size)
{
	(void)ctx, (void)off, (void)size;
	return 0xE9;
}

static void debugcon_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct debugcon *d = ctx;
	(void)off;
	if (!log_debug_enabled())
		return;
	pthread_mutex_lock(&d->lock);
	for (unsigned i = 0; i < size; i++) {
		char c = (char)(val >> (8 * i));
		if (c == '\n' || d->len == DEBUGCON_LINE)
			flush(d);
		if (c == '\n')
			continue;
		/* Firmware logs are text; anything else is shown escaped-free as '.'. */
		d->line[d->len++] = (c >= 0x20 && c < 0x7F) || c == '\t' ? c : '.';
	}
	pthread_mutex_unlock(&d->lock);
}

const struct io_ops debugcon_ops = { .read = debugcon_read, .write = debugcon_write };
