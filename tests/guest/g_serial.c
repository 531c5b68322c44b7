/*
 * g_serial.c - COM1: transmit, polled receive (LSR.DR) and interrupt-driven receive
 * (IER.RDA -> IRQ 4 -> 8259 PIC -> vector 0x24).
 * cmdline: n=N bytes per receive phase (default 8; 0 skips both receive phases),
 * timeout=S seconds to wait for each phase's bytes (default 30).
 * Protocol: the guest prints "READY poll N"; the harness then sends N bytes and the
 * guest prints them back as "ECHO <bytes>" (non-printable bytes and '\' as \xNN).
 * The same for "READY irq N", where the bytes must arrive through IRQ 4.
 */
#include "rt.h"

const char guest_name[] = "serial";

#define COM1 0x3f8
#define RBR 0
#define IER 1
#define IIR 2
#define LSR 5
#define LSR_DR 0x01
#define MAX_N 256

static u8 buf[MAX_N];
static volatile unsigned got;
static volatile unsigned irqs;
static unsigned want;
static u64 deadline;

static u64 poll_rx(u64 arg)
{
	(void)arg;
	while (got < want && rdtsc() < deadline)
		if (inb(COM1 + LSR) & LSR_DR)
			buf[got++] = inb(COM1 + RBR);
	return got;
}

static void com1_irq(struct rt_frame *f)
{
	(void)f;
	irqs++;
	(void)inb(COM1 + IIR);
	for (int i = 0; i < 64 && (inb(COM1 + LSR) & LSR_DR); i++) {
		u8 c = inb(COM1 + RBR);
		if (got < want)
			buf[got++] = c;
	}
}

static u64 wait_rx(u64 arg)
{
	(void)arg;
	while (got < want && rdtsc() < deadline)
		barrier();
	return got;
}

static void drain(void)
{
	for (int i = 0; i < 64 && (inb(COM1 + LSR) & LSR_DR); i++)
		(void)inb(COM1 + RBR);
}

static void echo(void)
{
	char line[4 * MAX_N + 8];
	unsigned p = 0;

	for (unsigned i = 0; i < got; i++) {
		u8 c = buf[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			line[p++] = (char)c;
		else
			p += (unsigned)rt_snprintf(line + p, sizeof(line) - p, "\\x%02x", c);
	}
	line[p] = 0;
	rt_printf("ECHO %s\n", line);
}

void guest_main(void)
{
	want = (unsigned)rt_cmdline_u64("n", 8);
	u64 timeout = rt_cmdline_u64("timeout", 30);
	if (want > MAX_N)
		want = MAX_N;

	rt_printf("serial: hello from the guest on COM1\n");
	if (!want) {
		rt_printf("serial: n=0, receive phases skipped\n");
		return;
	}
	u64 hz = rt_tsc_hz();

	/* Polled receive, at CPL3. */
	drain();
	got = 0;
	rt_printf("READY poll %u\n", want);
	deadline = rdtsc() + timeout * hz;
	rt_run_user(poll_rx, 0);
	echo();
	if (got < want)
		rt_fail("poll: timeout, got %u of %u bytes", got, want);

	/* Interrupt-driven receive: the wait loop runs at CPL3 with IF=1. */
	drain();
	got = 0;
	irqs = 0;
	rt_set_handler(VEC_PIC_BASE + 4, com1_irq);
	rt_pic_unmask(4);
	outb(COM1 + IER, 0x01); /* received data available */
	rt_printf("READY irq %u\n", want);
	deadline = rdtsc() + timeout * hz;
	rt_run_user(wait_rx, 0);
	outb(COM1 + IER, 0x00);
	rt_pic_mask(4);
	echo();
	if (got < want)
		rt_fail("irq: timeout, got %u of %u bytes in %u interrupts", got, want, irqs);
	rt_printf("serial: irq: %u bytes in %u interrupts\n", got, irqs);
}
