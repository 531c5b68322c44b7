#include "vmm/ioeventfd.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "vmm/vm.h"

int vm_ioeventfd(void *ctx, uint64_t addr, int fd, bool assign)
{
	struct vm *vm = ctx;
	int any = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD_ANY_LENGTH) > 0;
	struct kvm_ioeventfd e = {
		.addr = addr,
		.len = any ? 0 : 2,
		.fd = fd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};
	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &e) < 0 ? -errno : 0;
}
