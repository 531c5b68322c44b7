/*
 * g_vga.c - VGA text mode without a BIOS: programs mode 3 (80x25, 16 scan lines) through the
 * sequencer, graphics, CRT and attribute controllers and the DAC, loads a glyph into plane 2,
 * writes a message through the B8000 window (odd/even: characters in plane 0, attributes in
 * plane 1), reads it back, places the cursor. The harness takes a screenshot when the guest
 * powers off (domus run --fv-devices --screenshot FILE) and looks for the message.
 */
#include "rt.h"

const char guest_name[] = "vga";

static void seq(u8 i, u8 v) { outb(0x3C4, i); outb(0x3C5, v); }
static void gr(u8 i, u8 v) { outb(0x3CE, i); outb(0x3CF, v); }
static void crtc(u8 i, u8 v) { outb(0x3D4, i); outb(0x3D5, v); }
static void ar(u8 i, u8 v) { (void)inb(0x3DA); outb(0x3C0, i); outb(0x3C0, v); }

static const u8 ega_dac[16][3] = {
	{ 0, 0, 0 }, { 0, 0, 42 }, { 0, 42, 0 }, { 0, 42, 42 }, { 42, 0, 0 }, { 42, 0, 42 },
	{ 42, 21, 0 }, { 42, 42, 42 }, { 21, 21, 21 }, { 21, 21, 63 }, { 21, 63, 21 },
	{ 21, 63, 63 }, { 63, 21, 21 }, { 63, 21, 63 }, { 63, 63, 21 }, { 63, 63, 63 },
};

void guest_main(void)
{
	volatile u8 *fb = rt_phys(0xB8000);
	volatile u8 *win = rt_phys(0xA0000);
	outb(0x3C2, 0x67);
	seq(0, 0x01); /* synchronous reset while reprogramming */
	seq(1, 0x00);
	seq(3, 0x00);
	/* the glyph for 0x01: planar access to plane 2 */
	seq(2, 0x04);
	seq(4, 0x06);
	gr(4, 0x02);
	gr(5, 0x00);
	gr(6, 0x04);
	gr(8, 0xFF); /* bit mask: all bits from the CPU (0 would write the latches back) */
	for (int y = 0; y < 16; y++)
		win[0x01 * 32 + y] = (u8)(y & 1 ? 0xAA : 0x55);
	if (win[0x01 * 32 + 3] != 0xAA)
		rt_fail("plane 2 read back 0x%x", win[0x01 * 32 + 3]);
	/* text mode: odd/even, B8000 */
	seq(2, 0x03);
	seq(4, 0x02);
	seq(0, 0x03);
	gr(4, 0x00);
	gr(5, 0x10);
	gr(6, 0x0E);
	gr(8, 0xFF);
	crtc(0x11, 0x00);
	static const u8 cr[25] = { 0x5F, 0x4F, 0x50, 0x82, 0x55, 0x81, 0xBF, 0x1F, 0x00, 0x4F,
				   0x0D, 0x0E, 0x00, 0x00, 0x00, 0x00, 0x9C, 0x8E, 0x8F, 0x28,
				   0x1F, 0x96, 0xB9, 0xA3, 0xFF };
	for (u8 i = 0; i < 25; i++)
		crtc(i, cr[i]);
	for (u8 i = 0; i < 16; i++)
		ar(i, i < 8 ? (i == 6 ? 0x14 : i) : (u8)(i + 0x30));
	ar(0x10, 0x0C);
	ar(0x12, 0x0F);
	ar(0x13, 0x08);
	ar(0x14, 0x00);
	(void)inb(0x3DA);
	outb(0x3C0, 0x20); /* display on */
	outb(0x3C8, 0);
	for (int i = 0; i < 64; i++) {
		int e = i < 8 ? i : (i >= 0x38 ? i - 0x30 : 0);
		if (i == 0x14)
			e = 6;
		for (int k = 0; k < 3; k++)
			outb(0x3C9, ega_dac[e][k]);
	}
	outb(0x3C7, 7);
	u8 r = inb(0x3C9);
	if (r != 42)
		rt_fail("DAC entry 7 reads %u", r);
	/* clear, then the message on row 2 in yellow on blue */
	for (int i = 0; i < 80 * 25; i++) {
		fb[2 * i] = ' ';
		fb[2 * i + 1] = 0x07;
	}
	const char *msg = "DOMUS-VGA-TEXT-OK";
	for (int i = 0; msg[i]; i++) {
		fb[2 * (80 * 2 + 5 + i)] = (u8)msg[i];
		fb[2 * (80 * 2 + 5 + i) + 1] = 0x1E;
	}
	fb[2 * (80 * 3)] = 0x01;
	fb[2 * (80 * 3) + 1] = 0x0F;
	for (int i = 0; msg[i]; i++)
		if (fb[2 * (80 * 2 + 5 + i)] != (u8)msg[i] || fb[2 * (80 * 2 + 5 + i) + 1] != 0x1E)
			rt_fail("text memory reads back wrong at %d", i);
	u16 cur = 80 * 2 + 5 + 17;
	crtc(0x0E, (u8)(cur >> 8));
	crtc(0x0F, (u8)cur);
	outb(0x3D4, 0x0F);
	if (inb(0x3D5) != (u8)cur)
		rt_fail("cursor register reads back 0x%x", inb(0x3D5));
	rt_printf("vga: message written at row 2, cursor at %u\n", cur);
}
