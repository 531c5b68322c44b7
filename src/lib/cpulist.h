/* A host CPU set as text in the sysfs/xl cpulist form, "0-3,5": for config/cpuset's callers
 * and for vmm/'s messages alike. */
#ifndef DOMUS_LIB_CPULIST_H
#define DOMUS_LIB_CPULIST_H
#include <sched.h>
#include <stddef.h>

/* Write set as a list of CPUs and ranges, "0-3,5" ("" when empty). Returns the length it
 * needed (as snprintf); when buf is too small it holds the whole items that fitted. */
int cpulist_format(const cpu_set_t *set, char *buf, size_t len);

#endif
