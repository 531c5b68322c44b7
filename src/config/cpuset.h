/*
 * cpuset: xl's CPULIST syntax (xl.cfg(5) `cpus=`, `xl vcpu-pin`) to host CPU sets.
 *
 * A CPULIST is comma-separated items, applied left to right:
 *   "all"              every host CPU
 *   "N" or "N-M"       CPU N, CPUs N to M (M >= N)
 *   "node:N", "nodes:N-M"  every CPU of host NUMA node N (to M); "node:all" = "all"
 *   "^" before an item removes those CPUs instead ("^all" is refused, as by xl)
 * so "0-3,5,^1" is CPUs 0, 2, 3, 5 and "all,^7" every CPU but 7. Blanks around items are
 * allowed. The result must hold at least one CPU.
 *
 * The per-vCPU form (xl.cfg `cpus = ["2", "3-5"]`: vCPU i gets entry i, vCPUs beyond the list
 * are not pinned) travels as one string (struct machine_config.cpus, the monitor's --cpus):
 * every entry followed by ';', e.g. "2;3-5;". A string holding a ';' is the per-vCPU form;
 * one without is a single CPULIST for every vCPU ("2" pins all vCPUs to CPU 2, "2;" only
 * vCPU 0).
 *
 * Parsing is pure: the host (its online CPUs and NUMA nodes) comes in a struct cpuset_host,
 * which cpuset_host_read() fills from sysfs. With host NULL only the syntax is checked
 * (domcfg at config time): "all" and node items then select nothing in particular.
 */
#ifndef DOMUS_CONFIG_CPUSET_H
#define DOMUS_CONFIG_CPUSET_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>

#define CPUSET_MAX_CPUS CPU_SETSIZE /* CPU numbers 0 .. CPU_SETSIZE-1 */
#define CPUSET_MAX_NODES 64

struct cpuset_host {
	cpu_set_t online;                    /* the CPUs Domus may pin to */
	unsigned nnodes;                     /* node numbers 0 .. nnodes-1 may exist */
	bool node_present[CPUSET_MAX_NODES];
	cpu_set_t node[CPUSET_MAX_NODES];    /* CPUs of each present node */
};

/* Parse one CPULIST into out. 0, or -1 with the reason in err ("CPU 9: this host has CPUs
 * 0-1", "'x': not a CPU number"), without the key's name. A CPU the host lacks is an error
 * when it is added, not when it is removed ("all,^7" works on a 4-CPU host). */
int cpuset_parse(const char *s, const struct cpuset_host *host, cpu_set_t *out, char *err,
		 size_t errlen);

/* Whether s is the per-vCPU form (holds a ';'). */
bool cpuset_is_per_vcpu(const char *s);

/* Parse a pinning string (either form, see above) for nvcpus vCPUs: sets[i] and pinned[i]
 * for i < nvcpus (pinned[i] false: vCPU i is not pinned, sets[i] untouched). A per-vCPU form
 * with more entries than vCPUs, an empty entry, or no entry at all is an error. 0, or -1 with
 * err set ("vCPU 1: CPU 9: ..."). */
int cpuset_parse_pinning(const char *s, unsigned nvcpus, const struct cpuset_host *host,
			 cpu_set_t *sets, bool *pinned, char *err, size_t errlen);

/* A set as text, "0-3,5": cpulist_format() in lib/cpulist.h. */

/* Fill host from /sys/devices/system/cpu/online and /sys/devices/system/node/nodeN/cpulist
 * (without sysfs: CPUs 0 .. sysconf(_SC_NPROCESSORS_ONLN)-1, no nodes). 0, or -1 with err. */
int cpuset_host_read(struct cpuset_host *host, char *err, size_t errlen);

#endif
