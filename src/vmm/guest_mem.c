#include "vmm/guest_mem.h"

#include <errno.h>
#include <string.h>

int guest_mem_add(struct guest_mem *m, uint64_t gpa, uint64_t size, void *hva)
{
	if (m->nr >= GUEST_MEM_MAX_REGIONS || size == 0 || gpa + size < gpa)
		return -EINVAL;
	for (int i = 0; i < m->nr; i++) {
		const struct guest_region *r = &m->r[i];
		if (gpa < r->gpa + r->size && r->gpa < gpa + size)
			return -EINVAL;
	}
	m->r[m->nr++] = (struct guest_region){ .gpa = gpa, .size = size, .hva = hva };
	return 0;
}

void *gpa_to_hva(const struct guest_mem *m, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < m->nr; i++) {
		const struct guest_region *r = &m->r[i];
		if (gpa < r->gpa)
			continue;
		uint64_t off = gpa - r->gpa;
		/* off < size and len <= size - off: no sum that can wrap. */
		if (off < r->size && len <= r->size - off)
			return r->hva + off;
	}
	return NULL;
}

int guest_write(const struct guest_mem *m, uint64_t gpa, const void *src, size_t len)
{
	void *p = gpa_to_hva(m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int guest_read(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len)
{
	const void *p = gpa_to_hva(m, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(dst, p, len);
	return 0;
}
