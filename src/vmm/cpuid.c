#include "vmm/cpuid.h"

#define CPUID_1_EDX_HTT (1u << 28)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)

void cpuid_offer_tsc_deadline(struct kvm_cpuid_entry2 *e, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (e[i].function == 1)
			e[i].ecx |= CPUID_1_ECX_TSC_DEADLINE;
}

unsigned cpuid_bits_for(unsigned nr)
{
	unsigned b = 0;
	while ((1u << b) < nr)
		b++;
	return b;
}

void cpuid_shape(struct kvm_cpuid_entry2 *e, unsigned n, unsigned index, unsigned nr)
{
	unsigned core_bits = cpuid_bits_for(nr);
	for (unsigned i = 0; i < n; i++) {
		struct kvm_cpuid_entry2 *c = &e[i];
		switch (c->function) {
		case 1:
			c->ebx = (c->ebx & 0x0000FFFFu) | (index << 24) | ((nr & 0xFF) << 16);
			if (nr > 1)
				c->edx |= CPUID_1_EDX_HTT;
			else
				c->edx &= ~CPUID_1_EDX_HTT;
			c->ecx |= CPUID_1_ECX_HYPERVISOR;
			break;
		case 4: {
			unsigned level = (c->eax >> 5) & 7;
			unsigned sharing = level >= 3 ? (1u << core_bits) - 1 : 0;
			c->eax &= 0x3FFFu;
			if (c->eax & 0x1F) /* a real cache: fill in the sharing fields */
				c->eax |= (((1u << core_bits) - 1) << 26) | (sharing << 14);
			break;
		}
		case 0xB:
		case 0x1F:
			c->edx = index;
			if (c->index == 0) { /* SMT level: one thread per core */
				c->eax = 0;
				c->ebx = 1;
				c->ecx = (1u << 8) | 0;
			} else if (c->index == 1) { /* core level */
				c->eax = core_bits;
				c->ebx = nr;
				c->ecx = (2u << 8) | 1;
			} else {
				c->eax = c->ebx = 0;
				c->ecx = c->index & 0xFF;
			}
			break;
		case 0x80000008:
			c->ecx = (c->ecx & ~0xF0FFu) | (core_bits << 12) | ((nr - 1) & 0xFF);
			break;
		case 0x8000001E:
			c->eax = index;
			c->ebx = (c->ebx & ~0xFFFFu) | (index & 0xFF); /* one thread per core */
			c->ecx = 0;                                    /* one node */
			break;
		default:
			break;
		}
	}
}
