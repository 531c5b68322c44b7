/* domus top: CPU and memory per domain, refreshed (like xentop). CPU(%) is the vCPU time a
 * domain used between two samples over the wall time between them (100% = one host CPU). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "lib/log.h"

#define MAX_TRACKED 1024

struct sample {
	long long domid;
	double cpu_s;
};

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: domus top [-d SECONDS] [-n ITERATIONS] [-b]\n"
		   "CPU and memory per domain, refreshed every -d seconds (default 1); -n stops\n"
		   "after that many screens; -b prints plain screens one after another (batch).\n"
		   "Columns: CPU(sec) vCPU time so far, CPU(%%) of one host CPU since the last\n"
		   "screen, MEM(k) guest RAM, MEM(%%) of host RAM, RSS(k) host memory the monitor\n"
		   "really uses.\n");
}

int cmd_top(int argc, char **argv)
{
	double delay = 1;
	long iterations = -1;
	int batch = !isatty(STDOUT_FILENO), c;
	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, "+d:n:bh")) != -1) {
		char *end;
		switch (c) {
		case 'd':
			delay = strtod(optarg, &end);
			if (*end || delay < 0.1) {
				log_err("top: -d %s: give seconds (at least 0.1)", optarg);
				return DOMUS_EXIT_USAGE;
			}
			break;
		case 'n':
			iterations = strtol(optarg, &end, 10);
			if (*end || iterations < 1) {
				log_err("top: -n %s: give a positive count", optarg);
				return DOMUS_EXIT_USAGE;
			}
			break;
		case 'b':
			batch = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return DOMUS_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return DOMUS_EXIT_USAGE;
	}
	static struct sample prev[MAX_TRACKED], cur[MAX_TRACKED];
	size_t nprev = 0;
	double tprev = 0;
	for (long it = 0; iterations < 0 || it < iterations; it++) {
		if (it)
			usleep((useconds_t)(delay * 1e6));
		struct json_object *host = api_do("top", "GET", "/v1/host", NULL);
		struct json_object *r = host ? api_do("top", "GET", "/v1/domains", NULL) : NULL;
		if (!r) {
			if (host)
				json_object_put(host);
			return DOMUS_EXIT_ERROR;
		}
		double t = mono_s();
		double host_mib = (double)json_int(host, "total_memory_mib", 1);
		if (!batch)
			printf("\033[H\033[2J");
		time_t now = time(NULL);
		char hms[16];
		strftime(hms, sizeof(hms), "%H:%M:%S", localtime(&now));
		printf("domus top - %s   %lld domains, %lld running   Mem: %lld MiB total, "
		       "%lld MiB free, %lld MiB to domains\n",
		       hms, json_int(host, "nr_domains", 0), json_int(host, "nr_running", 0),
		       json_int(host, "total_memory_mib", 0), json_int(host, "free_memory_mib", 0),
		       json_int(host, "domains_memory_mib", 0));
		printf("%20s %5s %6s %10s %7s %10s %6s %5s %10s\n", "NAME", "ID", "STATE", "CPU(sec)",
		       "CPU(%)", "MEM(k)", "MEM(%)", "VCPUS", "RSS(k)");
		size_t ncur = 0;
		for (size_t i = 0; i < json_object_array_length(r); i++) {
			struct json_object *d = json_object_array_get_idx(r, i);
			long long id = json_int(d, "domid", -1);
			if (id == 0)
				continue; /* the host: its figures are in the header */
			double cpu = json_num(d, "cpu_time_s", 0), pct = 0;
			for (size_t k = 0; k < nprev; k++)
				if (prev[k].domid == id && t > tprev)
					pct = (cpu - prev[k].cpu_s) * 100 / (t - tprev);
			if (ncur < MAX_TRACKED)
				cur[ncur++] = (struct sample){ id, cpu };
			double mem_k = (double)json_int(d, "memory_mib", 0) * 1024;
			printf("%20.20s %5lld %6s %10.1f %7.1f %10.0f %6.1f %5lld %10lld\n",
			       json_str(d, "name", "?"), id, json_str(d, "flags", "------"), cpu,
			       pct < 0 ? 0 : pct, mem_k, mem_k / 1024 * 100 / host_mib,
			       json_int(d, "vcpus", 0), json_int(d, "rss_kib", 0));
		}
		if (batch)
			printf("\n");
		fflush(stdout);
		memcpy(prev, cur, ncur * sizeof(cur[0]));
		nprev = ncur;
		tprev = t;
		json_object_put(r);
		json_object_put(host);
	}
	return 0;
}
