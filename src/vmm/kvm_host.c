#include "vmm/kvm_host.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int exists(const char *p)
{
	return access(p, F_OK) == 0;
}

static int cpu_has_flag(const char *flag)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	int found = 0;
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		for (char *t = strtok(strchr(line, ':'), " \t\n:"); t; t = strtok(NULL, " \t\n"))
			if (strcmp(t, flag) == 0)
				found = 1;
		break;
	}
	fclose(f);
	return found;
}

void host_detect(struct host_info *h)
{
	memset(h, 0, sizeof(*h));
	h->pvm_module = exists("/sys/module/kvm_pvm");
	if (exists("/sys/module/kvm_intel") && cpu_has_flag("vmx"))
		h->mode = HOST_VMX;
	else if (exists("/sys/module/kvm_amd") && cpu_has_flag("svm"))
		h->mode = HOST_SVM;
	else if (h->pvm_module)
		h->mode = HOST_PVM;

	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT && h->pvm_module)
			snprintf(h->why, sizeof(h->why),
				 "/dev/kvm does not exist although kvm_pvm is loaded: kvm_pvm did not "
				 "bind (see `dmesg | grep kvm-pvm`; it refuses to run inside another PVM "
				 "guest). Use a host where kvm_pvm, kvm_intel or kvm_amd provides /dev/kvm");
		else if (e == ENOENT)
			snprintf(h->why, sizeof(h->why),
				 "/dev/kvm does not exist: load kvm_intel, kvm_amd or kvm_pvm "
				 "(`modprobe kvm_intel`), and enable virtualization in the firmware");
		else if (e == EACCES || e == EPERM)
			snprintf(h->why, sizeof(h->why),
				 "/dev/kvm is not accessible: add yourself to the kvm group "
				 "(`sudo adduser $USER kvm`, then log in again) or run as root");
		else
			snprintf(h->why, sizeof(h->why), "cannot open /dev/kvm: %s", strerror(e));
		return;
	}
	int v = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	if (v != KVM_API_VERSION) {
		snprintf(h->why, sizeof(h->why), "/dev/kvm speaks KVM API %d, Domus needs %d", v,
			 KVM_API_VERSION);
		return;
	}
	h->kvm_usable = 1;
}

int host_pic_routing(enum host_mode m, const char *force)
{
	return m == HOST_PVM || (force && strcmp(force, "1") == 0);
}

const char *host_mode_name(enum host_mode m)
{
	switch (m) {
	case HOST_VMX:
		return "VT-x (kvm_intel)";
	case HOST_SVM:
		return "AMD-V (kvm_amd)";
	case HOST_PVM:
		return "PVM (kvm_pvm: KVM without hardware virtualization)";
	default:
		return "none";
	}
}

const char *host_mode_advice(enum host_mode m)
{
	switch (m) {
	case HOST_VMX:
	case HOST_SVM:
		return "PV and FV guests run at hardware speed.";
	case HOST_PVM:
		return "Guest user code (CPL3) runs natively; guest kernel code that is not "
		       "PVM-aware runs in KVM's instruction emulator. PV guests: a PVM-aware kernel "
		       "runs at full speed, a Linux with Domus's PV patches boots in seconds, an "
		       "unmodified Linux cannot run user space (SYSCALL never reaches ring 0). FV "
		       "guests: firmware and boot loaders work, whole operating systems are slow. "
		       "Domus completes int3 and fwait for the emulator, adds kernel flags that hide "
		       "CPU features the emulator lacks, and routes ISA interrupts through the PIC.";
	default:
		return "No KVM: no guest can run.";
	}
}
