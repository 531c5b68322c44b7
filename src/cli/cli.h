/* The domus command line: one function per subcommand, dispatched from main.c's table. */
#ifndef DOMUS_CLI_H
#define DOMUS_CLI_H
#include "lib/exit_codes.h"
#include "lib/args.h"

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
/* xl vcpu-list / vcpu-pin, through domusd or a monitor's control socket (vcpus.c). */
int cmd_vcpu_list(int argc, char **argv);
int cmd_vcpu_pin(int argc, char **argv);
/* domusd's part of `domus info`: whether it runs, its domains and memory. */
void info_domusd(void);

#endif
