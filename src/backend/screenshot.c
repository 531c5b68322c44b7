#include "backend/screenshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define PSF_MAX_GLYPHS 4096
#define PSF_MAX_BYTES (4u << 20)

static const uint16_t cp437[256] = {
	0x0020, 0x263A, 0x263B, 0x2665, 0x2666, 0x2663, 0x2660, 0x2022, 0x25D8, 0x25CB, 0x25D9,
	0x2642, 0x2640, 0x266A, 0x266B, 0x263C, 0x25BA, 0x25C4, 0x2195, 0x203C, 0x00B6, 0x00A7,
	0x25AC, 0x21A8, 0x2191, 0x2193, 0x2192, 0x2190, 0x221F, 0x2194, 0x25B2, 0x25BC,
	[0x7F] = 0x2302,
	0x00C7, 0x00FC, 0x00E9, 0x00E2, 0x00E4, 0x00E0, 0x00E5, 0x00E7, 0x00EA, 0x00EB, 0x00E8,
	0x00EF, 0x00EE, 0x00EC, 0x00C4, 0x00C5, 0x00C9, 0x00E6, 0x00C6, 0x00F4, 0x00F6, 0x00F2,
	0x00FB, 0x00F9, 0x00FF, 0x00D6, 0x00DC, 0x00A2, 0x00A3, 0x00A5, 0x20A7, 0x0192, 0x00E1,
	0x00ED, 0x00F3, 0x00FA, 0x00F1, 0x00D1, 0x00AA, 0x00BA, 0x00BF, 0x2310, 0x00AC, 0x00BD,
	0x00BC, 0x00A1, 0x00AB, 0x00BB, 0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562,
	0x2556, 0x2555, 0x2563, 0x2551, 0x2557, 0x255D, 0x255C, 0x255B, 0x2510, 0x2514, 0x2534,
	0x252C, 0x251C, 0x2500, 0x253C, 0x255E, 0x255F, 0x255A, 0x2554, 0x2569, 0x2566, 0x2560,
	0x2550, 0x256C, 0x2567, 0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256B,
	0x256A, 0x2518, 0x250C, 0x2588, 0x2584, 0x258C, 0x2590, 0x2580, 0x03B1, 0x00DF, 0x0393,
	0x03C0, 0x03A3, 0x03C3, 0x00B5, 0x03C4, 0x03A6, 0x0398, 0x03A9, 0x03B4, 0x221E, 0x03C6,
	0x03B5, 0x2229, 0x2261, 0x00B1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00F7, 0x2248, 0x00B0,
	0x2219, 0x00B7, 0x221A, 0x207F, 0x00B2, 0x25A0, 0x00A0,
};

uint16_t cp437_unicode(uint8_t c)
{
	if (c >= 0x20 && c < 0x7F)
		return c;
	return cp437[c];
}

static int fail(char *err, size_t errlen, const char *path, const char *why)
{
	snprintf(err, errlen, "font %s: %s", path, why);
	return -1;
}

/* Decode one UTF-8 sequence of the PSF2 Unicode table; 0 on a malformed one. */
static uint32_t utf8(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *s = *p;
	uint32_t c = *s++;
	int n = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
	c &= n == 3 ? 0x07 : n == 2 ? 0x0F : n == 1 ? 0x1F : 0x7F;
	for (int i = 0; i < n; i++) {
		if (s >= end || (*s & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (*s++ & 0x3F);
	}
	*p = s;
	return c;
}

static void map_unicode(struct psf_font *f, unsigned glyph, uint32_t u)
{
	for (unsigned c = 0; c < 256; c++)
		if (cp437_unicode((uint8_t)c) == u && f->cp437[c] == 0xFFFF)
			f->cp437[c] = (uint16_t)glyph;
}

int psf_load(struct psf_font *f, const char *path, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	gzFile z = gzopen(path, "rb");
	if (!z)
		return fail(err, errlen, path, strerror(errno ? errno : ENOENT));
	uint8_t *d = malloc(PSF_MAX_BYTES);
	int n = d ? gzread(z, d, PSF_MAX_BYTES) : -1;
	gzclose(z);
	if (n < 4) {
		free(d);
		return fail(err, errlen, path, "cannot read it");
	}
	size_t len = (size_t)n, hdr, table = 0;
	int has_table, psf2 = 0;
	if (d[0] == 0x36 && d[1] == 0x04) {
		f->width = 8;
		f->height = d[3];
		f->count = (d[2] & 1) ? 512 : 256;
		has_table = (d[2] & 2) != 0;
		hdr = 4;
	} else if (len >= 32 && !memcmp(d, "\x72\xb5\x4a\x86", 4)) {
		uint32_t h[8];
		memcpy(h, d, sizeof(h));
		psf2 = 1;
		hdr = h[2];
		has_table = h[3] & 1;
		f->count = h[4];
		f->height = h[6];
		f->width = h[7];
		if (h[5] != (f->width + 7) / 8 * f->height)
			f->count = 0; /* inconsistent: rejected below */
	} else {
		free(d);
		return fail(err, errlen, path, "not a PSF font");
	}
	f->bytes_per_glyph = (f->width + 7) / 8 * f->height;
	if (!f->count || f->count > PSF_MAX_GLYPHS || !f->height || f->height > 64 || !f->width ||
	    f->width > 32 || hdr > len || (size_t)f->count * f->bytes_per_glyph > len - hdr) {
		free(d);
		return fail(err, errlen, path, "bad PSF header");
	}
	table = hdr + (size_t)f->count * f->bytes_per_glyph;
	f->glyphs = malloc((size_t)f->count * f->bytes_per_glyph);
	if (!f->glyphs) {
		free(d);
		return fail(err, errlen, path, "out of memory");
	}
	memcpy(f->glyphs, d + hdr, (size_t)f->count * f->bytes_per_glyph);
	for (unsigned c = 0; c < 256; c++)
		f->cp437[c] = 0xFFFF;
	if (has_table) {
		const uint8_t *p = d + table, *end = d + len;
		for (unsigned g = 0; g < f->count && p < end; g++) {
			int seq = 0;
			while (p < end) {
				uint32_t u;
				if (psf2) {
					if (*p == 0xFF) {
						p++;
						break;
					}
					if (*p == 0xFE) {
						seq = 1;
						p++;
						continue;
					}
					u = utf8(&p, end);
					if (!u)
						break;
				} else {
					if (end - p < 2)
						break;
					u = (uint32_t)(p[0] | p[1] << 8);
					p += 2;
					if (u == 0xFFFF)
						break;
					if (u == 0xFFFE) {
						seq = 1;
						continue;
					}
				}
				if (!seq)
					map_unicode(f, g, u);
			}
		}
	}
	/* Without a table (or a character it lacks) the glyph of the same number is used. */
	for (unsigned c = 0; c < 256; c++)
		if (f->cp437[c] == 0xFFFF)
			f->cp437[c] = (uint16_t)(c < f->count ? c : 0);
	free(d);
	return 0;
}

void psf_free(struct psf_font *f)
{
	free(f->glyphs);
	memset(f, 0, sizeof(*f));
}

static int put_chunk(FILE *fp, const char *type, const uint8_t *data, size_t len)
{
	uint8_t b[8] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			 (uint8_t)len };
	memcpy(b + 4, type, 4);
	uLong crc = crc32(0, b + 4, 4);
	if (len)
		crc = crc32(crc, data, (uInt)len);
	uint8_t c[4] = { (uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8),
			 (uint8_t)crc };
	return fwrite(b, 1, 8, fp) == 8 && (!len || fwrite(data, 1, len, fp) == len) &&
			       fwrite(c, 1, 4, fp) == 4
		       ? 0
		       : -1;
}

int screenshot_png(const struct vga_text *t, const struct psf_font *f, const char *path,
		   char *err, size_t errlen)
{
	unsigned w = t->cols * f->width, h = t->rows * f->height;
	size_t stride = 1 + (size_t)w * 3, raw_len = stride * h;
	uint8_t *raw = calloc(1, raw_len ? raw_len : 1);
	uLongf zlen = compressBound(raw_len);
	uint8_t *z = malloc(zlen);
	int r = -1;
	if (!raw || !z || !w || !h) {
		snprintf(err, errlen, "screenshot: %s", !w || !h ? "empty screen" : "out of memory");
		goto out;
	}
	unsigned bpr = (f->width + 7) / 8;
	for (unsigned row = 0; row < t->rows; row++) {
		for (unsigned col = 0; col < t->cols; col++) {
			uint16_t cell = t->cell[row][col];
			uint8_t ch = (uint8_t)cell, attr = (uint8_t)(cell >> 8);
			unsigned fg = attr & 0x0F, bg = (attr >> 4) & (t->blink ? 0x07 : 0x0F);
			const uint8_t *g = f->glyphs + (size_t)f->cp437[ch] * f->bytes_per_glyph;
			int cursor = t->cursor && t->cursor_row == row && t->cursor_col == col;
			for (unsigned y = 0; y < f->height; y++) {
				uint8_t *px = raw + (size_t)(row * f->height + y) * stride + 1 +
					      (size_t)col * f->width * 3;
				for (unsigned x = 0; x < f->width; x++) {
					int on = (g[y * bpr + x / 8] >> (7 - x % 8)) & 1;
					/* the cursor: an underline in the last two scan lines */
					if (cursor && y >= f->height - 2)
						on = 1;
					memcpy(px + 3 * x, t->rgb[on ? fg : bg], 3);
				}
			}
		}
	}
	if (compress2(z, &zlen, raw, raw_len, 6) != Z_OK) {
		snprintf(err, errlen, "screenshot: compression failed");
		goto out;
	}
	FILE *fp = fopen(path, "wb");
	if (!fp) {
		snprintf(err, errlen, "screenshot %s: %s", path, strerror(errno));
		goto out;
	}
	uint8_t ihdr[13] = { (uint8_t)(w >> 24), (uint8_t)(w >> 16), (uint8_t)(w >> 8), (uint8_t)w,
			     (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h,
			     8, 2, 0, 0, 0 }; /* 8-bit RGB, deflate, no filter, no interlace */
	int ok = fwrite("\x89PNG\r\n\x1a\n", 1, 8, fp) == 8 && !put_chunk(fp, "IHDR", ihdr, 13) &&
		 !put_chunk(fp, "IDAT", z, zlen) && !put_chunk(fp, "IEND", NULL, 0);
	if (fclose(fp) != 0 || !ok)
		snprintf(err, errlen, "screenshot %s: write failed", path);
	else
		r = 0;
out:
	free(raw);
	free(z);
	return r;
}

size_t screenshot_text(const struct vga_text *t, char *buf, size_t len)
{
	size_t o = 0;
	for (unsigned r = 0; r < t->rows; r++) {
		unsigned last = t->cols;
		while (last > 0 && ((uint8_t)t->cell[r][last - 1] == ' ' ||
				    (uint8_t)t->cell[r][last - 1] == 0))
			last--;
		for (unsigned c = 0; c < last; c++) {
			uint16_t u = cp437_unicode((uint8_t)t->cell[r][c]);
			char e[3];
			size_t n;
			if (u < 0x80) {
				e[0] = (char)u;
				n = 1;
			} else if (u < 0x800) {
				e[0] = (char)(0xC0 | u >> 6);
				e[1] = (char)(0x80 | (u & 0x3F));
				n = 2;
			} else {
				e[0] = (char)(0xE0 | u >> 12);
				e[1] = (char)(0x80 | ((u >> 6) & 0x3F));
				e[2] = (char)(0x80 | (u & 0x3F));
				n = 3;
			}
			if (o + n + 2 > len)
				goto done;
			memcpy(buf + o, e, n);
			o += n;
		}
		if (o + 2 > len)
			break;
		buf[o++] = '\n';
	}
done:
	if (len)
		buf[o < len ? o : len - 1] = '\0';
	return o;
}
