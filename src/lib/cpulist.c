#include "lib/cpulist.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int cpulist_format(const cpu_set_t *set, char *buf, size_t len)
{
	size_t used = 0;
	int need = 0;
	bool full = false;
	if (len)
		buf[0] = 0;
	for (int i = 0; i < CPU_SETSIZE; i++) {
		if (!CPU_ISSET(i, set))
			continue;
		int j = i;
		while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, set))
			j++;
		char part[32];
		int n = j == i ? snprintf(part, sizeof(part), "%s%d", need ? "," : "", i)
			       : snprintf(part, sizeof(part), "%s%d-%d", need ? "," : "", i, j);
		if (!full && used + (size_t)n < len) {
			memcpy(buf + used, part, (size_t)n + 1);
			used += (size_t)n;
		} else {
			full = true; /* buf holds the CPUs that fitted; nothing more goes in */
		}
		need += n;
		i = j;
	}
	return need;
}
