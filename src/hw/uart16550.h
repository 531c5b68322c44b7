/* 16550A UART (National Semiconductor PC16550D datasheet), as on COM1.
 *
 * The core is pure: bytes the guest transmits go to tx(); bytes from the host are queued with
 * uart16550_rx() and raise the RX interrupt when the guest enabled it. Thread-safe: vCPU threads
 * and the console input thread may call in concurrently. */
#ifndef DOMUS_UART16550_H
#define DOMUS_UART16550_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/irq.h"

#define UART_RX_RING 256

struct uart16550 {
	pthread_mutex_t lock;
	struct irq_line *irq;
	void (*tx)(void *ctx, const uint8_t *buf, size_t len);
	void *tx_ctx;
	uint8_t ier, lcr, mcr, lsr_extra, msr, scr, fcr, dll, dlm;
	int thr_ipending;
	uint8_t rx[UART_RX_RING];
	unsigned rx_head, rx_count;
};

extern const struct io_ops uart16550_ops;

void uart16550_init(struct uart16550 *u, struct irq_line *irq,
		    void (*tx)(void *ctx, const uint8_t *buf, size_t len), void *tx_ctx);
void uart16550_destroy(struct uart16550 *u);
void uart16550_reset(struct uart16550 *u);
/* Queue host input; returns how many bytes fit (the rest must be offered again later). */
size_t uart16550_rx(struct uart16550 *u, const uint8_t *buf, size_t len);
/* Free space in the receive queue. */
size_t uart16550_rx_space(struct uart16550 *u);

#endif
