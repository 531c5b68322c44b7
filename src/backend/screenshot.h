/* Screenshots of a text screen: the cells drawn with a real console font into a PNG, so a person
 * sees what an unmodified guest shows on its VGA. Fonts are PSF (version 1 or 2, optionally
 * gzip-compressed, e.g. Debian's /usr/share/consolefonts from console-setup-linux), loaded at
 * run time; characters are code page 437, mapped to glyphs through the font's Unicode table.
 * The PNG is 8-bit RGB, compressed with zlib. */
#ifndef DOMUS_SCREENSHOT_H
#define DOMUS_SCREENSHOT_H
#include <stddef.h>
#include <stdint.h>

#include "backend/text_screen.h"

#define SCREENSHOT_FONT_DEFAULT "/usr/share/consolefonts/Uni2-VGA16.psf.gz"

struct psf_font {
	unsigned width, height, count, bytes_per_glyph;
	uint8_t *glyphs;
	uint16_t cp437[256]; /* glyph index for each code page 437 character */
};

/* 0, or -1 with the reason in err. */
int psf_load(struct psf_font *f, const char *path, char *err, size_t errlen);
void psf_free(struct psf_font *f);
/* Render t with f and write a PNG to path; 0, or -1 with err. */
int screenshot_png(const struct vga_text *t, const struct psf_font *f, const char *path,
		   char *err, size_t errlen);
/* The screen as UTF-8 text, one line per row, trailing spaces removed; returns bytes written. */
size_t screenshot_text(const struct vga_text *t, char *buf, size_t len);
/* Unicode code point of a code page 437 character. */
uint16_t cp437_unicode(uint8_t c);

#endif
