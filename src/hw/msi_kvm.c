#include "hw/msi_kvm.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/log.h"

int msi_kvm_init(struct msi_kvm *k, int vm_fd, struct irq_routing *r, unsigned nvec)
{
	memset(k, 0, sizeof(*k));
	k->routing = r;
	k->vm_fd = vm_fd;
	for (unsigned i = 0; i < MSIX_MAX_VECTORS; i++)
		k->efd[i] = -1;
	if (nvec > MSIX_MAX_VECTORS)
		return -EINVAL;
	for (unsigned i = 0; i < nvec; i++) {
		int gsi = irq_routing_alloc_msi(r);
		if (gsi < 0)
			return gsi;
		k->gsi[i] = gsi;
		k->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (k->efd[i] < 0)
			return -errno;
		k->nvec = i + 1;
		struct kvm_irqfd f = { .fd = (uint32_t)k->efd[i], .gsi = (uint32_t)gsi };
		if (ioctl(vm_fd, KVM_IRQFD, &f) < 0)
			return -errno;
	}
	return 0;
}

void msi_kvm_destroy(struct msi_kvm *k)
{
	for (unsigned i = 0; i < k->nvec; i++) {
		if (k->efd[i] < 0)
			continue;
		struct kvm_irqfd f = { .fd = (uint32_t)k->efd[i], .gsi = (uint32_t)k->gsi[i],
				       .flags = KVM_IRQFD_FLAG_DEASSIGN };
		ioctl(k->vm_fd, KVM_IRQFD, &f);
		close(k->efd[i]);
		k->efd[i] = -1;
	}
	k->nvec = 0;
}

static void msi_kvm_route(void *ctx, unsigned vec, bool valid, uint64_t addr, uint32_t data)
{
	struct msi_kvm *k = ctx;
	if (vec >= k->nvec)
		return;
	int e = irq_routing_set_msi(k->routing, (unsigned)k->gsi[vec], valid, addr, data);
	if (e < 0)
		log_warn("MSI route for GSI %d: %s", k->gsi[vec], strerror(-e));
}

static void msi_kvm_fire(void *ctx, unsigned vec)
{
	struct msi_kvm *k = ctx;
	uint64_t one = 1;
	if (vec < k->nvec && write(k->efd[vec], &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("irqfd write: %s", strerror(errno));
}

struct msi_sink msi_kvm_sink(struct msi_kvm *k)
{
	return (struct msi_sink){ .route = msi_kvm_route, .fire = msi_kvm_fire, .ctx = k };
}
