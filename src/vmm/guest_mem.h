/* Guest physical memory: up to a few RAM regions, each backed by one host mapping.
 *
 * gpa_to_hva() is the only way from a guest physical address to a host pointer: it checks that
 * [gpa, gpa + len) lies wholly inside one RAM region, with overflow-safe arithmetic, and returns
 * NULL otherwise. Every guest-supplied address goes through it. */
#ifndef DOMUS_GUEST_MEM_H
#define DOMUS_GUEST_MEM_H
#include <stddef.h>
#include <stdint.h>

#define GUEST_MEM_MAX_REGIONS 4

struct guest_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	struct guest_region r[GUEST_MEM_MAX_REGIONS];
	int nr;
};

/* Add a region backed by hva (not owned). Returns 0, or -EINVAL on overlap or overflow. */
int guest_mem_add(struct guest_mem *m, uint64_t gpa, uint64_t size, void *hva);
/* Host pointer for [gpa, gpa+len), or NULL when any byte is outside guest RAM. */
void *gpa_to_hva(const struct guest_mem *m, uint64_t gpa, uint64_t len);
/* Copy into / out of guest RAM; 0 or -EFAULT when the range is not RAM. */
int guest_write(const struct guest_mem *m, uint64_t gpa, const void *src, size_t len);
int guest_read(const struct guest_mem *m, uint64_t gpa, void *dst, size_t len);

#endif
