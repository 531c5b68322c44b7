/* The emulated PC of FV guests, added to the common PC devices of machine_pc.c when a machine
 * boots firmware instead of a kernel: SeaBIOS in a ROM below 4 GiB, fw_cfg, the i440FX host
 * bridge with the PIIX3/PIIX4 functions, IDE disks and CD-ROMs, VGA text, ACPI tables handed to
 * the firmware through fw_cfg, and the firmware's debug port. */
#ifndef DOMUS_MACHINE_FV_H
#define DOMUS_MACHINE_FV_H
#include <stddef.h>

struct machine;
struct machine_config;

/* Build the FV part of m after its common devices exist; 0, or -1 with err set. */
int machine_fv_create(struct machine *m, const struct machine_config *cfg, char *err,
		      size_t errlen);
void machine_fv_destroy(struct machine *m);
/* Write the VGA text screen as a PNG drawn with the PSF font (NULL: the default console font),
 * and its text to path + ".txt". 0, or -1 with err (no VGA, a graphics mode, no font). */
int machine_fv_screenshot(struct machine *m, const char *path, const char *font, char *err,
			  size_t errlen);

#endif
