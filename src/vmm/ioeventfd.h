/* KVM ioeventfds: a guest write to an MMIO address signals an eventfd inside KVM, with no exit
 * to the VMM (virtio queue notifications). */
#ifndef DOMUS_IOEVENTFD_H
#define DOMUS_IOEVENTFD_H
#include <stdbool.h>
#include <stdint.h>

/* Assign or deassign fd for writes of any length at MMIO addr (2 bytes where KVM cannot match
 * any length). ctx is the struct vm. 0 or -errno. Matches struct virtio_env's ioeventfd. */
int vm_ioeventfd(void *ctx, uint64_t addr, int fd, bool assign);

#endif
