/* The control-socket commands every monitor serves: domus-vmm (under domusd) and `domus run
 * --control`. The socket protocol itself is lib/control.h: one line in, one JSON object out. */
#ifndef DOMUS_MONITOR_CTL_H
#define DOMUS_MONITOR_CTL_H
#include <stddef.h>

#include "machine_pc.h"

struct json_object;

/* Run one of: pause, unpause, power-button, reset, destroy, "net-link NIC [up|down]" (NIC:
 * index, netN or TAP name; without a state it only reports), "vcpu-list" ("vcpus": [{vcpu,
 * tid, cpu (last ran on), state (running, blocked, paused), cpu_ns, time_s, affinity ("0-1"),
 * affinity_all}], "host_cpus"), "vcpu-pin VCPU|all CPUS" (CPUS in xl's syntax,
 * config/cpuset.h; kept across reboots of this monitor), "screenshot /PATH" (FV: the VGA
 * text screen as a PNG and PATH.txt), "dump-core /PATH" (an ELF core, vmm/coredump.h); the last
 * two park the vCPUs meanwhile. Fills reply; 0, or -1 with err
 * set (also for an unknown command, listing the known ones; "status" is the caller's). */
int monitor_command(struct machine *m, const char *cmd, struct json_object *reply, char *err,
		    size_t errlen);
/* Add "nics": [{nic, name, tap, mac, link}] to a status reply. */
void monitor_add_nics(struct machine *m, struct json_object *reply);

#endif
