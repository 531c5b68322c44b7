/* MSI delivery through KVM: one GSI (an MSI route in vmm/irq_routing.c) and one irqfd per
 * vector, so a device signals an interrupt with a single eventfd write from any thread.
 * msi_kvm_sink() gives the struct msi_sink for hw/pci_msix.c. */
#ifndef DOMUS_MSI_KVM_H
#define DOMUS_MSI_KVM_H
#include "hw/pci_msix.h"
#include "vmm/irq_routing.h"

struct msi_kvm {
	struct irq_routing *routing;
	int vm_fd;
	unsigned nvec;
	int gsi[MSIX_MAX_VECTORS];
	int efd[MSIX_MAX_VECTORS];
};

/* Allocate nvec GSIs and irqfds. 0 or -errno (then msi_kvm_destroy() cleans up). */
int msi_kvm_init(struct msi_kvm *k, int vm_fd, struct irq_routing *r, unsigned nvec);
void msi_kvm_destroy(struct msi_kvm *k);
struct msi_sink msi_kvm_sink(struct msi_kvm *k);

#endif
