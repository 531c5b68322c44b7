#include "hw/pci_msix.h"

#include <errno.h>
#include <string.h>

#define CAP_CTRL 2
#define CAP_TABLE 4
#define CAP_PBA 8

int pci_msix_init(struct pci_msix *m, struct pci_device *d, unsigned nvec, int bar,
		  uint32_t table_off, uint32_t pba_off, const struct msi_sink *sink)
{
	memset(m, 0, sizeof(*m));
	if (nvec == 0 || nvec > MSIX_MAX_VECTORS || bar < 0 || bar > 5 || (table_off & 7) ||
	    (pba_off & 7))
		return -EINVAL;
	int cap = pci_add_cap(d, PCI_CAP_ID_MSIX, 12);
	if (cap < 0)
		return cap;
	m->dev = d;
	m->nvec = nvec;
	m->cap = (unsigned)cap;
	m->sink = *sink;
	pthread_mutex_init(&m->lock, NULL);
	pci_cfg_set16(d, m->cap + CAP_CTRL, (uint16_t)(nvec - 1));
	d->wmask[m->cap + CAP_CTRL + 1] = (MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL) >> 8;
	pci_cfg_set32(d, m->cap + CAP_TABLE, table_off | (uint32_t)bar);
	pci_cfg_set32(d, m->cap + CAP_PBA, pba_off | (uint32_t)bar);
	for (unsigned i = 0; i < nvec; i++)
		m->entry[i].ctrl = MSIX_VECTOR_MASKED;
	return 0;
}

void pci_msix_destroy(struct pci_msix *m)
{
	if (m->dev)
		pthread_mutex_destroy(&m->lock);
	m->dev = NULL;
}

static bool masked(const struct pci_msix *m, unsigned v)
{
	return !m->enabled || m->maskall || (m->entry[v].ctrl & MSIX_VECTOR_MASKED);
}

static void route(struct pci_msix *m, unsigned v)
{
	if (m->sink.route)
		m->sink.route(m->sink.ctx, v, m->enabled,
			      (uint64_t)m->entry[v].addr_hi << 32 | m->entry[v].addr_lo,
			      m->entry[v].data);
}

/* Deliver what became deliverable. Caller holds the lock. */
static void flush_pending(struct pci_msix *m)
{
	for (unsigned v = 0; v < m->nvec; v++) {
		if ((m->pending >> v & 1) && !masked(m, v)) {
			m->pending &= ~(1ull << v);
			m->sink.fire(m->sink.ctx, v);
		}
	}
}

uint64_t pci_msix_table_read(struct pci_msix *m, bool table, uint64_t off, unsigned size)
{
	uint64_t v = 0;
	pthread_mutex_lock(&m->lock);
	if (!table) {
		if (off < 8 && off + size <= 8)
			v = (m->pending >> (8 * off)) & (size == 8 ? ~0ull : (1ull << (8 * size)) - 1);
	} else if (off + size <= (uint64_t)m->nvec * MSIX_ENTRY_SIZE && (size == 4 || size == 8) &&
		   off % size == 0) {
		const uint32_t *e = &m->entry[off / MSIX_ENTRY_SIZE].addr_lo;
		unsigned w = (unsigned)(off % MSIX_ENTRY_SIZE) / 4;
		v = e[w];
		if (size == 8)
			v |= (uint64_t)e[w + 1] << 32;
	}
	pthread_mutex_unlock(&m->lock);
	return v;
}

void pci_msix_table_write(struct pci_msix *m, bool table, uint64_t off, unsigned size,
			  uint64_t val)
{
	/* The PBA is read-only; the table takes aligned dword and qword writes. */
	if (!table || off + size > (uint64_t)m->nvec * MSIX_ENTRY_SIZE ||
	    (size != 4 && size != 8) || off % size)
		return;
	pthread_mutex_lock(&m->lock);
	unsigned v = (unsigned)(off / MSIX_ENTRY_SIZE);
	uint32_t *e = &m->entry[v].addr_lo;
	unsigned w = (unsigned)(off % MSIX_ENTRY_SIZE) / 4;
	e[w] = (uint32_t)val;
	if (size == 8)
		e[w + 1] = (uint32_t)(val >> 32);
	m->entry[v].ctrl &= MSIX_VECTOR_MASKED; /* other bits reserved */
	route(m, v);
	flush_pending(m);
	pthread_mutex_unlock(&m->lock);
}

void pci_msix_cfg_written(struct pci_msix *m, unsigned off, unsigned size)
{
	if (off + size <= m->cap + CAP_CTRL || off >= m->cap + CAP_CTRL + 2)
		return;
	pthread_mutex_lock(&m->lock);
	uint16_t ctrl = pci_cfg_get16(m->dev, m->cap + CAP_CTRL);
	bool en = ctrl & MSIX_CTRL_ENABLE;
	m->maskall = ctrl & MSIX_CTRL_MASKALL;
	if (en != m->enabled) {
		m->enabled = en;
		for (unsigned v = 0; v < m->nvec; v++)
			route(m, v);
	}
	flush_pending(m);
	pthread_mutex_unlock(&m->lock);
}

bool pci_msix_enabled(struct pci_msix *m)
{
	pthread_mutex_lock(&m->lock);
	bool e = m->enabled;
	pthread_mutex_unlock(&m->lock);
	return e;
}

void pci_msix_notify(struct pci_msix *m, unsigned vec)
{
	if (vec >= m->nvec)
		return;
	pthread_mutex_lock(&m->lock);
	if (masked(m, vec))
		m->pending |= 1ull << vec;
	else
		m->sink.fire(m->sink.ctx, vec);
	pthread_mutex_unlock(&m->lock);
}

void pci_msix_reset(struct pci_msix *m)
{
	pthread_mutex_lock(&m->lock);
	bool was = m->enabled;
	m->enabled = m->maskall = false;
	m->pending = 0;
	for (unsigned v = 0; v < m->nvec; v++) {
		m->entry[v].addr_lo = m->entry[v].addr_hi = m->entry[v].data = 0;
		m->entry[v].ctrl = MSIX_VECTOR_MASKED;
		if (was)
			route(m, v);
	}
	pci_cfg_set16(m->dev, m->cap + CAP_CTRL, (uint16_t)(m->nvec - 1));
	pthread_mutex_unlock(&m->lock);
}
