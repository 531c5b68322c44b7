/* The VM's one KVM GSI routing table. KVM_SET_GSI_ROUTING replaces the whole table, so every
 * change (ISA entries at creation, MSI entries as guests program MSI-X vectors) goes through
 * here and the table is re-sent whole.
 *
 * ISA GSIs 0-15: on PVM hosts to the 8259 PIC only (IOAPIC-routed interrupts are lost there,
 * see docs/pvm-host.md); elsewhere KVM's default, PIC and IOAPIC, plus IOAPIC
 * pins 16-23. MSI GSIs are handed out from 24 up. */
#ifndef DOMUS_IRQ_ROUTING_H
#define DOMUS_IRQ_ROUTING_H
#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define IRQR_MAX_MSI 512
#define IRQR_FIRST_MSI_GSI 24

struct irq_routing {
	int vm_fd;
	bool pic_only;
	pthread_mutex_t lock;
	struct {
		bool used, valid;
		uint64_t addr;
		uint32_t data;
	} msi[IRQR_MAX_MSI];
	unsigned nr_msi;
};

/* Send the ISA part of the table. 0 or -errno. */
int irq_routing_init(struct irq_routing *r, int vm_fd, bool pic_only);
void irq_routing_destroy(struct irq_routing *r);
/* A fresh MSI GSI (no route until irq_routing_set_msi()); -ENOSPC when none is left. */
int irq_routing_alloc_msi(struct irq_routing *r);
/* Route gsi to the MSI message (addr, data), or remove its route (valid = false). Commits
 * the table only when something changed. 0 or -errno. */
int irq_routing_set_msi(struct irq_routing *r, unsigned gsi, bool valid, uint64_t addr,
			uint32_t data);

#endif
