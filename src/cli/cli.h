/* The domus command line: one function per subcommand, dispatched from main.c's table. */
#ifndef DOMUS_CLI_H
#define DOMUS_CLI_H

/* Exit statuses of `domus run`, one per way a domain can end. */
#define DOMUS_EXIT_POWEROFF 0   /* the guest powered off (ACPI S5) */
#define DOMUS_EXIT_ERROR 1      /* bad input or a setup failure: nothing ran */
#define DOMUS_EXIT_USAGE 2      /* bad command line */
#define DOMUS_EXIT_REBOOT 3     /* the guest rebooted and --no-reboot was given */
#define DOMUS_EXIT_CRASH 4      /* triple fault or guest panic */
#define DOMUS_EXIT_EMULATION 5  /* an instruction neither KVM nor Domus can emulate */
#define DOMUS_EXIT_KVM 6        /* another KVM failure */
#define DOMUS_EXIT_SIGNAL 128   /* + signal number: SIGINT, SIGTERM, SIGHUP, Ctrl-A x (SIGINT) */

/* A decimal number in [0, max] from an option; logs "<what> '<s>': ..." and returns -1 if not. */
int cli_parse_uint(const char *what, const char *s, unsigned long long max,
		   unsigned long long *out);

int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);
/* xl's verbs, as clients of domusd (domains.c, console_attach.c, top.c). */
int cmd_create(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);
int cmd_reboot(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
int cmd_uptime(int argc, char **argv);
int cmd_top(int argc, char **argv);
/* capture.c: files from a running domain */
int cmd_screenshot(int argc, char **argv);
int cmd_dump_core(int argc, char **argv);
/* A NIC's link on a running domain, through its monitor's control socket (net_link.c). */
int cmd_net_link(int argc, char **argv);
/* domusd's part of `domus info`: whether it runs, its domains and memory. */
void info_domusd(void);
/* The monitor of one domain under domusd (hidden; also runs as argv[0] "domus-vmm"). */
int cmd_vmm(int argc, char **argv);

#endif
