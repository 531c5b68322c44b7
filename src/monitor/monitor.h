/* The monitor process of one domain: `domus run` in the foreground (run.c) and domus-vmm under
 * domusd (domus_vmm.c). Both build their machine through machine_pc.c and serve the control
 * socket commands of monitor_ctl.h. */
#ifndef DOMUS_MONITOR_H
#define DOMUS_MONITOR_H
#include "lib/args.h"
#include "lib/exit_codes.h"

int cmd_run(int argc, char **argv);
/* The monitor of one domain under domusd (hidden; also runs as argv[0] "domus-vmm"). */
int cmd_vmm(int argc, char **argv);

#endif
