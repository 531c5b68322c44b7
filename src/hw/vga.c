#include "hw/vga.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Sequencer */
#define SR_MAP_MASK 2
#define SR_MEM_MODE 4
#define SR_MEM_CHAIN4 0x08
#define SR_MEM_NO_OE 0x04
/* Graphics controller */
#define GR_SET_RESET 0
#define GR_ENABLE_SR 1
#define GR_COLOR_CMP 2
#define GR_ROTATE 3
#define GR_READ_MAP 4
#define GR_MODE 5
#define GR_MISC 6
#define GR_DONT_CARE 7
#define GR_BIT_MASK 8
#define GR_MISC_GRAPHICS 0x01
/* Attribute controller */
#define AR_MODE 0x10
#define AR_PAS 0x20
/* CRTC */
#define CR_HDISP_END 0x01
#define CR_OVERFLOW 0x07
#define CR_MAX_SCAN 0x09
#define CR_CURSOR_START 0x0A
#define CR_START_HI 0x0C
#define CR_START_LO 0x0D
#define CR_CURSOR_HI 0x0E
#define CR_CURSOR_LO 0x0F
#define CR_VDISP_END 0x12
#define CR_OFFSET 0x13

int vga_init(struct vga *v)
{
	memset(v, 0, sizeof(*v));
	v->planes = calloc(4, VGA_PLANE);
	if (!v->planes)
		return -ENOMEM;
	pthread_mutex_init(&v->lock, NULL);
	v->pel_mask = 0xFF;
	v->misc = 0x01; /* colour: CRTC at 0x3D4 */
	return 0;
}

void vga_destroy(struct vga *v)
{
	free(v->planes);
	v->planes = NULL;
	pthread_mutex_destroy(&v->lock);
}

static uint8_t *plane(struct vga *v, unsigned p)
{
	return v->planes + (size_t)p * VGA_PLANE;
}

/* Window offset to plane offset, and which planes (mask) an access goes to; -1 outside the
 * window the memory map select (GR6 bits 2-3) opens. */
static int map(struct vga *v, uint64_t a, uint32_t *off, unsigned *planes_mask)
{
	static const uint32_t base[4] = { 0, 0, 0x10000, 0x18000 };
	static const uint32_t size[4] = { 0x20000, 0x10000, 0x8000, 0x8000 };
	unsigned m = (v->gr[GR_MISC] >> 2) & 3;
	if (a < base[m] || a >= base[m] + size[m])
		return -1;
	a -= base[m];
	if (v->seq[SR_MEM_MODE] & SR_MEM_CHAIN4) {
		*planes_mask = 1u << (a & 3);
		*off = (uint32_t)(a >> 2);
	} else if (!(v->seq[SR_MEM_MODE] & SR_MEM_NO_OE)) {
		*planes_mask = 1u << (a & 1); /* odd/even: even bytes plane 0, odd plane 1 */
		*off = (uint32_t)(a >> 1);
	} else {
		*planes_mask = 0xF;
		*off = (uint32_t)a;
	}
	*off &= VGA_PLANE - 1;
	return 0;
}

static uint64_t mem_read(void *ctx, uint64_t a, unsigned size)
{
	struct vga *v = ctx;
	uint64_t val = 0;
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < size; i++) {
		uint32_t off;
		unsigned pm;
		uint8_t b = 0xFF;
		if (map(v, a + i, &off, &pm) == 0) {
			for (unsigned p = 0; p < 4; p++)
				v->latch[p] = plane(v, p)[off];
			if (pm != 0xF) { /* chain-4 and odd/even read the addressed plane */
				b = v->latch[__builtin_ctz(pm)];
			} else if (v->gr[GR_MODE] & 0x08) { /* read mode 1: colour compare */
				uint8_t r = 0xFF;
				for (unsigned p = 0; p < 4; p++) {
					if (!(v->gr[GR_DONT_CARE] & (1u << p)))
						continue;
					uint8_t want = (v->gr[GR_COLOR_CMP] >> p) & 1 ? 0xFF : 0;
					r &= (uint8_t)~(v->latch[p] ^ want);
				}
				b = r;
			} else {
				b = v->latch[v->gr[GR_READ_MAP] & 3];
			}
		}
		val |= (uint64_t)b << (8 * i);
	}
	pthread_mutex_unlock(&v->lock);
	return val;
}

static uint8_t alu(struct vga *v, uint8_t data, uint8_t latch)
{
	switch ((v->gr[GR_ROTATE] >> 3) & 3) {
	case 1: return data & latch;
	case 2: return data | latch;
	case 3: return data ^ latch;
	default: return data;
	}
}

static void write_byte(struct vga *v, uint64_t a, uint8_t val)
{
	uint32_t off;
	unsigned pm;
	if (map(v, a, &off, &pm) < 0)
		return;
	unsigned mask = pm & v->seq[SR_MAP_MASK];
	if (pm != 0xF) { /* chain-4, odd/even: the byte goes as it is */
		for (unsigned p = 0; p < 4; p++)
			if (mask & (1u << p))
				plane(v, p)[off] = val;
		return;
	}
	unsigned rot = v->gr[GR_ROTATE] & 7;
	uint8_t data = (uint8_t)((val >> rot) | (val << (8 - rot)));
	uint8_t bitmask = v->gr[GR_BIT_MASK];
	for (unsigned p = 0; p < 4; p++) {
		if (!(mask & (1u << p)))
			continue;
		uint8_t sr = (v->gr[GR_SET_RESET] >> p) & 1 ? 0xFF : 0;
		uint8_t out, bm = bitmask;
		switch (v->gr[GR_MODE] & 3) {
		case 0:
			out = (v->gr[GR_ENABLE_SR] >> p) & 1 ? sr : data;
			out = alu(v, out, v->latch[p]);
			break;
		case 1:
			out = v->latch[p];
			bm = 0xFF;
			break;
		case 2:
			out = alu(v, (val >> p) & 1 ? 0xFF : 0, v->latch[p]);
			break;
		default:
			bm &= data;
			out = sr;
			break;
		}
		plane(v, p)[off] = (uint8_t)((out & bm) | (v->latch[p] & ~bm));
	}
}

static void mem_write(void *ctx, uint64_t a, unsigned size, uint64_t val)
{
	struct vga *v = ctx;
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < size; i++)
		write_byte(v, a + i, (uint8_t)(val >> (8 * i)));
	pthread_mutex_unlock(&v->lock);
}

static int crtc_port(const struct vga *v, unsigned port)
{
	/* Misc output bit 0 puts the CRTC at 0x3Dx (colour) or 0x3Bx (mono). */
	unsigned base = (v->misc & 1) ? 0x3D0 : 0x3B0;
	return port >= base && port < base + 0x10 ? (int)(port - base) : -1;
}

static uint8_t port_read(struct vga *v, unsigned port)
{
	int cr = crtc_port(v, port);
	if (cr == 4 || cr == 5 || cr == 0xA) {
		if (cr == 4)
			return v->crtc_idx;
		if (cr == 5)
			return v->crtc[v->crtc_idx & 0x1F];
		/* input status 1: alternate retrace so BIOS wait loops finish; resets the
		 * attribute flip-flop */
		v->ar_flip = 0;
		v->st1_reads++;
		return (v->st1_reads & 1) ? 0x09 : 0x00;
	}
	switch (port) {
	case 0x3C0: return v->ar_idx;
	case 0x3C1: return v->ar[v->ar_idx & 0x1F];
	case 0x3C2: return 0x10; /* input status 0: switch sense */
	case 0x3C4: return v->seq_idx;
	case 0x3C5: return v->seq[v->seq_idx & 7];
	case 0x3C6: return v->pel_mask;
	case 0x3C7: return v->dac_state;
	case 0x3C8: return v->dac_write;
	case 0x3C9: {
		uint8_t b = v->dac[v->dac_read][v->dac_comp];
		if (++v->dac_comp == 3) {
			v->dac_comp = 0;
			v->dac_read++;
		}
		return b;
	}
	case 0x3CC: return v->misc;
	case 0x3CE: return v->gr_idx;
	case 0x3CF: return v->gr[v->gr_idx & 0xF];
	default: return 0xFF;
	}
}

static void port_write(struct vga *v, unsigned port, uint8_t b)
{
	int cr = crtc_port(v, port);
	if (cr == 4) {
		v->crtc_idx = b;
		return;
	}
	if (cr == 5) {
		unsigned i = v->crtc_idx & 0x1F;
		/* CR11 bit 7 protects CR0-CR7 (except CR7 bit 4) */
		if ((v->crtc[0x11] & 0x80) && i <= 7) {
			if (i == 7)
				v->crtc[7] = (uint8_t)((v->crtc[7] & ~0x10) | (b & 0x10));
			return;
		}
		v->crtc[i] = b;
		return;
	}
	switch (port) {
	case 0x3C0:
		if (!v->ar_flip)
			v->ar_idx = b & 0x3F;
		else
			v->ar[v->ar_idx & 0x1F] = b;
		v->ar_flip ^= 1;
		break;
	case 0x3C2: v->misc = b; break;
	case 0x3C4: v->seq_idx = b; break;
	case 0x3C5: v->seq[v->seq_idx & 7] = b; break;
	case 0x3C6: v->pel_mask = b; break;
	case 0x3C7:
		v->dac_read = b;
		v->dac_comp = 0;
		v->dac_state = 0x00;
		break;
	case 0x3C8:
		v->dac_write = b;
		v->dac_comp = 0;
		v->dac_state = 0x03;
		break;
	case 0x3C9:
		v->dac[v->dac_write][v->dac_comp] = b & 0x3F;
		if (++v->dac_comp == 3) {
			v->dac_comp = 0;
			v->dac_write++;
		}
		break;
	case 0x3CE: v->gr_idx = b; break;
	case 0x3CF: v->gr[v->gr_idx & 0xF] = b; break;
	default: break;
	}
}

static uint64_t ports_read(void *ctx, uint64_t off, unsigned size)
{
	struct vga *v = ctx;
	uint64_t val = 0;
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < size; i++)
		val |= (uint64_t)port_read(v, VGA_PORT + (unsigned)off + i) << (8 * i);
	pthread_mutex_unlock(&v->lock);
	return val;
}

static void ports_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct vga *v = ctx;
	pthread_mutex_lock(&v->lock);
	/* a 16-bit write is index then data (outw 0x3C4 etc.) */
	for (unsigned i = 0; i < size; i++)
		port_write(v, VGA_PORT + (unsigned)off + i, (uint8_t)(val >> (8 * i)));
	pthread_mutex_unlock(&v->lock);
}

const struct io_ops vga_port_ops = { .read = ports_read, .write = ports_write };
const struct io_ops vga_mem_ops = { .read = mem_read, .write = mem_write };

int vga_text(struct vga *v, struct vga_text *t)
{
	pthread_mutex_lock(&v->lock);
	memset(t, 0, sizeof(*t));
	unsigned cols = v->crtc[CR_HDISP_END] + 1u;
	unsigned vde = v->crtc[CR_VDISP_END] | (v->crtc[CR_OVERFLOW] & 0x02) << 7 |
		       (v->crtc[CR_OVERFLOW] & 0x40) << 3;
	unsigned ch = (v->crtc[CR_MAX_SCAN] & 0x1F) + 1u;
	unsigned rows = (vde + 1) / ch;
	unsigned pitch = v->crtc[CR_OFFSET] * 2u;
	int text = !(v->gr[GR_MISC] & GR_MISC_GRAPHICS) && !(v->ar[AR_MODE] & 0x01);
	if (!text || cols < 2 || rows < 1 || cols > VGA_MAX_COLS || rows > VGA_MAX_ROWS ||
	    !(v->ar_idx & AR_PAS)) {
		pthread_mutex_unlock(&v->lock);
		return -1;
	}
	if (pitch < cols)
		pitch = cols;
	uint32_t start = (uint32_t)v->crtc[CR_START_HI] << 8 | v->crtc[CR_START_LO];
	uint32_t cursor = (uint32_t)v->crtc[CR_CURSOR_HI] << 8 | v->crtc[CR_CURSOR_LO];
	t->cols = cols;
	t->rows = rows;
	for (unsigned r = 0; r < rows; r++) {
		for (unsigned c = 0; c < cols; c++) {
			uint32_t o = (start + r * pitch + c) & (VGA_PLANE - 1);
			t->cell[r][c] = (uint16_t)(plane(v, 0)[o] | plane(v, 1)[o] << 8);
		}
	}
	if (!(v->crtc[CR_CURSOR_START] & 0x20) && cursor >= start &&
	    cursor - start < rows * pitch && (cursor - start) % pitch < cols) {
		t->cursor = 1;
		t->cursor_row = (cursor - start) / pitch;
		t->cursor_col = (cursor - start) % pitch;
	}
	t->blink = (v->ar[AR_MODE] & 0x08) != 0;
	for (unsigned i = 0; i < 16; i++) {
		uint8_t idx = v->ar[i] & 0x3F;
		/* AR14 colour select supplies the high bits (bits 4-5 when AR10 bit 7 is set) */
		if (v->ar[AR_MODE] & 0x80)
			idx = (uint8_t)((idx & 0x0F) | (v->ar[0x14] & 0x03) << 4);
		idx |= (uint8_t)((v->ar[0x14] & 0x0C) << 4);
		idx &= v->pel_mask;
		for (int k = 0; k < 3; k++)
			t->rgb[i][k] = (uint8_t)(v->dac[idx][k] << 2 | v->dac[idx][k] >> 4);
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}
