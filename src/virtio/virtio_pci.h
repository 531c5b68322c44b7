/* The virtio-over-PCI transport, modern interface only (virtio 1.2, 4.1): PCI IDs 1AF4:1040+n,
 * the common/notify/ISR/device configuration structures in a 64-bit BAR (4), MSI-X in a
 * 32-bit BAR (1), INTx + ISR when the driver does not enable MSI-X.
 *
 * A device (blk.c, net.c, ...) embeds struct virtio_pci, describes itself with a struct
 * virtio_dev_ops and calls virtio_pci_init(). Queue kicks arrive as eventfds (KVM ioeventfd
 * on the notify addresses, or the MMIO handler signalling the same eventfd) that the I/O
 * thread turns into ops->kick() calls, with the device lock held. Without an event loop in
 * the env (unit tests), kicks are delivered synchronously.
 *
 * Locking: vp->lock protects the transport state and the queues; ops->kick and ops->cfg_*
 * run with it held; a device's own completion path takes it with virtio_pci_lock(). ops->
 * reset runs without it (it may wait for in-flight requests whose completions take it). */
#ifndef DOMUS_VIRTIO_PCI_H
#define DOMUS_VIRTIO_PCI_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/pci.h"
#include "hw/pci_msix.h"
#include "virtio/virtqueue.h"
#include "lib/event_loop.h"

#define VIRTIO_PCI_VENDOR 0x1AF4
#define VIRTIO_PCI_MAX_QUEUES 8
#define VIRTIO_MSI_NO_VECTOR 0xFFFF

#define VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define VIRTIO_STATUS_DRIVER 0x02
#define VIRTIO_STATUS_DRIVER_OK 0x04
#define VIRTIO_STATUS_FEATURES_OK 0x08
#define VIRTIO_STATUS_NEEDS_RESET 0x40
#define VIRTIO_STATUS_FAILED 0x80

/* Layout of BAR 4 (see docs/platform.md for guest authors). */
#define VIRTIO_BAR 4
#define VIRTIO_BAR_SIZE 0x4000
#define VIRTIO_COMMON_OFF 0x0000
#define VIRTIO_ISR_OFF 0x1000
#define VIRTIO_DEVCFG_OFF 0x2000
#define VIRTIO_NOTIFY_OFF 0x3000
#define VIRTIO_NOTIFY_MULT 4
#define VIRTIO_MSIX_BAR 1
#define VIRTIO_MSIX_BAR_SIZE 0x1000
#define VIRTIO_MSIX_PBA_OFF 0x800

/* The common configuration registers at VIRTIO_COMMON_OFF (virtio 1.2, 4.1.4.3). */
#define VIRTIO_CC_DFSELECT 0x00
#define VIRTIO_CC_DF 0x04
#define VIRTIO_CC_GFSELECT 0x08
#define VIRTIO_CC_GF 0x0C
#define VIRTIO_CC_MSIX 0x10
#define VIRTIO_CC_NUMQ 0x12
#define VIRTIO_CC_STATUS 0x14
#define VIRTIO_CC_CFGGEN 0x15
#define VIRTIO_CC_Q_SELECT 0x16
#define VIRTIO_CC_Q_SIZE 0x18
#define VIRTIO_CC_Q_MSIX 0x1A
#define VIRTIO_CC_Q_ENABLE 0x1C
#define VIRTIO_CC_Q_NOFF 0x1E
#define VIRTIO_CC_Q_DESC 0x20
#define VIRTIO_CC_Q_AVAIL 0x28
#define VIRTIO_CC_Q_USED 0x30
#define VIRTIO_CC_SIZE 0x38

struct virtio_pci;

struct virtio_dev_ops {
	uint16_t device_id;   /* virtio device type: 1 net, 2 block, 3 console, 4 entropy */
	uint32_t pci_class;
	/* Device-specific configuration, little-endian; off + len <= cfg_size is checked. */
	void (*cfg_read)(void *ctx, unsigned off, void *buf, unsigned len);
	void (*cfg_write)(void *ctx, unsigned off, const void *buf, unsigned len);
	/* DRIVER_OK was set: start serving (e.g. watch a TAP). Lock held. */
	void (*start)(void *ctx);
	/* Queue q was kicked (or may have work): pop, process, push, virtio_pci_notify(). */
	void (*kick)(void *ctx, unsigned q);
	/* Device reset: forget state; wait for in-flight I/O. Lock NOT held. */
	void (*reset)(void *ctx);
};

/* How the transport reaches the host. Any member may be NULL. */
struct virtio_env {
	const struct guest_mem *mem;
	struct event_loop *loop;
	/* Register (assign) or remove fd as a KVM ioeventfd for an MMIO write at addr. */
	int (*ioeventfd)(void *ctx, uint64_t addr, int fd, bool assign);
	void *ioeventfd_ctx;
};

struct virtio_pci_queue {
	struct virtqueue vq;
	struct virtio_pci *vp;
	unsigned index;
	uint16_t max_size;
	uint16_t msix_vector;
	int kick_fd;
	bool ioeventfd_on;
	uint64_t ioeventfd_addr;
	/* Polling after a kick (virtio_pci_poll_queue): times in ns, CLOCK_MONOTONIC. */
	bool poll;
	uint64_t poll_last;    /* the last time the poll found work, or polling began */
	uint64_t poll_stopped; /* when the last poll period ended without work */
	uint64_t poll_window;  /* how long a poll period lasts without work */
	char name[32];
};

struct virtio_pci {
	struct pci_device pci;
	struct pci_msix msix;
	const struct virtio_dev_ops *ops;
	void *ctx;
	struct virtio_env env;
	pthread_mutex_t lock;
	char name[16];
	uint64_t host_features, guest_features;
	uint32_t dfselect, gfselect;
	uint8_t status, cfg_generation, isr;
	uint16_t config_vector, queue_sel;
	unsigned nqueues, cfg_size;
	bool needs_reset;
	struct virtio_pci_queue q[VIRTIO_PCI_MAX_QUEUES];
};

/* Set up the PCI function (not yet on a bus: the caller does pci_bus_add(&vp->pci, ...)).
 * features: the device's own feature bits (VERSION_1, EVENT_IDX, INDIRECT_DESC are added).
 * 0 or -errno; on error virtio_pci_destroy() cleans up. */
int virtio_pci_init(struct virtio_pci *vp, const char *name, const struct virtio_dev_ops *ops,
		    void *ctx, uint64_t features, unsigned nqueues, uint16_t queue_size,
		    unsigned cfg_size, const struct virtio_env *env, const struct msi_sink *msi);
void virtio_pci_destroy(struct virtio_pci *vp);
/* After each kick of queue q, let the I/O thread watch its avail ring for a short, adaptive
 * while with the driver's kicks suppressed (see virtio_pci.c). 0 or -errno. */
int virtio_pci_poll_queue(struct virtio_pci *vp, unsigned q);

void virtio_pci_lock(struct virtio_pci *vp);
void virtio_pci_unlock(struct virtio_pci *vp);
/* The queue, for ops->kick and completion paths (lock held). */
struct virtqueue *virtio_pci_vq(struct virtio_pci *vp, unsigned q);
bool virtio_pci_has_feature(const struct virtio_pci *vp, unsigned bit);
/* DRIVER_OK and not NEEDS_RESET. */
bool virtio_pci_running(const struct virtio_pci *vp);
/* Interrupt the driver for queue q if the ring asks for it (after vq_push). Lock held. */
void virtio_pci_notify(struct virtio_pci *vp, unsigned q);
/* The device configuration changed: bump the generation and raise a config interrupt. */
void virtio_pci_config_changed(struct virtio_pci *vp);
/* A guest error made the device unusable: set DEVICE_NEEDS_RESET, raise a config interrupt
 * and ignore the queues until the driver resets the device. Lock held. */
void virtio_pci_set_needs_reset(struct virtio_pci *vp);
/* Handles one chain popped from a queue (the chain's segments are in guest RAM, checked by
 * vq_pop()); returns how many bytes it wrote into the chain's writable part. */
typedef uint32_t (*virtio_chain_fn)(void *ctx, const struct vq_chain *c);
/* The loop of a device that answers each chain at once (console output, net transmit, rng):
 * pop every available chain of queue q into *c, give it to fn and push it back with fn's
 * length (never more than the chain's writable bytes); when the ring is empty, ask for the
 * next kick and pop again if more arrived meanwhile. A broken ring sets DEVICE_NEEDS_RESET.
 * The driver is interrupted once at the end if anything was pushed. Lock held. */
void virtio_pci_serve_queue(struct virtio_pci *vp, unsigned q, struct vq_chain *c,
			    virtio_chain_fn fn, void *ctx);
/* Stop the I/O thread watching a device's fd (a TAP, console input) from any other thread:
 * *watched is cleared under the lock, evl_del() runs without it, as it waits for a running
 * handler, which takes the lock. Lock NOT held. */
void virtio_pci_unwatch(struct virtio_pci *vp, bool *watched, int fd);
/* Run ops->kick for queue q on the I/O thread soon (e.g. a back end has room again). */
void virtio_pci_kick_later(struct virtio_pci *vp, unsigned q);

extern const struct io_ops virtio_pci_bar_ops, virtio_pci_msix_bar_ops;

#endif
