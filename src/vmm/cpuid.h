/* Per-vCPU CPUID table, shaped from KVM_GET_SUPPORTED_CPUID.
 *
 * cpuid_shape() rewrites the topology-bearing leaves for vCPU `index` of `nr` (one thread per
 * core, nr cores in one package, APIC ID = index): leaf 1 (APIC ID, logical count, HTT,
 * hypervisor bit), leaf 4 (cores sharing each cache), leaves 0xB/0x1F (x2APIC topology), and AMD's
 * 0x80000008/0x8000001E. KVM's paravirt leaves 0x40000000.. pass through as KVM reports them, which
 * also keeps PVM's leaves for a PVM-aware guest. Pure function: testable without KVM. */
#ifndef DOMUS_CPUID_H
#define DOMUS_CPUID_H
#include <linux/kvm.h>

void cpuid_shape(struct kvm_cpuid_entry2 *e, unsigned n, unsigned index, unsigned nr);
/* Offer the TSC-deadline timer (leaf 1 ECX bit 24). KVM's in-kernel LAPIC emulates it when
 * KVM_CAP_TSC_DEADLINE_TIMER says so, but KVM_GET_SUPPORTED_CPUID leaves the bit to the VMM;
 * without it Linux calibrates the LAPIC timer against the PM timer at boot (seconds when
 * emulated). */
void cpuid_offer_tsc_deadline(struct kvm_cpuid_entry2 *e, unsigned n);
/* Bits needed to number nr items: ceil(log2(nr)). */
unsigned cpuid_bits_for(unsigned nr);

#endif
