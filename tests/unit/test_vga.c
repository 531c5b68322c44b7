#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

#include "backend/screenshot.h"
#include "hw/vga.h"

static void outb_(struct vga *v, unsigned port, uint8_t b)
{
	vga_port_ops.write(v, port - VGA_PORT, 1, b);
}

static uint8_t inb_(struct vga *v, unsigned port)
{
	return (uint8_t)vga_port_ops.read(v, port - VGA_PORT, 1);
}

static void seq(struct vga *v, uint8_t i, uint8_t b)
{
	vga_port_ops.write(v, 0x3C4 - VGA_PORT, 2, (uint64_t)i | (uint64_t)b << 8);
}

static void gr(struct vga *v, uint8_t i, uint8_t b)
{
	outb_(v, 0x3CE, i);
	outb_(v, 0x3CF, b);
}

static void crtc(struct vga *v, uint8_t i, uint8_t b)
{
	outb_(v, 0x3D4, i);
	outb_(v, 0x3D5, b);
}

/* Mode 3 the way a VGA BIOS sets it: the registers that matter for text. */
static void mode3(struct vga *v)
{
	outb_(v, 0x3C2, 0x67);
	seq(v, 2, 0x03);
	seq(v, 4, 0x02); /* odd/even */
	gr(v, 5, 0x10);
	gr(v, 6, 0x0E); /* B8000, odd/even chain, text */
	gr(v, 8, 0xFF);
	crtc(v, 0x11, 0x00);
	crtc(v, 0x01, 79);
	crtc(v, 0x07, 0x1F);
	crtc(v, 0x09, 0x4F); /* 16 scan lines */
	crtc(v, 0x12, 0x8F); /* 400 lines: 0x18F with overflow bit 8 */
	crtc(v, 0x13, 40);
	crtc(v, 0x0A, 0x0D);
	(void)inb_(v, 0x3DA);
	for (uint8_t i = 0; i < 16; i++) {
		outb_(v, 0x3C0, i);
		outb_(v, 0x3C0, i < 8 ? i : (uint8_t)(i + 0x30));
	}
	outb_(v, 0x3C0, 0x10);
	outb_(v, 0x3C0, 0x0C);
	outb_(v, 0x3C0, 0x20); /* palette address source: display on */
	outb_(v, 0x3C8, 0);
	for (int i = 0; i < 64; i++) {
		uint8_t c = (uint8_t)(i == 7 ? 0x2A : i == 0x3F ? 0x3F : 0);
		for (int k = 0; k < 3; k++)
			outb_(v, 0x3C9, c);
	}
}

static void test_text_mode(void)
{
	struct vga v;
	CHECK_EQ(vga_init(&v), 0);
	struct vga_text *t = malloc(sizeof(*t));
	CHECK_EQ(vga_text(&v, t), -1); /* nothing set up: no text screen */
	mode3(&v);
	/* "Hi" at row 1, column 2, grey on black, through the B8000 window */
	uint64_t at = 0x18000 + (80 * 1 + 2) * 2;
	vga_mem_ops.write(&v, at, 2, 'H' | 0x07 << 8);
	vga_mem_ops.write(&v, at + 2, 1, 'i');
	vga_mem_ops.write(&v, at + 3, 1, 0x0F);
	CHECK_EQ(vga_mem_ops.read(&v, at, 2), 'H' | 0x07 << 8);
	crtc(&v, 0x0E, 0);
	crtc(&v, 0x0F, 80 * 1 + 4);
	CHECK_EQ(vga_text(&v, t), 0);
	CHECK_EQ(t->cols, 80);
	CHECK_EQ(t->rows, 25);
	CHECK_EQ(t->cell[1][2], 'H' | 0x07 << 8);
	CHECK_EQ(t->cell[1][3], 'i' | 0x0F << 8);
	CHECK_EQ(t->cursor, 1);
	CHECK_EQ(t->cursor_row, 1);
	CHECK_EQ(t->cursor_col, 4);
	CHECK_EQ(t->rgb[7][0], 0xAA);
	CHECK_EQ(t->rgb[15][1], 0xFF);
	/* the start address scrolls the screen */
	crtc(&v, 0x0C, 0);
	crtc(&v, 0x0D, 80);
	CHECK_EQ(vga_text(&v, t), 0);
	CHECK_EQ(t->cell[0][2], 'H' | 0x07 << 8);
	/* the cursor-disable bit */
	crtc(&v, 0x0A, 0x20);
	CHECK_EQ(vga_text(&v, t), 0);
	CHECK_EQ(t->cursor, 0);
	/* the font goes to plane 2 through planar addressing at A0000 */
	seq(&v, 2, 0x04);
	seq(&v, 4, 0x06);
	gr(&v, 5, 0x00);
	gr(&v, 6, 0x04);
	vga_mem_ops.write(&v, 'A' * 32, 1, 0x18);
	CHECK_EQ(v.planes[2 * VGA_PLANE + 'A' * 32], 0x18);
	CHECK_EQ(v.planes[0 * VGA_PLANE + 'A' * 32], 0); /* map mask kept plane 0 out */
	gr(&v, 4, 2); /* read map select */
	CHECK_EQ(vga_mem_ops.read(&v, 'A' * 32, 1), 0x18);
	/* write mode 1 copies latches; set/reset in mode 0 */
	gr(&v, 5, 0x01);
	seq(&v, 2, 0x0F);
	vga_mem_ops.write(&v, 0x100, 1, 0);
	CHECK_EQ(v.planes[2 * VGA_PLANE + 0x100], 0x18);
	gr(&v, 5, 0x00);
	gr(&v, 0, 0x05);
	gr(&v, 1, 0x0F);
	vga_mem_ops.write(&v, 0x200, 1, 0);
	CHECK_EQ(v.planes[0 * VGA_PLANE + 0x200], 0xFF);
	CHECK_EQ(v.planes[1 * VGA_PLANE + 0x200], 0x00);
	/* graphics mode: no text screen */
	gr(&v, 6, 0x05);
	CHECK_EQ(vga_text(&v, t), -1);
	/* the DAC reads back what was written */
	outb_(&v, 0x3C7, 7);
	CHECK_EQ(inb_(&v, 0x3C9), 0x2A);
	free(t);
	vga_destroy(&v);
}

/* A PSF1 font with a Unicode table: glyph 0 blank, glyph 1 a full block for 'H' and U+2588. */
static void make_font(const char *path)
{
	FILE *f = fopen(path, "wb");
	uint8_t h[4] = { 0x36, 0x04, 0x02, 16 };
	fwrite(h, 1, 4, f);
	uint8_t g[256 * 16];
	memset(g, 0, sizeof(g));
	memset(g + 16, 0xFF, 16);
	fwrite(g, 1, sizeof(g), f);
	for (unsigned i = 0; i < 256; i++) {
		uint16_t u[3] = { (uint16_t)(i == 1 ? 'H' : i == 0 ? ' ' : 0xE000 + i), 0xFFFF, 0 };
		if (i == 1) {
			u[1] = 0x2588;
			u[2] = 0xFFFF;
			fwrite(u, 2, 3, f);
		} else {
			fwrite(u, 2, 2, f);
		}
	}
	fclose(f);
}

static void test_png_and_text(void)
{
	char font[] = "/tmp/domus-font-XXXXXX";
	close(mkstemp(font));
	make_font(font);
	struct psf_font f;
	char err[256];
	CHECK_EQ(psf_load(&f, font, err, sizeof(err)), 0);
	CHECK_EQ(f.height, 16);
	CHECK_EQ(f.cp437['H'], 1);
	CHECK_EQ(f.cp437[0xDB], 1); /* CP437 full block is U+2588 */
	struct vga_text *t = calloc(1, sizeof(*t));
	t->cols = 4;
	t->rows = 2;
	for (unsigned r = 0; r < 2; r++)
		for (unsigned c = 0; c < 4; c++)
			t->cell[r][c] = ' ' | 0x07 << 8;
	t->cell[0][0] = 'H' | 0x0F << 8;
	t->cell[1][1] = 0xDB | 0x07 << 8;
	memset(t->rgb[15], 0xFF, 3);
	char png[] = "/tmp/domus-png-XXXXXX";
	close(mkstemp(png));
	CHECK_EQ(screenshot_png(t, &f, png, err, sizeof(err)), 0);
	FILE *fp = fopen(png, "rb");
	uint8_t head[24];
	CHECK_EQ(fread(head, 1, 24, fp), 24);
	fclose(fp);
	CHECK(!memcmp(head, "\x89PNG\r\n\x1a\n", 8));
	CHECK(!memcmp(head + 12, "IHDR", 4));
	CHECK_EQ(head[19], 32); /* 4 cells of 8 pixels */
	CHECK_EQ(head[23], 32); /* 2 rows of 16 */
	char text[64];
	screenshot_text(t, text, sizeof(text));
	CHECK_STR(text, "H\n \xe2\x96\x88\n");
	psf_free(&f);
	CHECK_EQ(psf_load(&f, "/nonexistent.psf", err, sizeof(err)), -1);
	CHECK_EQ(psf_load(&f, png, err, sizeof(err)), -1); /* not a font */
	unlink(font);
	unlink(png);
	free(t);
}

UNIT_MAIN(test_text_mode, test_png_and_text)
