/* MSI-X (PCI Local Bus 3.0, 6.8.2) for an emulated function: the capability, the vector
 * table and the pending-bit array, which the device maps somewhere in one of its BARs and
 * forwards accesses to with pci_msix_table_read/write().
 *
 * Delivery goes to a sink: route() tells it a vector's message (so it can program, e.g., a
 * KVM MSI route ahead of time) and fire() delivers. pci_msix_notify() fires at once when the
 * vector is enabled and unmasked, else sets its pending bit; unmasking delivers pending
 * vectors. Thread-safe: notify runs on I/O threads while vCPUs program the table. */
#ifndef DOMUS_PCI_MSIX_H
#define DOMUS_PCI_MSIX_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/pci.h"

#define MSIX_MAX_VECTORS 64
#define MSIX_ENTRY_SIZE 16
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_MASKALL 0x4000
#define MSIX_VECTOR_MASKED 1

struct msi_sink {
	/* Vector vec's message; valid = false when the entry is cleared or MSI-X is off. */
	void (*route)(void *ctx, unsigned vec, bool valid, uint64_t addr, uint32_t data);
	void (*fire)(void *ctx, unsigned vec);
	void *ctx;
};

struct pci_msix {
	struct pci_device *dev;
	unsigned nvec;
	unsigned cap;              /* config offset of the capability */
	struct {
		uint32_t addr_lo, addr_hi, data, ctrl;
	} entry[MSIX_MAX_VECTORS];
	uint64_t pending;          /* bit per vector */
	bool enabled, maskall;
	struct msi_sink sink;
	pthread_mutex_t lock;
};

/* Add the capability to d: nvec vectors, the table at table_off and the PBA at pba_off in
 * BAR bar. Call before pci_bus_add(); d's ops->cfg_written must call pci_msix_cfg_written().
 * 0 or -errno. */
int pci_msix_init(struct pci_msix *m, struct pci_device *d, unsigned nvec, int bar,
		  uint32_t table_off, uint32_t pba_off, const struct msi_sink *sink);
void pci_msix_destroy(struct pci_msix *m);
/* Bytes the table and the PBA take. */
static inline uint32_t pci_msix_table_size(unsigned nvec)
{
	return nvec * MSIX_ENTRY_SIZE;
}
/* Accesses at off relative to the table (table=true) or the PBA. */
uint64_t pci_msix_table_read(struct pci_msix *m, bool table, uint64_t off, unsigned size);
void pci_msix_table_write(struct pci_msix *m, bool table, uint64_t off, unsigned size,
			  uint64_t val);
void pci_msix_cfg_written(struct pci_msix *m, unsigned off, unsigned size);
bool pci_msix_enabled(struct pci_msix *m);
/* Signal vector vec (out of range: ignored). */
void pci_msix_notify(struct pci_msix *m, unsigned vec);
/* Back to power-on state: disabled, all vectors masked (function reset). */
void pci_msix_reset(struct pci_msix *m);

#endif
