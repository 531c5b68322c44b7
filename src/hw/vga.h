/* A VGA adapter for text mode (IBM VGA register set as documented for the ISA VGA): the
 * sequencer, graphics controller, attribute controller, CRT controller and DAC registers, and
 * 256 KiB of planar video memory behind the legacy window 0xA0000-0xBFFFF (memory map select,
 * odd/even and chain-4 addressing, write modes 0-3, read modes 0-1, latches). That is what the
 * VGA BIOS (SeaBIOS's vgabios) programs for mode 3 and what it uses to load the font into
 * plane 2. Nothing is drawn while the guest runs: vga_text() reads the text screen when someone
 * asks (a screenshot). In text mode the character of cell i is plane 0 at (start + i), its
 * attribute plane 1 at the same offset. */
#ifndef DOMUS_VGA_H
#define DOMUS_VGA_H
#include <pthread.h>
#include <stdint.h>

#include "backend/text_screen.h"
#include "vmm/bus.h"

#define VGA_PORT 0x3B0
#define VGA_PORT_LEN 0x30 /* 0x3B0-0x3DF */
#define VGA_MEM 0xA0000
#define VGA_MEM_LEN 0x20000
#define VGA_PLANE 0x10000

struct vga {
	pthread_mutex_t lock;
	uint8_t *planes; /* 4 x 64 KiB */
	uint8_t misc, seq_idx, gr_idx, crtc_idx, ar_idx;
	int ar_flip; /* attribute controller: 0 = next write is the index */
	uint8_t seq[8], gr[16], crtc[32], ar[32];
	uint8_t dac[256][3];
	uint8_t dac_read, dac_write, dac_comp, pel_mask;
	uint8_t dac_state;
	uint8_t latch[4];
	unsigned st1_reads;
};


extern const struct io_ops vga_port_ops; /* at VGA_PORT */
extern const struct io_ops vga_mem_ops;  /* at VGA_MEM */

int vga_init(struct vga *v); /* 0 or -ENOMEM */
void vga_destroy(struct vga *v);
/* The text screen; 0, or -1 when the adapter is in a graphics mode or off. */
int vga_text(struct vga *v, struct vga_text *out);

#endif
