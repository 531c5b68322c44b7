#include "hw/i8042.h"

#include <string.h>

#define I8042_DATA 0 /* port 0x60 */
#define I8042_CMD 4  /* port 0x64 */

#define STS_OBF 0x01
#define STS_SYS 0x04
#define STS_CMD 0x08 /* last write was to the command port */

#define CB_KBD_INT 0x01
#define CB_SYS 0x04
#define CB_KBD_DISABLE 0x10
#define CB_AUX_DISABLE 0x20
#define CB_XLATE 0x40

#define CMD_READ_CB 0x20
#define CMD_WRITE_CB 0x60
#define CMD_AUX_DISABLE 0xA7
#define CMD_AUX_ENABLE 0xA8
#define CMD_AUX_TEST 0xA9
#define CMD_SELF_TEST 0xAA
#define CMD_KBD_TEST 0xAB
#define CMD_KBD_DISABLE 0xAD
#define CMD_KBD_ENABLE 0xAE
#define CMD_READ_OUTPORT 0xD0
#define CMD_WRITE_OUTPORT 0xD1
#define CMD_WRITE_AUX 0xD4
#define CMD_PULSE_RESET 0xFE

#define KBD_ACK 0xFA
#define KBD_RESEND 0xFE

static void kbc_push(struct i8042 *k, uint8_t b)
{
	if (k->q_count < I8042_QUEUE) {
		k->q[(k->q_head + k->q_count) % I8042_QUEUE] = b;
		k->q_count++;
	}
}

static void kbc_update(struct i8042 *k)
{
	if (k->q_count)
		k->status |= STS_OBF;
	else
		k->status &= (uint8_t)~STS_OBF;
	irq_line_set(k->kbd_irq, k->q_count && (k->cmd_byte & CB_KBD_INT));
}

static void kbc_init_state(struct i8042 *k)
{
	k->cmd_byte = CB_KBD_INT | CB_SYS | CB_XLATE;
	k->status = STS_SYS;
	k->outport = 0x01; /* reset line released; A20 is always enabled here */
	k->pending_cmd = 0;
	k->kbd_pending = 0;
	k->kbd_enabled = 1;
	k->q_head = k->q_count = 0;
}

void i8042_init(struct i8042 *k, struct irq_line *kbd_irq, void (*reset)(void *ctx), void *ctx)
{
	memset(k, 0, sizeof(*k));
	pthread_mutex_init(&k->lock, NULL);
	k->kbd_irq = kbd_irq;
	k->reset = reset;
	k->reset_ctx = ctx;
	kbc_init_state(k);
}

void i8042_destroy(struct i8042 *k)
{
	pthread_mutex_destroy(&k->lock);
}

unsigned i8042_key(struct i8042 *k, const uint8_t *codes, unsigned n)
{
	unsigned i;
	pthread_mutex_lock(&k->lock);
	for (i = 0; i < n && k->q_count < I8042_QUEUE; i++)
		kbc_push(k, codes[i]);
	kbc_update(k);
	pthread_mutex_unlock(&k->lock);
	return i;
}

/* A byte for the keyboard itself (written to port 0x60 with no controller command pending). */
static void kbd_write(struct i8042 *k, uint8_t b)
{
	if (k->kbd_pending) { /* the parameter byte of a two-byte keyboard command */
		k->kbd_pending = 0;
		kbc_push(k, KBD_ACK);
		return;
	}
	switch (b) {
	case 0xED: /* set LEDs */
	case 0xF0: /* scancode set */
	case 0xF3: /* typematic rate */
		k->kbd_pending = b;
		kbc_push(k, KBD_ACK);
		break;
	case 0xF2: /* identify: MF2 keyboard */
		kbc_push(k, KBD_ACK);
		kbc_push(k, 0xAB);
		kbc_push(k, 0x83);
		break;
	case 0xF4:
		k->kbd_enabled = 1;
		kbc_push(k, KBD_ACK);
		break;
	case 0xF5:
		k->kbd_enabled = 0;
		kbc_push(k, KBD_ACK);
		break;
	case 0xEE: /* echo */
		kbc_push(k, 0xEE);
		break;
	case 0xFF: /* reset: ACK then self-test passed */
		k->kbd_enabled = 1;
		kbc_push(k, KBD_ACK);
		kbc_push(k, 0xAA);
		break;
	case 0xF6:
	case 0xF7:
	case 0xF8:
	case 0xF9:
	case 0xFA:
	case 0xFB:
		kbc_push(k, KBD_ACK);
		break;
	default:
		kbc_push(k, KBD_RESEND);
	}
}

static uint64_t i8042_read(void *ctx, uint64_t off, unsigned size)
{
	struct i8042 *k = ctx;
	uint8_t v;
	(void)size;
	pthread_mutex_lock(&k->lock);
	if (off == I8042_CMD) {
		v = k->status;
	} else if (off == I8042_DATA) {
		v = 0;
		if (k->q_count) {
			v = k->q[k->q_head];
			k->q_head = (k->q_head + 1) % I8042_QUEUE;
			k->q_count--;
		}
		kbc_update(k);
	} else {
		v = 0xFF;
	}
	pthread_mutex_unlock(&k->lock);
	return v;
}

static void i8042_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct i8042 *k = ctx;
	uint8_t b = (uint8_t)val;
	int do_reset = 0;
	(void)size;
	pthread_mutex_lock(&k->lock);
	if (off == I8042_CMD) {
		k->status |= STS_CMD;
		switch (b) {
		case CMD_READ_CB:
			kbc_push(k, k->cmd_byte);
			break;
		case CMD_WRITE_CB:
		case CMD_WRITE_OUTPORT:
		case CMD_WRITE_AUX:
			k->pending_cmd = b;
			break;
		case CMD_AUX_DISABLE:
			k->cmd_byte |= CB_AUX_DISABLE;
			break;
		case CMD_AUX_ENABLE:
			k->cmd_byte &= (uint8_t)~CB_AUX_DISABLE;
			break;
		case CMD_AUX_TEST:
			kbc_push(k, 0x01); /* clock line stuck low: no mouse port */
			break;
		case CMD_SELF_TEST:
			kbc_push(k, 0x55);
			break;
		case CMD_KBD_TEST:
			kbc_push(k, 0x00);
			break;
		case CMD_KBD_DISABLE:
			k->cmd_byte |= CB_KBD_DISABLE;
			break;
		case CMD_KBD_ENABLE:
			k->cmd_byte &= (uint8_t)~CB_KBD_DISABLE;
			break;
		case CMD_READ_OUTPORT:
			kbc_push(k, k->outport);
			break;
		default:
			/* 0xF0-0xFF pulse output-port lines; bit 0 low is the CPU reset. */
			if (b >= 0xF0 && !(b & 0x01))
				do_reset = 1;
		}
	} else if (off == I8042_DATA) {
		k->status &= (uint8_t)~STS_CMD;
		uint8_t cmd = k->pending_cmd;
		k->pending_cmd = 0;
		switch (cmd) {
		case CMD_WRITE_CB:
			k->cmd_byte = b;
			break;
		case CMD_WRITE_OUTPORT:
			k->outport = b;
			if (!(b & 0x01))
				do_reset = 1;
			break;
		case CMD_WRITE_AUX:
			break; /* nothing on the aux port */
		default:
			kbd_write(k, b);
		}
	}
	kbc_update(k);
	if (do_reset)
		kbc_init_state(k);
	pthread_mutex_unlock(&k->lock);
	if (do_reset && k->reset)
		k->reset(k->reset_ctx);
}

const struct io_ops i8042_ops = { .read = i8042_read, .write = i8042_write };
