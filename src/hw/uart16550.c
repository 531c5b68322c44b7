#include "hw/uart16550.h"

#include <string.h>

#define UART_RBR 0 /* read, DLAB=0 */
#define UART_THR 0 /* write, DLAB=0 */
#define UART_IER 1
#define UART_IIR 2 /* read */
#define UART_FCR 2 /* write */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define IER_RDI 0x01  /* received data available */
#define IER_THRI 0x02 /* transmitter holding register empty */
#define IER_MSI 0x08
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define IIR_MSI 0x00
#define IIR_FIFO 0xC0
#define FCR_FIFO_EN 0x01
#define FCR_CLEAR_RX 0x02
#define LCR_DLAB 0x80
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

static uint8_t uart_iir(const struct uart16550 *u)
{
	uint8_t fifo = (u->fcr & FCR_FIFO_EN) ? IIR_FIFO : 0;
	if ((u->ier & IER_RDI) && u->rx_count)
		return IIR_RDI | fifo;
	if ((u->ier & IER_THRI) && u->thr_ipending)
		return IIR_THRI | fifo;
	return IIR_NO_INT | fifo;
}

/* The PC wires the UART's interrupt through OUT2; Linux's 8250 driver relies on that. */
static void uart_update_irq(struct uart16550 *u)
{
	int level = !(uart_iir(u) & IIR_NO_INT) && (u->mcr & MCR_OUT2);
	irq_line_set(u->irq, level);
}

static size_t uart_rx_push(struct uart16550 *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;
	while (n < len && u->rx_count < UART_RX_RING) {
		u->rx[(u->rx_head + u->rx_count) % UART_RX_RING] = buf[n++];
		u->rx_count++;
	}
	return n;
}

void uart16550_reset(struct uart16550 *u)
{
	pthread_mutex_lock(&u->lock);
	u->ier = u->lcr = u->mcr = u->lsr_extra = u->scr = u->fcr = 0;
	u->dll = 0x0C; /* 9600 baud */
	u->dlm = 0;
	u->msr = MSR_DCD | MSR_DSR | MSR_CTS;
	u->thr_ipending = 0;
	u->rx_head = u->rx_count = 0;
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

void uart16550_init(struct uart16550 *u, struct irq_line *irq,
		    void (*tx)(void *ctx, const uint8_t *buf, size_t len), void *tx_ctx)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->irq = irq;
	u->tx = tx;
	u->tx_ctx = tx_ctx;
	uart16550_reset(u);
}

void uart16550_destroy(struct uart16550 *u)
{
	pthread_mutex_destroy(&u->lock);
}

size_t uart16550_rx(struct uart16550 *u, const uint8_t *buf, size_t len)
{
	pthread_mutex_lock(&u->lock);
	size_t n = (u->mcr & MCR_LOOP) ? len : uart_rx_push(u, buf, len);
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}

size_t uart16550_rx_space(struct uart16550 *u)
{
	pthread_mutex_lock(&u->lock);
	size_t n = UART_RX_RING - u->rx_count;
	pthread_mutex_unlock(&u->lock);
	return n;
}

static uint64_t uart_read(void *ctx, uint64_t off, unsigned size)
{
	struct uart16550 *u = ctx;
	uint8_t v = 0xFF;
	(void)size;
	pthread_mutex_lock(&u->lock);
	switch (off) {
	case UART_RBR:
		if (u->lcr & LCR_DLAB) {
			v = u->dll;
		} else if (u->rx_count) {
			v = u->rx[u->rx_head];
			u->rx_head = (u->rx_head + 1) % UART_RX_RING;
			u->rx_count--;
		} else {
			v = 0;
		}
		break;
	case UART_IER:
		v = (u->lcr & LCR_DLAB) ? u->dlm : u->ier;
		break;
	case UART_IIR:
		v = uart_iir(u);
		/* Reading IIR acknowledges a THR-empty interrupt that it reports. */
		if ((v & 0x0F) == IIR_THRI)
			u->thr_ipending = 0;
		break;
	case UART_LCR:
		v = u->lcr;
		break;
	case UART_MCR:
		v = u->mcr;
		break;
	case UART_LSR:
		v = LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0) | u->lsr_extra;
		u->lsr_extra = 0;
		break;
	case UART_MSR:
		if (u->mcr & MCR_LOOP) {
			/* Loopback: the modem outputs feed the modem inputs. */
			v = (uint8_t)(((u->mcr & MCR_DTR) ? MSR_DSR : 0) |
				      ((u->mcr & MCR_RTS) ? MSR_CTS : 0) |
				      ((u->mcr & MCR_OUT1) ? MSR_RI : 0) |
				      ((u->mcr & MCR_OUT2) ? MSR_DCD : 0));
		} else {
			v = u->msr;
		}
		break;
	case UART_SCR:
		v = u->scr;
		break;
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return v;
}

static void uart_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct uart16550 *u = ctx;
	uint8_t v = (uint8_t)val;
	uint8_t out = 0;
	int do_tx = 0;
	(void)size;
	pthread_mutex_lock(&u->lock);
	switch (off) {
	case UART_THR:
		if (u->lcr & LCR_DLAB) {
			u->dll = v;
			break;
		}
		if (u->mcr & MCR_LOOP)
			uart_rx_push(u, &v, 1);
		else {
			out = v;
			do_tx = 1;
		}
		u->thr_ipending = 1;
		break;
	case UART_IER:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		/* Enabling the THR interrupt while THR is empty raises it at once. */
		if ((v & IER_THRI) && !(u->ier & IER_THRI))
			u->thr_ipending = 1;
		u->ier = v & 0x0F;
		break;
	case UART_FCR:
		u->fcr = v & 0xC9;
		if (v & FCR_CLEAR_RX)
			u->rx_head = u->rx_count = 0;
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1F;
		break;
	case UART_SCR:
		u->scr = v;
		break;
	default:
		break; /* LSR and MSR are read-only */
	}
	uart_update_irq(u);
	pthread_mutex_unlock(&u->lock);
	/* Output outside the lock: a slow terminal must not stall other vCPUs' register reads. */
	if (do_tx && u->tx)
		u->tx(u->tx_ctx, &out, 1);
}

const struct io_ops uart16550_ops = { .read = uart_read, .write = uart_write };
