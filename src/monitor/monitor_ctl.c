#include "monitor/monitor_ctl.h"

#include <json-c/json.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

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
	} else if ((path = path_arg(cmd, "screenshot", err, errlen))) {
		return path[0] ? screenshot(m, path, reply, err, errlen) : -1;
	} else if ((path = path_arg(cmd, "dump-core", err, errlen))) {
		return path[0] ? dump_core(m, path, reply, err, errlen) : -1;
	} else {
		snprintf(err, errlen, "unknown command '%.64s' (status, pause, unpause, power-button, "
				      "reset, destroy, net-link NIC [up|down], screenshot PATH, "
				      "dump-core PATH)", cmd);
		return -1;
	}
	return 0;
}
