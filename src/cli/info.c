#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "vmm/kvm_host.h"

int cmd_info(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		if (!strcmp(argv[1], "--help")) {
			printf("usage: domus info\nShows the host's virtualization mode.\n");
			return 0;
		}
		fprintf(stderr, "domus: info: unexpected argument '%s'\n", argv[1]);
		return DOMUS_EXIT_USAGE;
	}
	struct host_info h;
	host_detect(&h);
	printf("host_virtualization : %s\n", host_mode_name(h.mode));
	printf("kvm                 : %s\n", h.kvm_usable ? "usable (/dev/kvm)" : "unusable");
	if (!h.kvm_usable)
		printf("kvm_problem         : %s\n", h.why);
	printf("pv_guests           : %s\n",
	       h.mode == HOST_PVM ? "PVM-aware kernels fast; Domus kit kernel boots in seconds; "
				    "unmodified Linux cannot run user space"
	       : h.mode == HOST_NONE ? "cannot run"
				     : "hardware speed");
	printf("fv_guests           : %s\n",
	       h.mode == HOST_PVM ? "run in KVM's instruction emulator (slow)"
	       : h.mode == HOST_NONE ? "cannot run"
				     : "hardware speed");
	printf("notes               : %s\n", host_mode_advice(h.mode));
	info_domusd();
	return h.kvm_usable ? 0 : DOMUS_EXIT_ERROR;
}
