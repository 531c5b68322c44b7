/* An interrupt line as device cores see it: a level that the machine turns into a KVM IRQ.
 * Devices call irq_line_set(); only changes reach the set() callback. */
#ifndef DOMUS_IRQ_H
#define DOMUS_IRQ_H
#include <stdatomic.h>

struct irq_line {
	void (*set)(void *ctx, unsigned gsi, int level);
	void *ctx;
	unsigned gsi;
	atomic_int level;
};

static inline void irq_line_set(struct irq_line *l, int level)
{
	if (!l->set)
		return;
	if (atomic_exchange(&l->level, level) != level)
		l->set(l->ctx, l->gsi, level);
}

/* An edge: a rising then a falling level (e.g. for an edge-triggered PIC input). */
static inline void irq_line_pulse(struct irq_line *l)
{
	irq_line_set(l, 1);
	irq_line_set(l, 0);
}

#endif
