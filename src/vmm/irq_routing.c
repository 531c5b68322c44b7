#include "vmm/irq_routing.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* Caller holds r->lock (or is initializing). */
static int commit(struct irq_routing *r)
{
	size_t max = 16 + 24 + IRQR_MAX_MSI;
	struct kvm_irq_routing *t =
		calloc(1, sizeof(*t) + max * sizeof(struct kvm_irq_routing_entry));
	if (!t)
		return -ENOMEM;
	unsigned n = 0;
	for (unsigned gsi = 0; gsi < 16; gsi++) {
		if (gsi == 2 && r->pic_only)
			continue; /* the cascade */
		t->entries[n].gsi = gsi;
		t->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		t->entries[n].u.irqchip.irqchip = gsi < 8 ? KVM_IRQCHIP_PIC_MASTER
							  : KVM_IRQCHIP_PIC_SLAVE;
		t->entries[n].u.irqchip.pin = gsi % 8;
		n++;
	}
	if (!r->pic_only) {
		for (unsigned gsi = 0; gsi < 24; gsi++) {
			t->entries[n].gsi = gsi;
			t->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
			t->entries[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
			t->entries[n].u.irqchip.pin = gsi;
			n++;
		}
	}
	for (unsigned i = 0; i < r->nr_msi; i++) {
		if (!r->msi[i].used || !r->msi[i].valid)
			continue;
		t->entries[n].gsi = IRQR_FIRST_MSI_GSI + i;
		t->entries[n].type = KVM_IRQ_ROUTING_MSI;
		t->entries[n].u.msi.address_lo = (uint32_t)r->msi[i].addr;
		t->entries[n].u.msi.address_hi = (uint32_t)(r->msi[i].addr >> 32);
		t->entries[n].u.msi.data = r->msi[i].data;
		n++;
	}
	t->nr = n;
	int ret = ioctl(r->vm_fd, KVM_SET_GSI_ROUTING, t) < 0 ? -errno : 0;
	free(t);
	return ret;
}

int irq_routing_init(struct irq_routing *r, int vm_fd, bool pic_only)
{
	memset(r, 0, sizeof(*r));
	r->vm_fd = vm_fd;
	r->pic_only = pic_only;
	pthread_mutex_init(&r->lock, NULL);
	return commit(r);
}

void irq_routing_destroy(struct irq_routing *r)
{
	pthread_mutex_destroy(&r->lock);
}

int irq_routing_alloc_msi(struct irq_routing *r)
{
	pthread_mutex_lock(&r->lock);
	int gsi = -ENOSPC;
	if (r->nr_msi < IRQR_MAX_MSI) {
		r->msi[r->nr_msi].used = true;
		gsi = IRQR_FIRST_MSI_GSI + (int)r->nr_msi++;
	}
	pthread_mutex_unlock(&r->lock);
	return gsi;
}

int irq_routing_set_msi(struct irq_routing *r, unsigned gsi, bool valid, uint64_t addr,
			uint32_t data)
{
	pthread_mutex_lock(&r->lock);
	unsigned i = gsi - IRQR_FIRST_MSI_GSI;
	int ret = 0;
	if (gsi < IRQR_FIRST_MSI_GSI || i >= r->nr_msi)
		ret = -EINVAL;
	else if (r->msi[i].valid != valid || (valid && (r->msi[i].addr != addr ||
						   r->msi[i].data != data))) {
		r->msi[i].valid = valid;
		r->msi[i].addr = addr;
		r->msi[i].data = data;
		ret = commit(r);
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}
