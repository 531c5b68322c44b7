/* What the host's KVM is: VT-x, AMD-V, PVM (KVM without hardware virtualization), or missing.
 * host_detect() looks at /dev/kvm, the loaded KVM modules and the CPU flags; it never fails,
 * and says in `why` what a user should do when KVM is unusable. */
#ifndef DOMUS_KVM_HOST_H
#define DOMUS_KVM_HOST_H

enum host_mode { HOST_NONE, HOST_VMX, HOST_SVM, HOST_PVM };

struct host_info {
	enum host_mode mode;    /* what backs /dev/kvm (or would, for HOST_NONE: see why) */
	int kvm_usable;         /* /dev/kvm opened and answered KVM_GET_API_VERSION == 12 */
	int pvm_module;         /* kvm_pvm is loaded */
	char why[256];          /* when !kvm_usable: the reason and what to do */
};

void host_detect(struct host_info *h);
const char *host_mode_name(enum host_mode m);
/* The one decision whether ISA interrupts go through the 8259 PIC only (no IOAPIC routes,
 * and the MADT lists no IOAPIC): on PVM hosts, where IOAPIC-routed interrupts are lost, or on
 * any host when force (the value of DOMUS_FORCE_PIC_ROUTING) is "1", so that CI on VT-x and
 * AMD-V hosts covers the PVM paths too. */
#define HOST_FORCE_PIC_ENV "DOMUS_FORCE_PIC_ROUTING"
int host_pic_routing(enum host_mode m, const char *force);
/* One paragraph on what this mode means for PV and FV guests. */
const char *host_mode_advice(enum host_mode m);

#endif
