/*
 * print.c - COM1 output and a small printf.
 */
#include "rt_internal.h"

#define COM1 0x3f8
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20

static volatile u32 print_lock;

void rt_serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x80); /* DLAB: 115200 baud */
	outb(COM1 + 0, 0x01);
	outb(COM1 + 1, 0x00);
	outb(COM1 + UART_LCR, 0x03); /* 8N1 */
	outb(COM1 + UART_FCR, 0x07); /* FIFOs on and cleared, RX trigger 1 byte */
	outb(COM1 + UART_MCR, 0x0b); /* DTR | RTS | OUT2 (IRQ line enabled) */
}

void rt_serial_putc(char c)
{
	/* Bounded wait: a UART that never reports THRE must not hang the guest. */
	for (int i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
		;
	outb(COM1 + UART_THR, (u8)c);
}

struct out {
	char *buf; /* NULL: serial */
	size_t len, pos;
};

static void emit(struct out *o, char c)
{
	if (!o->buf) {
		if (c == '\n')
			rt_serial_putc('\r');
		rt_serial_putc(c);
		return;
	}
	if (o->pos + 1 < o->len)
		o->buf[o->pos] = c;
	o->pos++;
}

static void emit_num(struct out *o, u64 v, unsigned base, bool neg, int width, char pad)
{
	char tmp[24];
	int n = 0;

	do {
		unsigned d = (unsigned)(v % base);
		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	if (neg)
		tmp[n++] = '-';
	for (int i = n; i < width; i++)
		emit(o, pad);
	while (n)
		emit(o, tmp[--n]);
}

static void format(struct out *o, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			emit(o, *fmt);
			continue;
		}
		fmt++;
		char pad = ' ';
		int width = 0, lng = 0;
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd': {
			s64 v = lng ? va_arg(ap, s64) : va_arg(ap, int);
			emit_num(o, v < 0 ? -(u64)v : (u64)v, 10, v < 0, width, pad);
			break;
		}
		case 'u':
			emit_num(o, lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 10, false, width, pad);
			break;
		case 'x':
			emit_num(o, lng ? va_arg(ap, u64) : va_arg(ap, unsigned), 16, false, width, pad);
			break;
		case 'p':
			emit(o, '0');
			emit(o, 'x');
			emit_num(o, (u64)va_arg(ap, void *), 16, false, width, pad);
			break;
		case 'c':
			emit(o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int n = 0;
			if (!s)
				s = "(null)";
			for (const char *t = s; *t; t++)
				n++;
			for (; n < width; n++)
				emit(o, ' ');
			while (*s)
				emit(o, *s++);
			break;
		}
		case '%':
			emit(o, '%');
			break;
		case 0:
			return;
		default:
			emit(o, '%');
			emit(o, *fmt);
		}
	}
}

static void lock(void)
{
	while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE))
		while (print_lock)
			barrier();
}

static void unlock(void) { __atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE); }

void rt_vprintf(const char *fmt, va_list ap)
{
	struct out o = { 0 };

	lock();
	format(&o, fmt, ap);
	unlock();
}

void rt_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rt_vprintf(fmt, ap);
	va_end(ap);
}

/* For fatal paths: the lock may be held by the context that faulted. */
void rt_printf_unlocked(const char *fmt, ...)
{
	struct out o = { 0 };
	va_list ap;

	va_start(ap, fmt);
	format(&o, fmt, ap);
	va_end(ap);
	unlock();
}

int rt_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap)
{
	struct out o = { buf, len, 0 };

	format(&o, fmt, ap);
	if (len)
		buf[o.pos < len ? o.pos : len - 1] = 0;
	return (int)o.pos;
}

int rt_snprintf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = rt_vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n;
}
