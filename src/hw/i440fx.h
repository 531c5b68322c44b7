/* Intel 440FX PCI host bridge (82441FX PMC, datasheet 290549): PCI configuration mechanism #1
 * (address at 0xCF8, data at 0xCFC-0xCFF) for bus 0, and the bridge's own function 00.0 with
 * its PAM registers (0x59-0x5F, reading 0 at power-on) and SMRAM register (0x72).
 *
 * Memory below 1 MiB is always RAM in Domus, so PAM values are kept for the firmware to read
 * back but change no mapping: SeaBIOS copies itself from the high flash alias into that RAM
 * when it finds PAM0 "not RAM", which is the same bytes. The subsystem id 1af4:1100 is what
 * SeaBIOS checks to know it runs on a QEMU-compatible board (and may then use fw_cfg). */
#ifndef DOMUS_I440FX_H
#define DOMUS_I440FX_H
#include <pthread.h>
#include <stdint.h>

#include "hw/pci_fn.h"
#include "vmm/bus.h"

#define I440FX_PORT_ADDR 0xCF8 /* 4 bytes; only 32-bit accesses reach it (0xCF9 is reset) */
#define I440FX_PORT_DATA 0xCFC
#define I440FX_PAM0 0x59
#define I440FX_SMRAM 0x72

struct i440fx {
	pthread_mutex_t lock;
	uint32_t addr;
	struct pci_fn host;
	struct pci_fn *fn[256]; /* bus 0, by devfn */
};

extern const struct io_ops i440fx_addr_ops; /* at 0xCF8, length 1 */
extern const struct io_ops i440fx_data_ops; /* at 0xCFC, length 4 */

void i440fx_init(struct i440fx *h);
void i440fx_destroy(struct i440fx *h);
/* Plug a function at devfn on bus 0; 0, or -EEXIST. */
int i440fx_plug(struct i440fx *h, unsigned devfn, struct pci_fn *f);

#endif
