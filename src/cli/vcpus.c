/* domus vcpu-list and vcpu-pin, as xl's: through domusd (GET /v1/domains/REF/vcpus, POST
 * /v1/domains/REF/vcpus/VCPU/pin), or straight to a monitor's control socket with --control
 * (`domus run --control SOCKET`). */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "config/cpuset.h"
#include "lib/control.h"
#include "lib/log.h"

#define CALL_TIMEOUT_MS 5000

static const char list_help[] =
	"usage: domus vcpu-list [NAME|ID...]\n"
	"       domus vcpu-list --control SOCKET\n"
	"Lists the vCPUs of running domains as xl does: Name ID VCPU CPU State Time(s)\n"
	"CPU Affinity. CPU is the host CPU the vCPU's thread last ran on; State r-- on a CPU\n"
	"now, -b- idle (blocked), --p paused; Affinity the host CPUs it may run on (all: every\n"
	"online CPU). --control asks the monitor of `domus run --control SOCKET` directly.\n";

static const char pin_help[] =
	"usage: domus vcpu-pin NAME|ID VCPU|all CPUS\n"
	"       domus vcpu-pin --control SOCKET VCPU|all CPUS\n"
	"Pins a running domain's vCPU (or all of them) to host CPUs, as xl vcpu-pin: the vCPU's\n"
	"thread runs only there from now on. CPUS in xl's syntax: all, 3, 0-3,5,^1 (left to\n"
	"right; ^ removes), node:0, all,^node:1. Kept across reboots within a `domus run`;\n"
	"under domusd a restarted domain starts again from its config's cpus=.\n";

static int want_help(int argc, char **argv, const char *text)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(text, stdout);
			return 1;
		}
	return 0;
}

/* The reply of a control socket command, or NULL after a message. */
static struct json_object *monitor_call(const char *verb, const char *sock, const char *cmd)
{
	char err[512];
	struct json_object *r = control_call(sock, cmd, CALL_TIMEOUT_MS, err, sizeof(err)), *ok, *e;
	if (!r) {
		log_err("%s: %s", verb, err);
		return NULL;
	}
	if (!json_object_object_get_ex(r, "ok", &ok) || !json_object_get_boolean(ok)) {
		/* The monitor's message names the command already ("vcpu-pin: ..."). */
		if (json_object_object_get_ex(r, "error", &e))
			log_err("%s", json_object_get_string(e));
		else
			log_err("%s: the monitor refused", verb);
		json_object_put(r);
		return NULL;
	}
	return r;
}

static void print_header(void)
{
	printf("%-32s %5s %5s %5s %5s %9s %s\n", "Name", "ID", "VCPU", "CPU", "State", "Time(s)",
	       "CPU Affinity");
}

/* The rows of one domain's vcpu-list reply. */
static int print_vcpus(const char *name, long long domid, struct json_object *reply)
{
	struct json_object *arr;
	if (!json_object_object_get_ex(reply, "vcpus", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		log_err("vcpu-list: %s: the monitor sent no vCPU list", name);
		return -1;
	}
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *v = json_object_array_get_idx(arr, i), *all;
		const char *state = json_str(v, "state", "");
		const char *letters = !strcmp(state, "running") ? "r--"
				      : !strcmp(state, "blocked") ? "-b-"
				      : !strcmp(state, "paused")  ? "--p"
								  : "---";
		char id[24], cpu[24];
		if (domid >= 0)
			snprintf(id, sizeof(id), "%lld", domid);
		else
			snprintf(id, sizeof(id), "-");
		long long c = json_int(v, "cpu", -1);
		if (c >= 0)
			snprintf(cpu, sizeof(cpu), "%lld", c);
		else
			snprintf(cpu, sizeof(cpu), "-");
		int is_all = json_object_object_get_ex(v, "affinity_all", &all) &&
			     json_object_get_boolean(all);
		printf("%-32s %5s %5lld %5s %5s %9.1f %s\n", name, id, json_int(v, "vcpu", -1), cpu,
		       letters, json_num(v, "time_s", 0),
		       is_all ? "all" : json_str(v, "affinity", "?"));
	}
	return 0;
}

int cmd_vcpu_list(int argc, char **argv)
{
	if (want_help(argc, argv, list_help))
		return 0;
	if (argc >= 2 && !strcmp(argv[1], "--control")) {
		if (argc != 3) {
			fputs(list_help, stderr);
			return DOMUS_EXIT_USAGE;
		}
		struct json_object *r = monitor_call("vcpu-list", argv[2], "vcpu-list");
		if (!r)
			return DOMUS_EXIT_ERROR;
		print_header();
		int rc = print_vcpus(json_str(r, "name", "domus"), -1, r);
		json_object_put(r);
		return rc < 0 ? DOMUS_EXIT_ERROR : 0;
	}
	for (int k = 1; k < argc; k++) {
		if (argv[k][0] == '-') {
			log_err("vcpu-list: unknown option '%s'", argv[k]);
			fputs(list_help, stderr);
			return DOMUS_EXIT_USAGE;
		}
		if (!api_ref_ok("vcpu-list", argv[k]))
			return DOMUS_EXIT_ERROR;
	}
	struct json_object *doms = api_do("vcpu-list", "GET", "/v1/domains", NULL);
	if (!doms)
		return DOMUS_EXIT_ERROR;
	if (!json_object_is_type(doms, json_type_array)) {
		log_err("vcpu-list: domusd sent no list");
		json_object_put(doms);
		return DOMUS_EXIT_ERROR;
	}
	int status = api_domains_found("vcpu-list", doms, argc - 1, argv + 1) ? 0 : DOMUS_EXIT_ERROR;
	print_header();
	for (size_t j = 0; j < json_object_array_length(doms); j++) {
		struct json_object *d = json_object_array_get_idx(doms, j);
		long long domid = json_int(d, "domid", -1);
		const char *name = json_str(d, "name", "?"), *state = json_str(d, "state", "");
		int wanted = argc < 2;
		for (int k = 1; k < argc; k++)
			if (api_domain_is(d, argv[k]))
				wanted = 1;
		/* Domain-0 is the host: its CPUs are not vCPU threads of a monitor. Only a
		 * running domain has vCPU threads. */
		if (!wanted || domid <= 0)
			continue;
		if (strcmp(state, "running") && strcmp(state, "blocked") && strcmp(state, "paused")) {
			if (argc >= 2) {
				log_err("vcpu-list: domain %s is not running (%s)", name, state);
				status = DOMUS_EXIT_ERROR;
			}
			continue;
		}
		char path[160];
		snprintf(path, sizeof(path), "/v1/domains/%lld/vcpus", domid);
		struct json_object *r = api_do("vcpu-list", "GET", path, NULL);
		if (!r) {
			status = DOMUS_EXIT_ERROR;
			continue;
		}
		if (print_vcpus(name, domid, r) < 0)
			status = DOMUS_EXIT_ERROR;
		json_object_put(r);
	}
	json_object_put(doms);
	return status;
}

int cmd_vcpu_pin(int argc, char **argv)
{
	if (want_help(argc, argv, pin_help))
		return 0;
	const char *sock = NULL, *ref = NULL;
	int i = 1;
	if (argc >= 2 && !strcmp(argv[1], "--control")) {
		if (argc < 3) {
			fputs(pin_help, stderr);
			return DOMUS_EXIT_USAGE;
		}
		sock = argv[2];
		i = 3;
	} else if (argc >= 2 && argv[1][0] == '-') {
		log_err("vcpu-pin: unknown option '%s'", argv[1]);
		fputs(pin_help, stderr);
		return DOMUS_EXIT_USAGE;
	} else if (argc >= 2) {
		ref = argv[1];
		i = 2;
	}
	if (argc - i != 2) {
		fputs(pin_help, stderr);
		return DOMUS_EXIT_USAGE;
	}
	const char *vcpu = argv[i], *cpus = argv[i + 1];
	if (ref && !api_ref_ok("vcpu-pin", ref))
		return DOMUS_EXIT_ERROR;
	size_t vl = strlen(vcpu);
	if (strcmp(vcpu, "all") && (vl == 0 || vl > 4 || strspn(vcpu, "0123456789") != vl)) {
		log_err("vcpu-pin: '%s' is not a vCPU number or all", vcpu);
		return DOMUS_EXIT_USAGE;
	}
	cpu_set_t set;
	char e[384];
	if (cpuset_parse(cpus, NULL, &set, e, sizeof(e)) < 0) {
		log_err("vcpu-pin: CPUs \"%.64s\": %s", cpus, e);
		return DOMUS_EXIT_USAGE;
	}
	struct json_object *r;
	if (sock) {
		char cmd[CONTROL_LINE_MAX];
		int n = snprintf(cmd, sizeof(cmd), "vcpu-pin %s %s", vcpu, cpus);
		if (n < 0 || (size_t)n >= sizeof(cmd) - 1) {
			log_err("vcpu-pin: CPUs \"%.64s...\": too long", cpus);
			return DOMUS_EXIT_USAGE;
		}
		r = monitor_call("vcpu-pin", sock, cmd);
	} else {
		char path[256];
		snprintf(path, sizeof(path), "/v1/domains/%s/vcpus/%s/pin", ref, vcpu);
		struct json_object *body = json_object_new_object();
		json_object_object_add(body, "cpus", json_object_new_string(cpus));
		r = api_do("vcpu-pin", "POST", path, body);
		json_object_put(body);
	}
	if (!r)
		return DOMUS_EXIT_ERROR;
	json_object_put(r);
	return 0;
}
