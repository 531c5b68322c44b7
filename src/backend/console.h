/* The domain's console on the monitor's stdin/stdout.
 *
 * When stdin is a terminal it is put in raw mode and Ctrl-A is an escape: Ctrl-A x quits,
 * Ctrl-A a sends a literal Ctrl-A, Ctrl-A h prints help. Otherwise stdin is a plain byte stream
 * (EOF just stops input). The terminal is restored by console_close() and on any exit. Input
 * goes to the current sink (the guest's UART); the sink is swapped on reboot. */
#ifndef DOMUS_CONSOLE_H
#define DOMUS_CONSOLE_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct console {
	int in_fd, out_fd;
	int is_tty;
	int stop_fd;
	pthread_t thread;
	int started;
	pthread_mutex_t lock;
	size_t (*sink)(void *ctx, const uint8_t *buf, size_t len);
	void *sink_ctx;
	void (*quit)(void *ctx);
	void *quit_ctx;
	int escape;
};

int console_open(struct console *c, int in_fd, int out_fd, void (*quit)(void *), void *quit_ctx);
/* sink returns how many bytes it took; the console retries the rest. */
void console_set_sink(struct console *c, size_t (*sink)(void *, const uint8_t *, size_t),
		      void *ctx);
/* Guest output (for a device's tx callback). */
void console_write(void *console, const uint8_t *buf, size_t len);
void console_close(struct console *c);

#endif
