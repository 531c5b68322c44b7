#include "cli/monitor_ctl.h"

#include <json-c/json.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

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

int monitor_command(struct machine *m, const char *cmd, struct json_object *reply, char *err,
		    size_t errlen)
{
	struct vm *vm = &m->vm;
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
	} else {
		snprintf(err, errlen, "unknown command '%s' (status, pause, unpause, power-button, "
				      "reset, destroy, net-link NIC [up|down])", cmd);
		return -1;
	}
	return 0;
}
