/* xl's CPULIST syntax; see cpuset.h. */
#include "config/cpuset.h"

#include "lib/atomic_file.h"
#include "lib/cpulist.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int __attribute__((format(printf, 3, 4)))
cerr(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A decimal number at *p (digits only), advancing *p. 0, or -1 if there is none or it is
 * too large (> max). */
static int number(const char **p, unsigned long max, unsigned long *out)
{
	const char *s = *p;
	unsigned long v = 0;
	if (!isdigit((unsigned char)*s))
		return -1;
	while (isdigit((unsigned char)*s)) {
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return -1;
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

/* "N" or "N-M" filling the whole of item (no blanks inside). */
static int range(const char *item, unsigned long max, unsigned long *a, unsigned long *b)
{
	const char *p = item;
	if (number(&p, max, a) < 0)
		return -1;
	*b = *a;
	if (*p == '-') {
		p++;
		if (number(&p, max, b) < 0 || *b < *a)
			return -1;
	}
	return *p ? -1 : 0;
}

static void host_all(const struct cpuset_host *host, cpu_set_t *set)
{
	if (host) {
		CPU_OR(set, set, &host->online);
	} else {
		for (int i = 0; i < CPUSET_MAX_CPUS; i++)
			CPU_SET(i, set);
	}
}

static void host_cpus_text(const struct cpuset_host *host, char *buf, size_t len)
{
	if (cpulist_format(&host->online, buf, len) >= (int)len && len > 4)
		strcpy(buf + len - 4, "...");
}

/* One item of a CPULIST, already trimmed, applied to set. */
static int item(const char *it, const struct cpuset_host *host, cpu_set_t *set, char *err,
		size_t errlen)
{
	const char *p = it;
	bool remove = false, nodes = false;
	if (*p == '^') {
		remove = true;
		p++;
	}
	if (!strncmp(p, "nodes:", 6)) {
		nodes = true;
		p += 6;
	} else if (!strncmp(p, "node:", 5)) {
		nodes = true;
		p += 5;
	}
	if (!strcmp(p, "all")) {
		if (remove)
			return cerr(err, errlen, "'%s': \"^\" cannot go with \"all\"", it);
		host_all(host, set);
		return 0;
	}
	unsigned long a, b;
	unsigned long max = nodes ? CPUSET_MAX_NODES - 1 : CPUSET_MAX_CPUS - 1;
	if (range(p, max, &a, &b) < 0) {
		if (!*p)
			return cerr(err, errlen, "'%s': a %s number is missing", it,
				    nodes ? "node" : "CPU");
		return cerr(err, errlen, "'%s': not a %s number or range (N or N-M, N <= M <= %lu%s)",
			    it, nodes ? "node" : "CPU", max,
			    nodes ? "" : "; or all, node:N, ^ITEM");
	}
	for (unsigned long i = a; i <= b; i++) {
		if (nodes) {
			if (!host)
				continue;
			if (i >= host->nnodes || !host->node_present[i]) {
				if (remove)
					continue;
				return cerr(err, errlen, "node %lu: this host has no NUMA node %lu",
					    i, i);
			}
			if (remove) {
				for (int c = 0; c < CPUSET_MAX_CPUS; c++)
					if (CPU_ISSET(c, &host->node[i]))
						CPU_CLR(c, set);
			} else {
				CPU_OR(set, set, &host->node[i]);
			}
			continue;
		}
		if (host && !remove && !CPU_ISSET((int)i, &host->online)) {
			char cpus[128];
			host_cpus_text(host, cpus, sizeof(cpus));
			return cerr(err, errlen, "CPU %lu: this host has no such CPU (its CPUs: %s)", i,
				    cpus);
		}
		if (remove)
			CPU_CLR((int)i, set);
		else
			CPU_SET((int)i, set);
	}
	return 0;
}

int cpuset_parse(const char *s, const struct cpuset_host *host, cpu_set_t *out, char *err,
		 size_t errlen)
{
	CPU_ZERO(out);
	if (!s)
		return cerr(err, errlen, "no CPU list");
	size_t n = strlen(s);
	if (n > 4096)
		return cerr(err, errlen, "the CPU list is too long (%zu bytes)", n);
	char buf[4097];
	memcpy(buf, s, n + 1);
	int items = 0;
	/* strtok_r would skip empty items ("0,,1"); split by hand. */
	char *start = buf;
	for (;;) {
		char *comma = strchr(start, ',');
		if (comma)
			*comma = 0;
		char *it = start;
		while (*it == ' ' || *it == '\t')
			it++;
		char *end = it + strlen(it);
		while (end > it && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = 0;
		if (!*it)
			return cerr(err, errlen, "%s", items || comma ? "an empty item (two commas, or "
							      "a comma at an end)"
								    : "no CPU list (empty)");
		for (const char *c = it; *c; c++)
			if (!isprint((unsigned char)*c) || *c == ';')
				return cerr(err, errlen, "'%.32s': a character that no CPU list holds",
					    it);
		if (item(it, host, out, err, errlen) < 0)
			return -1;
		items++;
		if (!comma)
			break;
		start = comma + 1;
	}
	if (host && CPU_COUNT(out) == 0)
		return cerr(err, errlen, "'%s' leaves no CPU to run on", s);
	return 0;
}

bool cpuset_is_per_vcpu(const char *s)
{
	return s && strchr(s, ';');
}

int cpuset_parse_pinning(const char *s, unsigned nvcpus, const struct cpuset_host *host,
			 cpu_set_t *sets, bool *pinned, char *err, size_t errlen)
{
	char e[256];
	for (unsigned i = 0; i < nvcpus; i++)
		pinned[i] = false;
	if (!s)
		return 0;
	if (!cpuset_is_per_vcpu(s)) {
		cpu_set_t one;
		if (cpuset_parse(s, host, &one, e, sizeof(e)) < 0)
			return cerr(err, errlen, "%s", e);
		for (unsigned i = 0; i < nvcpus; i++) {
			sets[i] = one;
			pinned[i] = true;
		}
		return 0;
	}
	size_t n = strlen(s);
	if (n > 65536)
		return cerr(err, errlen, "the per-vCPU CPU lists are too long (%zu bytes)", n);
	if (s[n - 1] != ';')
		return cerr(err, errlen, "per-vCPU CPU lists: every entry ends with ';' (\"2;3-5;\")");
	char *copy = strdup(s);
	if (!copy)
		return cerr(err, errlen, "out of memory");
	unsigned v = 0;
	int r = 0;
	for (char *p = copy; *p;) {
		char *semi = strchr(p, ';'); /* there is one: the string ends with ';' */
		*semi = 0;
		if (v >= nvcpus) {
			unsigned total = v;
			for (char *q = semi + 1; *q; q++)
				total += *q == ';';
			r = cerr(err, errlen, "%u per-vCPU CPU lists for %u vCPU%s", total + 1, nvcpus,
				 nvcpus == 1 ? "" : "s");
			break;
		}
		cpu_set_t one;
		if (cpuset_parse(p, host, &one, e, sizeof(e)) < 0) {
			r = cerr(err, errlen, "vCPU %u: %s", v, e);
			break;
		}
		if (sets)
			sets[v] = one;
		pinned[v] = true;
		v++;
		p = semi + 1;
	}
	free(copy);
	if (r < 0)
		for (unsigned i = 0; i < nvcpus; i++)
			pinned[i] = false;
	return r;
}

/* A sysfs cpulist file ("0-3,8-11\n") into set; -1 if unreadable or malformed. */
static int read_list(const char *path, cpu_set_t *set)
{
	char buf[4096];
	if (read_file_head(path, buf, sizeof(buf)) < 0)
		return -1;
	buf[strcspn(buf, "\n")] = 0;
	if (!buf[0]) { /* a node without CPUs */
		CPU_ZERO(set);
		return 0;
	}
	return cpuset_parse(buf, NULL, set, NULL, 0) < 0 ? -1 : 0;
}

int cpuset_host_read(struct cpuset_host *host, char *err, size_t errlen)
{
	memset(host, 0, sizeof(*host));
	if (read_list("/sys/devices/system/cpu/online", &host->online) < 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		if (n < 1)
			return cerr(err, errlen, "cannot tell this host's CPUs: %s", strerror(errno));
		for (long i = 0; i < n && i < CPUSET_MAX_CPUS; i++)
			CPU_SET((int)i, &host->online);
	}
	for (unsigned i = 0; i < CPUSET_MAX_NODES; i++) {
		char path[96];
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%u/cpulist", i);
		if (read_list(path, &host->node[i]) == 0) {
			host->node_present[i] = true;
			CPU_AND(&host->node[i], &host->node[i], &host->online);
			host->nnodes = i + 1;
		}
	}
	return 0;
}
