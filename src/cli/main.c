/* domus: the command-line front end. Subcommands are a table, as in xl. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "monitor/monitor.h"

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct subcommand commands[] = {
	{ "run", cmd_run, "run one domain in the foreground (no daemon)" },
	{ "info", cmd_info, "show the host's virtualization mode and what it means" },
	{ "create", cmd_create, "create a domain from an xl.cfg file (through domusd)" },
	{ "list", cmd_list, "list domains: Name ID Mem VCPUs State Time(s); -l: JSON" },
	{ "console", cmd_console, "attach to a domain's console (Ctrl-] detaches)" },
	{ "shutdown", cmd_shutdown, "ask a domain to power off (ACPI power button); -w waits" },
	{ "reboot", cmd_reboot, "ask a domain to reboot (power button); -f resets it" },
	{ "destroy", cmd_destroy, "end a domain at once" },
	{ "pause", cmd_pause, "stop a domain's vCPUs" },
	{ "unpause", cmd_unpause, "let a paused domain run again" },
	{ "uptime", cmd_uptime, "how long each domain has been up" },
	{ "top", cmd_top, "CPU and memory per domain, refreshing" },
	{ "screenshot", cmd_screenshot, "write an FV domain's VGA text screen as a PNG" },
	{ "dump-core", cmd_dump_core, "write a domain's memory and registers as an ELF core" },
	{ "net-link", cmd_net_link, "plug or unplug a running domain's NIC cable (link up/down)" },
	{ "vcpu-list", cmd_vcpu_list, "list vCPUs: host CPU, state, time, CPU affinity" },
	{ "vcpu-pin", cmd_vcpu_pin, "pin a running domain's vCPU(s) to host CPUs (xl syntax)" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: domus COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n`domus COMMAND --help` describes each command.\n");
}

int main(int argc, char **argv)
{
	/* domusd starts monitors as argv[0] "domus-vmm", so that ps shows what they are. */
	const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;
	if (argc > 0 && !strcmp(base ? base + 1 : argv[0], "domus-vmm"))
		return cmd_vmm(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "vmm"))
		return cmd_vmm(argc - 1, argv + 1);
	if (argc < 2) {
		usage(stderr);
		return DOMUS_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "domus: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return DOMUS_EXIT_USAGE;
}
