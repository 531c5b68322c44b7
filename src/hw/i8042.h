/* i8042 keyboard controller (ports 0x60 data, 0x64 status/command), enough for a PC guest:
 * self tests, the command byte, port enable/disable, keyboard reset/identify/LEDs, the output
 * port, and the reset line (command 0xFE, or output-port bit 0 cleared) which calls reset().
 * Keys can be injected as scancode set 1 bytes with i8042_key(). No mouse is attached. */
#ifndef DOMUS_I8042_H
#define DOMUS_I8042_H
#include <pthread.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/irq.h"

#define I8042_QUEUE 64

struct i8042 {
	pthread_mutex_t lock;
	struct irq_line *kbd_irq; /* IRQ 1 */
	void (*reset)(void *ctx);
	void *reset_ctx;
	uint8_t cmd_byte, status, pending_cmd, kbd_pending, outport;
	int kbd_enabled;
	uint8_t q[I8042_QUEUE];
	unsigned q_head, q_count;
};

extern const struct io_ops i8042_ops;

void i8042_init(struct i8042 *k, struct irq_line *kbd_irq, void (*reset)(void *ctx), void *ctx);
void i8042_destroy(struct i8042 *k);
/* Queue scancode bytes as if typed; returns how many fit. */
unsigned i8042_key(struct i8042 *k, const uint8_t *codes, unsigned n);

#endif
