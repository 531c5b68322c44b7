#include "monitor/monitor_ctl.h"

#include <json-c/json.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/cpuset.h"
#include "lib/cpulist.h"
#include "machine_fv.h"
#include "vmm/coredump.h"
#include "lib/log.h"

static void add_nic(struct machine *m, unsigned i, struct json_object *o)
{
	struct machine_net *n = m->net[i];
	char mac[18];
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->net.mac[0], n->net.mac[1],
		 n->net.mac[2], n->net.mac[3], n->net.mac[4], n->net.mac[5]);
	json_object_object_add(o, "nic", json_object_new_int((int)i));
	json_object_object_add(o, "name", json_object_new_string(n->net.vp.name));
	json_object_object_add(o, "tap", json_object_new_string(n->ifname));
	json_object_object_add(o, "mac", json_object_new_string(mac));
	json_object_object_add(o, "link",
			       json_object_new_string(virtio_net_link_up(&n->net) ? "up" : "down"));
}

void monitor_add_nics(struct machine *m, struct json_object *reply)
{
	struct json_object *arr = json_object_new_array();
	for (unsigned i = 0; i < m->nnet; i++) {
		struct json_object *o = json_object_new_object();
		add_nic(m, i, o);
		json_object_array_add(arr, o);
	}
	json_object_object_add(reply, "nics", arr);
}

/* "net-link NIC [up|down]": the words after the command, split on blanks. */
static int net_link(struct machine *m, const char *args, struct json_object *reply, char *err,
		    size_t errlen)
{
	char nic[64] = "", state[16] = "", extra[2] = "";
	int n = sscanf(args, "%63s %15s %1s", nic, state, extra);
	if (n < 1 || n > 2 || (n == 2 && strcmp(state, "up") && strcmp(state, "down"))) {
		snprintf(err, errlen, "net-link: expected 'net-link NIC [up|down]'");
		return -1;
	}
	int i = machine_find_nic(m, nic);
	if (i < 0) {
		snprintf(err, errlen, "net-link: no NIC '%s' (this domain has %u: give an index, "
				      "netN or the TAP's name)", nic, m->nnet);
		return -1;
	}
	if (n == 2)
		machine_set_nic_link(m, (unsigned)i, !strcmp(state, "up"));
	add_nic(m, (unsigned)i, reply);
	return 0;
}

/* The file name of "screenshot PATH" / "dump-core PATH": NULL if cmd is not verb, "" (with
 * err) if the path is not absolute (the monitor's working directory is nobody's business). */
static const char *path_arg(const char *cmd, const char *verb, char *err, size_t errlen)
{
	size_t n = strlen(verb);
	if (strncmp(cmd, verb, n) || cmd[n] != ' ')
		return NULL;
	if (cmd[n + 1] != '/') {
		snprintf(err, errlen, "%s: the file name must be an absolute path", verb);
		return "";
	}
	return cmd + n + 1;
}

/* The guest holds still while its screen or memory is copied: vCPUs parked, as xl pauses a
 * domain for dump-core; they run on afterwards unless the domain was paused already. */
static int screenshot(struct machine *m, const char *path, struct json_object *reply, char *err,
		      size_t errlen)
{
	struct vm *vm = &m->vm;
	if (!m->fv) {
		snprintf(err, errlen, "screenshot: this domain has no VGA (a PV domain: its console "
				      "is the serial line)");
		return -1;
	}
	int was_paused = atomic_load(&vm->paused);
	if (!was_paused)
		vm_pause(vm);
	int r = machine_fv_screenshot(m, path, NULL, err, errlen);
	if (!was_paused)
		vm_resume(vm);
	if (r == 0)
		json_object_object_add(reply, "file", json_object_new_string(path));
	return r;
}

static int dump_core(struct machine *m, const char *path, struct json_object *reply, char *err,
		     size_t errlen)
{
	struct vm *vm = &m->vm;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int was_paused = atomic_load(&vm->paused);
	if (!was_paused)
		vm_pause(vm);
	int r = vm_dump_core(vm, path, err, errlen);
	if (!was_paused)
		vm_resume(vm);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (r == 0) {
		log_info("core written to %s", path);
		json_object_object_add(reply, "file", json_object_new_string(path));
		json_object_object_add(reply, "seconds",
				       json_object_new_double((double)(t1.tv_sec - t0.tv_sec) +
							      (t1.tv_nsec - t0.tv_nsec) / 1e9));
	}
	return r;
}

/* "vcpu-list": per vCPU its thread, the host CPU it last ran on, state, time and affinity. */
static int vcpu_list(struct machine *m, struct json_object *reply, char *err, size_t errlen)
{
	struct vm *vm = &m->vm;
	struct cpuset_host *host = malloc(sizeof(*host));
	char e[256], text[1024];
	if (!host) {
		snprintf(err, errlen, "vcpu-list: out of memory");
		return -1;
	}
	if (cpuset_host_read(host, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "vcpu-list: %s", e);
		free(host);
		return -1;
	}
	int paused = atomic_load(&vm->paused);
	struct json_object *arr = json_object_new_array();
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu_info vi;
		vm_vcpu_info(vm, i, &vi);
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "vcpu", json_object_new_int((int)i));
		json_object_object_add(o, "tid", json_object_new_int(vi.tid));
		json_object_object_add(o, "cpu", json_object_new_int(vi.cpu));
		const char *state = !vi.tid ? "stopped" : paused ? "paused"
					  : vi.state == 'r' ? "running" : "blocked";
		json_object_object_add(o, "state", json_object_new_string(state));
		json_object_object_add(o, "cpu_ns", json_object_new_int64((int64_t)vi.cpu_ns));
		json_object_object_add(o, "time_s", json_object_new_double((double)vi.cpu_ns / 1e9));
		cpulist_format(&vi.affinity, text, sizeof(text));
		json_object_object_add(o, "affinity", json_object_new_string(text));
		cpu_set_t covered;
		CPU_AND(&covered, &vi.affinity, &host->online);
		json_object_object_add(o, "affinity_all",
				       json_object_new_boolean(vi.tid &&
							       CPU_EQUAL(&covered, &host->online)));
		json_object_array_add(arr, o);
	}
	json_object_object_add(reply, "vcpus", arr);
	cpulist_format(&host->online, text, sizeof(text));
	json_object_object_add(reply, "host_cpus", json_object_new_string(text));
	free(host);
	return 0;
}

/* "vcpu-pin N|all CPUS": CPUS in xl's syntax (config/cpuset.h), the rest of the line. */
static int vcpu_pin(struct machine *m, const char *args, struct json_object *reply, char *err,
		    size_t errlen)
{
	static const char usage[] = "vcpu-pin: expected 'vcpu-pin VCPU|all CPUS' (CPUS as in "
				    "xl: all, 0-3,5,^1, node:0)";
	char which[16] = "";
	int off = 0;
	while (*args == ' ')
		args++;
	if (sscanf(args, "%15s %n", which, &off) != 1 || !off || !args[off]) {
		snprintf(err, errlen, "%s", usage);
		return -1;
	}
	const char *cpus = args + off;
	bool all = !strcmp(which, "all");
	unsigned long v = 0;
	if (!all) {
		char *end;
		if (which[0] < '0' || which[0] > '9' || (v = strtoul(which, &end, 10), *end) ||
		    v >= m->vm.nr_vcpus) {
			snprintf(err, errlen, "vcpu-pin: no vCPU '%s' (this domain has %u: give 0-%u "
					      "or all)", which, m->vm.nr_vcpus, m->vm.nr_vcpus - 1);
			return -1;
		}
	}
	struct cpuset_host *host = malloc(sizeof(*host));
	char e[384];
	cpu_set_t set;
	int r = -1;
	if (!host)
		snprintf(err, errlen, "vcpu-pin: out of memory");
	else if (cpuset_host_read(host, e, sizeof(e)) < 0)
		snprintf(err, errlen, "vcpu-pin: %s", e);
	else if (cpuset_parse(cpus, host, &set, e, sizeof(e)) < 0)
		snprintf(err, errlen, "vcpu-pin: CPUs \"%.64s\": %s", cpus, e);
	else if (machine_pin_vcpus(m, all, (unsigned)v, &set, e, sizeof(e)) < 0)
		snprintf(err, errlen, "vcpu-pin: %s", e);
	else
		r = 0;
	free(host);
	if (r < 0)
		return -1;
	char text[1024];
	cpulist_format(&set, text, sizeof(text));
	json_object_object_add(reply, "vcpu", all ? json_object_new_string("all")
						  : json_object_new_int((int)v));
	json_object_object_add(reply, "affinity", json_object_new_string(text));
	if (all)
		log_info("every vCPU pinned to host CPUs %s", text);
	else
		log_info("vCPU %lu pinned to host CPUs %s", v, text);
	return 0;
}

int monitor_command(struct machine *m, const char *cmd, struct json_object *reply, char *err,
		    size_t errlen)
{
	struct vm *vm = &m->vm;
	const char *path;
	if (!strcmp(cmd, "pause")) {
		vm_pause(vm);
	} else if (!strcmp(cmd, "unpause")) {
		vm_resume(vm);
	} else if (!strcmp(cmd, "power-button")) {
		if (atomic_load(&vm->paused)) {
			snprintf(err, errlen, "the domain is paused; unpause it so it can see the "
					      "power button");
			return -1;
		}
		machine_power_button(m);
	} else if (!strcmp(cmd, "reset")) {
		vm_request_stop(vm, VM_STOP_RESET, NULL);
	} else if (!strcmp(cmd, "destroy")) {
		vm_request_stop(vm, VM_STOP_QUIT, NULL);
	} else if (!strncmp(cmd, "net-link", 8) && (cmd[8] == ' ' || !cmd[8])) {
		return net_link(m, cmd + 8, reply, err, errlen);
	} else if (!strcmp(cmd, "vcpu-list")) {
		return vcpu_list(m, reply, err, errlen);
	} else if (!strncmp(cmd, "vcpu-pin", 8) && (cmd[8] == ' ' || !cmd[8])) {
		return vcpu_pin(m, cmd + 8, reply, err, errlen);
	} else if ((path = path_arg(cmd, "screenshot", err, errlen))) {
		return path[0] ? screenshot(m, path, reply, err, errlen) : -1;
	} else if ((path = path_arg(cmd, "dump-core", err, errlen))) {
		return path[0] ? dump_core(m, path, reply, err, errlen) : -1;
	} else {
		snprintf(err, errlen, "unknown command '%.64s' (status, pause, unpause, power-button, "
				      "reset, destroy, net-link NIC [up|down], vcpu-list, "
				      "vcpu-pin VCPU|all CPUS, screenshot PATH, dump-core PATH)",
			 cmd);
		return -1;
	}
	return 0;
}
