/* A text-mode screen as the VGA model reads it out (vga_text()) and the screenshot writer draws
 * it: here, in backend/, so that the device includes the back end and never the reverse. */
#ifndef DOMUS_TEXT_SCREEN_H
#define DOMUS_TEXT_SCREEN_H
#include <stdint.h>

#define VGA_MAX_COLS 132
#define VGA_MAX_ROWS 60

struct vga_text {
	unsigned cols, rows;
	uint16_t cell[VGA_MAX_ROWS][VGA_MAX_COLS]; /* character | attribute << 8 */
	int cursor; /* shown */
	unsigned cursor_row, cursor_col;
	uint8_t rgb[16][3]; /* the 16 text colours through the attribute palette and the DAC */
	int blink; /* attribute bit 7 blinks (else it is a background intensity bit) */
};

#endif
