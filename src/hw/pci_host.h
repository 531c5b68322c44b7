/* The i440FX host bridge (8086:1237 at 00:00.0) and PCI configuration mechanism #1.
 *
 * It owns ports 0xCF8-0xCFF: the dword at 0xCF8 is CONFIG_ADDRESS (enable bit 31, bus,
 * device, function, register), 0xCFC-0xCFF is CONFIG_DATA for bus 0. Byte accesses to 0xCF9
 * are the PIIX reset control register, which lives in this range on real chipsets; they are
 * forwarded to the reset_cf9 device so that reset through 0xCF9 keeps working. */
#ifndef DOMUS_PCI_HOST_H
#define DOMUS_PCI_HOST_H
#include <stdatomic.h>
#include <stdint.h>

#include "hw/pci.h"
#include "hw/reset_cf9.h"
#include "vmm/bus.h"

#define PCI_HOST_PORT 0xCF8
#define PCI_HOST_PORT_LEN 8

struct pci_host {
	struct pci_bus *bus;
	struct reset_cf9 *cf9;
	atomic_uint addr;       /* CONFIG_ADDRESS */
	struct pci_device dev;  /* the bridge itself, 00:00.0 */
};

/* Plug the bridge function at 00:00.0 of bus; cf9 receives 0xCF9 byte accesses. 0 or -errno. */
int pci_host_init(struct pci_host *h, struct pci_bus *bus, struct reset_cf9 *cf9);

extern const struct io_ops pci_host_ops;

#endif
