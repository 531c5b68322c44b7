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
/* One paragraph on what this mode means for PV and FV guests. */
const char *host_mode_advice(enum host_mode m);

#endif
