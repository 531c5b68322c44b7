#include "virtio/virtio_pci.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

/* virtio_pci_cap cfg_type values (virtio 1.2, 4.1.4). */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

#define ISR_QUEUE 1
#define ISR_CONFIG 2

static const uint64_t transport_features = 1ull << VIRTIO_F_VERSION_1 |
					   1ull << VIRTIO_F_EVENT_IDX |
					   1ull << VIRTIO_F_INDIRECT_DESC;

void virtio_pci_lock(struct virtio_pci *vp)
{
	pthread_mutex_lock(&vp->lock);
}

void virtio_pci_unlock(struct virtio_pci *vp)
{
	pthread_mutex_unlock(&vp->lock);
}

struct virtqueue *virtio_pci_vq(struct virtio_pci *vp, unsigned q)
{
	return q < vp->nqueues ? &vp->q[q].vq : NULL;
}

bool virtio_pci_has_feature(const struct virtio_pci *vp, unsigned bit)
{
	return bit < 64 && (vp->guest_features >> bit & 1);
}

bool virtio_pci_running(const struct virtio_pci *vp)
{
	return (vp->status & VIRTIO_STATUS_DRIVER_OK) && !vp->needs_reset;
}

/* Raise the interrupt for vector (MSI-X on) or the ISR bit (INTx). Lock held. */
static void raise(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit)
{
	if (pci_msix_enabled(&vp->msix)) {
		if (vector != VIRTIO_MSI_NO_VECTOR)
			pci_msix_notify(&vp->msix, vector);
		return;
	}
	vp->isr |= isr_bit;
	pci_set_intx(&vp->pci, true);
}

void virtio_pci_notify(struct virtio_pci *vp, unsigned q)
{
	if (q >= vp->nqueues || !vq_should_notify(&vp->q[q].vq))
		return;
	raise(vp, vp->q[q].msix_vector, ISR_QUEUE);
}

void virtio_pci_config_changed(struct virtio_pci *vp)
{
	vp->cfg_generation++;
	if (vp->status & VIRTIO_STATUS_DRIVER_OK)
		raise(vp, vp->config_vector, ISR_CONFIG);
}

void virtio_pci_set_needs_reset(struct virtio_pci *vp)
{
	if (vp->needs_reset)
		return;
	vp->needs_reset = true;
	vp->status |= VIRTIO_STATUS_NEEDS_RESET;
	log_warn("%s: device stopped until the guest resets it (DEVICE_NEEDS_RESET)", vp->name);
	virtio_pci_config_changed(vp);
}

void virtio_pci_serve_queue(struct virtio_pci *vp, unsigned q, struct vq_chain *c,
			    virtio_chain_fn fn, void *ctx)
{
	struct virtqueue *vq = virtio_pci_vq(vp, q);
	if (!vq)
		return;
	bool pushed = false;
	for (;;) {
		int got;
		while ((got = vq_pop(vq, c)) > 0) {
			uint32_t len = fn(ctx, c);
			/* The used length is the guest's to trust: never past its buffers. */
			if (len > c->in_len)
				len = (uint32_t)c->in_len;
			vq_push(vq, c->head, len);
			pushed = true;
		}
		if (got < 0) {
			virtio_pci_set_needs_reset(vp);
			break;
		}
		if (!vq_enable_notify(vq))
			break;
	}
	if (pushed)
		virtio_pci_notify(vp, q);
}

void virtio_pci_unwatch(struct virtio_pci *vp, bool *watched, int fd)
{
	virtio_pci_lock(vp);
	bool was = *watched;
	*watched = false;
	virtio_pci_unlock(vp);
	if (was)
		evl_del(vp->env.loop, fd);
}

static void kick_now(struct virtio_pci_queue *q)
{
	struct virtio_pci *vp = q->vp;
	if (virtio_pci_running(vp) && q->vq.ready && vp->ops->kick)
		vp->ops->kick(vp->ctx, q->index);
}

/* Polling a queue after its kick. A kick is a guest exit plus an I/O-thread wakeup (tens of
 * microseconds; far more under nested virtualization), while a driver with requests in flight
 * usually adds the next one within microseconds of seeing a completion. So after a kick the
 * I/O thread keeps the driver's kicks suppressed and checks the avail ring itself for a
 * window, like QEMU's adaptive polling of iothreads: the window doubles when a kick comes soon
 * after it closed (the gap was just too long) and halves when the next kick comes much later
 * (the guest was idle; the polling only cost CPU). An idle guest costs nothing: polling only
 * follows a kick. */
#define POLL_MIN_NS 16000ull
#define POLL_MAX_NS 512000ull

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* A kick arrived: adapt the window, then poll from now. Lock held. */
static void poll_begin(struct virtio_pci_queue *q)
{
	if (!q->poll || !q->vq.ready || q->vq.polling)
		return;
	uint64_t now = now_ns();
	if (q->poll_stopped) {
		uint64_t gap = now - q->poll_stopped;
		if (gap < POLL_MAX_NS && q->poll_window < POLL_MAX_NS)
			q->poll_window *= 2;
		else if (gap > 8 * POLL_MAX_NS && q->poll_window > POLL_MIN_NS)
			q->poll_window /= 2;
	}
	q->poll_last = now;
	vq_poll_start(&q->vq);
}

/* I/O thread, after every round of events: keep polling? */
static bool queue_poll(void *ctx)
{
	struct virtio_pci_queue *q = ctx;
	bool more = true;
	virtio_pci_lock(q->vp);
	if (!q->vq.polling) {
		virtio_pci_unlock(q->vp);
		return false;
	}
	/* Work is what the device took from the ring: one that cannot take more now (out of
	 * resources) must not keep the thread spinning. */
	uint16_t seen = q->vq.last_avail;
	if (vq_has_avail(&q->vq))
		kick_now(q);
	uint64_t now = now_ns();
	if (q->vq.last_avail != seen) {
		q->poll_last = now;
	} else if (now - q->poll_last > q->poll_window) {
		q->poll_stopped = now;
		more = false;
		if (vq_poll_stop(&q->vq)) {
			/* More arrived as we stopped: that was no gap. */
			kick_now(q);
			if (q->vq.last_avail != seen) {
				q->poll_stopped = 0;
				poll_begin(q);
				more = true;
			}
		}
	}
	virtio_pci_unlock(q->vp);
	return more;
}

int virtio_pci_poll_queue(struct virtio_pci *vp, unsigned qi)
{
	if (qi >= vp->nqueues || !vp->env.loop)
		return -EINVAL;
	struct virtio_pci_queue *q = &vp->q[qi];
	q->poll_window = POLL_MIN_NS * 4;
	int e = evl_add_poller(vp->env.loop, queue_poll, q);
	if (!e)
		q->poll = true;
	return e;
}

/* I/O thread: a kick eventfd fired. */
static void kick_event(void *ctx, uint32_t events)
{
	struct virtio_pci_queue *q = ctx;
	uint64_t n;
	(void)events;
	if (read(q->kick_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_debug("%s: kick read: %s", q->name, strerror(errno));
	virtio_pci_lock(q->vp);
	kick_now(q);
	if (virtio_pci_running(q->vp))
		poll_begin(q);
	virtio_pci_unlock(q->vp);
}

void virtio_pci_kick_later(struct virtio_pci *vp, unsigned q)
{
	uint64_t one = 1;
	if (q < vp->nqueues && vp->q[q].kick_fd >= 0 &&
	    write(vp->q[q].kick_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_debug("%s: kick: %s", vp->name, strerror(errno));
}

/* Guest wrote the notify register of queue qi (no ioeventfd caught it). Lock held. */
static void notify_write(struct virtio_pci *vp, unsigned qi)
{
	if (qi >= vp->nqueues)
		return;
	if (vp->env.loop)
		virtio_pci_kick_later(vp, qi);
	else
		kick_now(&vp->q[qi]);
}

static void ioeventfds_update(struct virtio_pci *vp, bool mapped, uint64_t bar_addr)
{
	if (!vp->env.ioeventfd || !vp->env.loop)
		return;
	for (unsigned i = 0; i < vp->nqueues; i++) {
		struct virtio_pci_queue *q = &vp->q[i];
		if (q->ioeventfd_on) {
			vp->env.ioeventfd(vp->env.ioeventfd_ctx, q->ioeventfd_addr, q->kick_fd, false);
			q->ioeventfd_on = false;
		}
		if (!mapped)
			continue;
		uint64_t a = bar_addr + VIRTIO_NOTIFY_OFF + (uint64_t)i * VIRTIO_NOTIFY_MULT;
		int e = vp->env.ioeventfd(vp->env.ioeventfd_ctx, a, q->kick_fd, true);
		if (e == 0) {
			q->ioeventfd_on = true;
			q->ioeventfd_addr = a;
		} else {
			log_debug("%s: no ioeventfd at 0x%llx (%s): notifications exit to us",
				  q->name, (unsigned long long)a, strerror(-e));
		}
	}
}

static void vp_bar_moved(struct pci_device *d, int bar, bool mapped, uint64_t addr)
{
	struct virtio_pci *vp = d->ctx;
	if (bar != VIRTIO_BAR)
		return;
	virtio_pci_lock(vp);
	ioeventfds_update(vp, mapped, addr);
	virtio_pci_unlock(vp);
}

static void vp_cfg_written(struct pci_device *d, unsigned off, unsigned size, uint32_t val)
{
	struct virtio_pci *vp = d->ctx;
	(void)val;
	pci_msix_cfg_written(&vp->msix, off, size);
}

static const struct pci_device_ops vp_pci_ops = { .cfg_written = vp_cfg_written,
						  .bar_moved = vp_bar_moved };

/* Lock held on entry and exit; dropped around ops->reset. */
static void device_reset(struct virtio_pci *vp)
{
	for (unsigned i = 0; i < vp->nqueues; i++)
		vp->q[i].vq.ready = false; /* the I/O thread stops touching the rings */
	vp->status = 0;
	virtio_pci_unlock(vp);
	if (vp->ops->reset)
		vp->ops->reset(vp->ctx);
	virtio_pci_lock(vp);
	for (unsigned i = 0; i < vp->nqueues; i++) {
		vq_reset(&vp->q[i].vq);
		vp->q[i].vq.size = vp->q[i].max_size;
		vp->q[i].msix_vector = VIRTIO_MSI_NO_VECTOR;
	}
	vp->status = 0;
	vp->needs_reset = false;
	vp->guest_features = 0;
	vp->dfselect = vp->gfselect = 0;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	vp->queue_sel = 0;
	vp->isr = 0;
	pci_set_intx(&vp->pci, false);
}

static void status_write(struct virtio_pci *vp, uint8_t val)
{
	if (val == 0) {
		device_reset(vp);
		return;
	}
	uint8_t old = vp->status;
	if ((val & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
		/* Refuse features we did not offer, and legacy drivers (no VERSION_1). */
		if ((vp->guest_features & ~vp->host_features) ||
		    !virtio_pci_has_feature(vp, VIRTIO_F_VERSION_1))
			val &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
	}
	vp->status = (uint8_t)((val & ~VIRTIO_STATUS_NEEDS_RESET) |
			       (vp->needs_reset ? VIRTIO_STATUS_NEEDS_RESET : 0));
	if ((val & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK)) {
		if (vp->needs_reset) /* broken before DRIVER_OK: tell the driver now */
			raise(vp, vp->config_vector, ISR_CONFIG);
		else if (vp->ops->start)
			vp->ops->start(vp->ctx);
		/* Buffers may have been queued before DRIVER_OK. */
		for (unsigned i = 0; i < vp->nqueues; i++)
			if (vp->q[i].vq.ready)
				notify_write(vp, i);
	}
}

static void queue_enable(struct virtio_pci *vp, struct virtio_pci_queue *q)
{
	if (q->vq.ready || vp->needs_reset)
		return;
	if (vq_enable(&q->vq, vp->env.mem, virtio_pci_has_feature(vp, VIRTIO_F_EVENT_IDX),
		      virtio_pci_has_feature(vp, VIRTIO_F_INDIRECT_DESC)) < 0)
		virtio_pci_set_needs_reset(vp);
}

static uint64_t common_read(struct virtio_pci *vp, unsigned off, unsigned size)
{
	struct virtio_pci_queue *q = vp->queue_sel < vp->nqueues ? &vp->q[vp->queue_sel] : NULL;
	uint64_t v = 0;
	switch (off) {
	case VIRTIO_CC_DFSELECT: v = vp->dfselect; break;
	case VIRTIO_CC_DF: v = vp->dfselect < 2 ? (uint32_t)(vp->host_features >> (32 * vp->dfselect)) : 0; break;
	case VIRTIO_CC_GFSELECT: v = vp->gfselect; break;
	case VIRTIO_CC_GF: v = vp->gfselect < 2 ? (uint32_t)(vp->guest_features >> (32 * vp->gfselect)) : 0; break;
	case VIRTIO_CC_MSIX: v = vp->config_vector; break;
	case VIRTIO_CC_NUMQ: v = vp->nqueues; break;
	case VIRTIO_CC_STATUS: v = vp->status; break;
	case VIRTIO_CC_CFGGEN: v = vp->cfg_generation; break;
	case VIRTIO_CC_Q_SELECT: v = vp->queue_sel; break;
	case VIRTIO_CC_Q_SIZE: v = q ? q->vq.size : 0; break;
	case VIRTIO_CC_Q_MSIX: v = q ? q->msix_vector : VIRTIO_MSI_NO_VECTOR; break;
	case VIRTIO_CC_Q_ENABLE: v = q ? q->vq.ready : 0; break;
	case VIRTIO_CC_Q_NOFF: v = q ? q->index : 0; break;
	case VIRTIO_CC_Q_DESC: case VIRTIO_CC_Q_DESC + 4:
		v = q ? q->vq.desc_gpa >> (off - VIRTIO_CC_Q_DESC) * 8 : 0; break;
	case VIRTIO_CC_Q_AVAIL: case VIRTIO_CC_Q_AVAIL + 4:
		v = q ? q->vq.avail_gpa >> (off - VIRTIO_CC_Q_AVAIL) * 8 : 0; break;
	case VIRTIO_CC_Q_USED: case VIRTIO_CC_Q_USED + 4:
		v = q ? q->vq.used_gpa >> (off - VIRTIO_CC_Q_USED) * 8 : 0; break;
	default: return 0;
	}
	return size >= 8 ? v : v & ((1ull << (8 * size)) - 1);
}

static uint16_t valid_vector(const struct virtio_pci *vp, uint64_t v)
{
	return v < vp->msix.nvec ? (uint16_t)v : VIRTIO_MSI_NO_VECTOR;
}

static void set_addr(uint64_t *a, unsigned half, unsigned size, uint64_t v)
{
	if (size == 8 && half == 0)
		*a = v;
	else if (half == 0)
		*a = (*a & ~0xFFFFFFFFull) | (uint32_t)v;
	else
		*a = (*a & 0xFFFFFFFFull) | (uint64_t)(uint32_t)v << 32;
}

static void common_write(struct virtio_pci *vp, unsigned off, unsigned size, uint64_t v)
{
	struct virtio_pci_queue *q = vp->queue_sel < vp->nqueues ? &vp->q[vp->queue_sel] : NULL;
	/* Queue registers are frozen while the queue is enabled (4.1.4.3.2). */
	bool q_frozen = !q || q->vq.ready;
	switch (off) {
	case VIRTIO_CC_DFSELECT: vp->dfselect = (uint32_t)v; break;
	case VIRTIO_CC_GFSELECT: vp->gfselect = (uint32_t)v; break;
	case VIRTIO_CC_GF:
		if (vp->gfselect < 2 && !(vp->status & VIRTIO_STATUS_FEATURES_OK)) {
			unsigned sh = 32 * vp->gfselect;
			vp->guest_features = (vp->guest_features & ~(0xFFFFFFFFull << sh)) |
					     (uint64_t)(uint32_t)v << sh;
		}
		break;
	case VIRTIO_CC_MSIX: vp->config_vector = valid_vector(vp, v); break;
	case VIRTIO_CC_STATUS: status_write(vp, (uint8_t)v); break;
	case VIRTIO_CC_Q_SELECT: vp->queue_sel = (uint16_t)v; break;
	case VIRTIO_CC_Q_SIZE:
		if (!q_frozen)
			q->vq.size = (uint16_t)(v && v <= q->max_size ? v : q->max_size);
		break;
	case VIRTIO_CC_Q_MSIX:
		if (q)
			q->msix_vector = valid_vector(vp, v);
		break;
	case VIRTIO_CC_Q_ENABLE:
		if (q && (v & 1))
			queue_enable(vp, q);
		break;
	case VIRTIO_CC_Q_DESC: case VIRTIO_CC_Q_DESC + 4:
		if (!q_frozen)
			set_addr(&q->vq.desc_gpa, off - VIRTIO_CC_Q_DESC, size, v);
		break;
	case VIRTIO_CC_Q_AVAIL: case VIRTIO_CC_Q_AVAIL + 4:
		if (!q_frozen)
			set_addr(&q->vq.avail_gpa, off - VIRTIO_CC_Q_AVAIL, size, v);
		break;
	case VIRTIO_CC_Q_USED: case VIRTIO_CC_Q_USED + 4:
		if (!q_frozen)
			set_addr(&q->vq.used_gpa, off - VIRTIO_CC_Q_USED, size, v);
		break;
	default:
		break;
	}
}

static uint64_t vp_bar_read(void *ctx, uint64_t off, unsigned size)
{
	struct virtio_pci *vp = ctx;
	uint64_t v = 0;
	virtio_pci_lock(vp);
	if (off < VIRTIO_CC_SIZE && off % size == 0) {
		v = common_read(vp, (unsigned)off, size);
	} else if (off == VIRTIO_ISR_OFF) {
		/* Reading the ISR acknowledges it and lowers INTx. */
		v = vp->isr;
		vp->isr = 0;
		pci_set_intx(&vp->pci, false);
	} else if (off >= VIRTIO_DEVCFG_OFF && off + size <= VIRTIO_DEVCFG_OFF + vp->cfg_size) {
		if (vp->ops->cfg_read)
			vp->ops->cfg_read(vp->ctx, (unsigned)(off - VIRTIO_DEVCFG_OFF), &v, size);
	}
	virtio_pci_unlock(vp);
	return v;
}

static void vp_bar_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct virtio_pci *vp = ctx;
	virtio_pci_lock(vp);
	if (off < VIRTIO_CC_SIZE && off % size == 0) {
		common_write(vp, (unsigned)off, size, val);
	} else if (off >= VIRTIO_DEVCFG_OFF && off + size <= VIRTIO_DEVCFG_OFF + vp->cfg_size) {
		if (vp->ops->cfg_write)
			vp->ops->cfg_write(vp->ctx, (unsigned)(off - VIRTIO_DEVCFG_OFF), &val, size);
	} else if (off >= VIRTIO_NOTIFY_OFF &&
		   off < VIRTIO_NOTIFY_OFF + (uint64_t)vp->nqueues * VIRTIO_NOTIFY_MULT) {
		notify_write(vp, (unsigned)(off - VIRTIO_NOTIFY_OFF) / VIRTIO_NOTIFY_MULT);
	}
	virtio_pci_unlock(vp);
}

const struct io_ops virtio_pci_bar_ops = { .read = vp_bar_read, .write = vp_bar_write };

static uint64_t vp_msix_read(void *ctx, uint64_t off, unsigned size)
{
	struct virtio_pci *vp = ctx;
	bool table = off < VIRTIO_MSIX_PBA_OFF;
	return pci_msix_table_read(&vp->msix, table, table ? off : off - VIRTIO_MSIX_PBA_OFF, size);
}

static void vp_msix_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct virtio_pci *vp = ctx;
	if (off < VIRTIO_MSIX_PBA_OFF)
		pci_msix_table_write(&vp->msix, true, off, size, val);
}

const struct io_ops virtio_pci_msix_bar_ops = { .read = vp_msix_read, .write = vp_msix_write };

static void add_vcap(struct pci_device *d, uint8_t type, uint32_t off, uint32_t len,
		     unsigned extra)
{
	int c = pci_add_cap(d, PCI_CAP_ID_VNDR, 16 + extra);
	if (c < 0)
		return;
	d->cfg[c + 2] = (uint8_t)(16 + extra);
	d->cfg[c + 3] = type;
	d->cfg[c + 4] = VIRTIO_BAR;
	pci_cfg_set32(d, (unsigned)c + 8, off);
	pci_cfg_set32(d, (unsigned)c + 12, len);
	if (extra)
		pci_cfg_set32(d, (unsigned)c + 16, VIRTIO_NOTIFY_MULT);
}

int virtio_pci_init(struct virtio_pci *vp, const char *name, const struct virtio_dev_ops *ops,
		    void *ctx, uint64_t features, unsigned nqueues, uint16_t queue_size,
		    unsigned cfg_size, const struct virtio_env *env, const struct msi_sink *msi)
{
	memset(vp, 0, sizeof(*vp));
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++)
		vp->q[i].kick_fd = -1;
	pthread_mutex_init(&vp->lock, NULL);
	if (nqueues == 0 || nqueues > VIRTIO_PCI_MAX_QUEUES || queue_size == 0 ||
	    queue_size > VQ_MAX_SIZE || (queue_size & (queue_size - 1)) || cfg_size > 0x1000)
		return -EINVAL;
	snprintf(vp->name, sizeof(vp->name), "%s", name);
	vp->ops = ops;
	vp->ctx = ctx;
	vp->env = *env;
	vp->host_features = features | transport_features;
	vp->nqueues = nqueues;
	vp->cfg_size = cfg_size;
	vp->config_vector = VIRTIO_MSI_NO_VECTOR;
	for (unsigned i = 0; i < nqueues; i++) {
		struct virtio_pci_queue *q = &vp->q[i];
		q->vp = vp;
		q->index = i;
		q->max_size = queue_size;
		q->msix_vector = VIRTIO_MSI_NO_VECTOR;
		snprintf(q->name, sizeof(q->name), "%s.q%u", vp->name, i);
		q->vq.name = q->name;
		q->vq.size = queue_size;
		if (env->loop) {
			q->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (q->kick_fd < 0)
				return -errno;
			int e = evl_add(env->loop, q->kick_fd, EPOLLIN, kick_event, q);
			if (e < 0)
				return e;
		}
	}
	struct pci_device *d = &vp->pci;
	pci_device_init(d, vp->name, VIRTIO_PCI_VENDOR, (uint16_t)(0x1040 + ops->device_id),
			ops->pci_class, 1, VIRTIO_PCI_VENDOR, 0x1100, 1);
	d->ops = &vp_pci_ops;
	d->ctx = vp;
	int e = pci_add_bar(d, VIRTIO_MSIX_BAR, PCI_BAR_MEM32, false, VIRTIO_MSIX_BAR_SIZE,
			    &virtio_pci_msix_bar_ops, vp);
	if (!e)
		e = pci_add_bar(d, VIRTIO_BAR, PCI_BAR_MEM64, true, VIRTIO_BAR_SIZE,
				&virtio_pci_bar_ops, vp);
	if (e)
		return e;
	add_vcap(d, CAP_COMMON, VIRTIO_COMMON_OFF, VIRTIO_CC_SIZE, 0);
	add_vcap(d, CAP_NOTIFY, VIRTIO_NOTIFY_OFF, nqueues * VIRTIO_NOTIFY_MULT, 4);
	add_vcap(d, CAP_ISR, VIRTIO_ISR_OFF, 1, 0);
	if (cfg_size)
		add_vcap(d, CAP_DEVICE, VIRTIO_DEVCFG_OFF, cfg_size, 0);
	/* One vector per queue and one for configuration changes. */
	return pci_msix_init(&vp->msix, d, nqueues + 1, VIRTIO_MSIX_BAR, 0, VIRTIO_MSIX_PBA_OFF,
			     msi);
}

void virtio_pci_destroy(struct virtio_pci *vp)
{
	for (unsigned i = 0; i < VIRTIO_PCI_MAX_QUEUES; i++) {
		struct virtio_pci_queue *q = &vp->q[i];
		if (q->poll)
			evl_del_poller(vp->env.loop, q);
		q->poll = false;
		if (q->kick_fd < 0)
			continue;
		if (q->ioeventfd_on && vp->env.ioeventfd)
			vp->env.ioeventfd(vp->env.ioeventfd_ctx, q->ioeventfd_addr, q->kick_fd, false);
		if (vp->env.loop)
			evl_del(vp->env.loop, q->kick_fd);
		close(q->kick_fd);
		q->kick_fd = -1;
	}
	pci_msix_destroy(&vp->msix);
	pthread_mutex_destroy(&vp->lock);
}
