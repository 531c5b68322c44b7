/* The JSON form of struct domain_config: the record domusd keeps in domain.json and hands to
 * the monitor in config.json. This file is the only place that form is defined.
 *
 * Writing is plain. Reading trusts nothing: a record may be stale, hand-edited or from another
 * version. Every field must have its type, unknown fields are refused (a field this version
 * does not know would otherwise be dropped silently), and the result is held to the rules
 * domcfg_build applies: disks and NICs are re-parsed as xl specs rebuilt from their fields,
 * so a record cannot describe a device a config file could not. Errors name the field:
 * "disks[1].vdev: must be a string". */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/domcfg.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char *const fw_names[] = {
	[DOMCFG_FW_DEFAULT] = "default",
	[DOMCFG_FW_SEABIOS] = "seabios",
	[DOMCFG_FW_OVMF] = "ovmf",
};

static const char *const nic_types[] = {
	[DOMCFG_NIC_IOEMU] = "ioemu",
	[DOMCFG_NIC_VIF] = "vif",
};

static void add_str(struct json_object *o, const char *k, const char *v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_string(v));
}

static void add_bool(struct json_object *o, const char *k, bool v)
{
	json_object_object_add(o, k, json_object_new_boolean(v));
}

static struct json_object *disk_to_json(const struct domcfg_disk *d)
{
	struct json_object *j = json_object_new_object();
	add_str(j, "path", d->target);
	add_str(j, "format", domcfg_format_name(d->format));
	add_str(j, "vdev", d->vdev);
	add_bool(j, "readonly", d->readonly);
	add_bool(j, "cdrom", d->cdrom);
	add_bool(j, "discard", d->discard);
	add_str(j, "serial", d->serial);
	return j;
}

static struct json_object *nic_to_json(const struct domcfg_nic *n)
{
	struct json_object *j = json_object_new_object();
	char mac[18];
	snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1],
		 n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
	add_str(j, "mac", mac);
	add_bool(j, "mac_auto", n->mac_auto);
	add_str(j, "bridge", n->bridge);
	add_str(j, "model", n->model);
	add_str(j, "vifname", n->vifname);
	add_str(j, "ip", n->ip);
	add_str(j, "type", nic_types[n->type]);
	json_object_object_add(j, "devid", json_object_new_int(n->devid));
	return j;
}

struct json_object *domcfg_to_json(const struct domain_config *dc)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		return NULL;
	add_str(o, "name", dc->name);
	add_str(o, "type", domcfg_type_name(dc->type));
	json_object_object_add(o, "memory_mib", json_object_new_int64((int64_t)dc->memory_mib));
	json_object_object_add(o, "maxmem_mib", json_object_new_int64((int64_t)dc->maxmem_mib));
	json_object_object_add(o, "vcpus", json_object_new_int((int)dc->vcpus));
	add_str(o, "cpus", dc->cpus);
	add_str(o, "kernel", dc->kernel);
	add_str(o, "ramdisk", dc->ramdisk);
	add_str(o, "cmdline", dc->cmdline);
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < dc->ndisks; i++)
		json_object_array_add(a, disk_to_json(&dc->disks[i]));
	json_object_object_add(o, "disks", a);
	a = json_object_new_array();
	for (size_t i = 0; i < dc->nnics; i++)
		json_object_array_add(a, nic_to_json(&dc->nics[i]));
	json_object_object_add(o, "nics", a);
	add_str(o, "boot", dc->boot);
	add_str(o, "firmware", fw_names[dc->firmware]);
	add_str(o, "bios_path", dc->bios_path);
	add_bool(o, "rng", dc->rng);
	add_str(o, "hvc_output", dc->hvc_output);
	add_str(o, "hvc_input", dc->hvc_input);
	add_bool(o, "fv_devices", dc->fv_devices);
	add_bool(o, "triple_fault_reset", dc->triple_fault_reset);
	add_bool(o, "pvm_aware", dc->pvm_aware);
	add_str(o, "on_poweroff", domcfg_action_name(dc->on_poweroff));
	add_str(o, "on_reboot", domcfg_action_name(dc->on_reboot));
	add_str(o, "on_crash", domcfg_action_name(dc->on_crash));
	return o;
}

/* Reading: where we are ("disks[1]") and the first error. */
struct rd {
	char *err;
	size_t errlen;
	char at[32];
	int ret;
};

static int __attribute__((format(printf, 3, 4)))
fail(struct rd *r, const char *field, const char *fmt, ...)
{
	if (r->ret)
		return r->ret;
	r->ret = -EINVAL;
	if (r->err && r->errlen) {
		int n = snprintf(r->err, r->errlen, "%s%s%s: ", r->at, *r->at && *field ? "." : "",
				 field);
		va_list ap;
		va_start(ap, fmt);
		if (n >= 0 && (size_t)n < r->errlen)
			vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return r->ret;
}

/* Every field of o must be in known[]. */
static int only(struct rd *r, struct json_object *o, const char *const *known, size_t n)
{
	json_object_object_foreach(o, k, v) {
		(void)v;
		size_t i = 0;
		while (i < n && strcmp(known[i], k))
			i++;
		if (i == n)
			return fail(r, k, "unknown field");
	}
	return 0;
}

static struct json_object *field(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;
	return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

/* A string field; NULL when absent and optional. */
static const char *rd_str(struct rd *r, struct json_object *o, const char *k, bool required)
{
	struct json_object *v = field(o, k);
	if (!v) {
		if (required)
			fail(r, k, "missing");
		return NULL;
	}
	if (!json_object_is_type(v, json_type_string)) {
		fail(r, k, "must be a string");
		return NULL;
	}
	return json_object_get_string(v);
}

/* A copy of an optional string field into *out (NULL when absent). */
static void rd_dup(struct rd *r, struct json_object *o, const char *k, char **out)
{
	const char *s = rd_str(r, o, k, false);
	*out = NULL;
	if (s && !*s)
		fail(r, k, "is empty (leave it out instead)");
	else if (s && !(*out = strdup(s)) && !r->ret)
		r->ret = -ENOMEM;
}

static bool rd_bool(struct rd *r, struct json_object *o, const char *k)
{
	struct json_object *v = field(o, k);
	if (!v)
		return fail(r, k, "missing"), false;
	if (!json_object_is_type(v, json_type_boolean))
		return fail(r, k, "must be true or false"), false;
	return json_object_get_boolean(v);
}

static uint64_t rd_num(struct rd *r, struct json_object *o, const char *k, uint64_t min,
		       uint64_t max)
{
	struct json_object *v = field(o, k);
	if (!v)
		return fail(r, k, "missing"), 0;
	if (!json_object_is_type(v, json_type_int))
		return fail(r, k, "must be a whole number"), 0;
	int64_t n = json_object_get_int64(v);
	if (n < 0 || (uint64_t)n < min || (uint64_t)n > max)
		return fail(r, k, "must be between %llu and %llu", (unsigned long long)min,
			    (unsigned long long)max), 0;
	return (uint64_t)n;
}

/* An enum written as one of names[]; def when the field is not valid. */
static int rd_enum(struct rd *r, struct json_object *o, const char *k, const char *const *names,
		   size_t n)
{
	const char *s = rd_str(r, o, k, true);
	for (size_t i = 0; s && i < n; i++)
		if (names[i] && !strcmp(s, names[i]))
			return (int)i;
	if (s)
		fail(r, k, "unknown value '%.40s'", s);
	return 0;
}

static struct json_object *rd_array(struct rd *r, struct json_object *o, const char *k,
				    size_t max, size_t *n)
{
	struct json_object *v = field(o, k);
	*n = 0;
	if (!v)
		return fail(r, k, "missing"), NULL;
	if (!json_object_is_type(v, json_type_array))
		return fail(r, k, "must be a list"), NULL;
	*n = json_object_array_length(v);
	if (*n > max)
		return fail(r, k, "more than %zu entries", max), NULL;
	return v;
}

/* Append ", key=val" to a spec being rebuilt; values cannot hold commas in a spec. */
static void spec_add(struct rd *r, char *spec, size_t len, const char *k, const char *v)
{
	if (!v)
		return;
	if (strchr(v, ','))
		fail(r, k, "must not hold a comma");
	size_t n = strlen(spec);
	snprintf(spec + n, len - n, "%s%s=%s", n ? ", " : "", k, v);
}

static void rd_disk(struct rd *r, struct json_object *j, struct domcfg_disk *d)
{
	static const char *const known[] = { "path", "format", "vdev", "readonly",
					     "cdrom", "discard", "serial" };
	char spec[8192] = "", msg[200];
	if (!json_object_is_type(j, json_type_object)) {
		fail(r, "", "must be an object");
		return;
	}
	only(r, j, known, N(known));
	const char *path = rd_str(r, j, "path", true), *format = rd_str(r, j, "format", true);
	const char *vdev = rd_str(r, j, "vdev", true), *serial = rd_str(r, j, "serial", false);
	bool ro = rd_bool(r, j, "readonly"), cdrom = rd_bool(r, j, "cdrom");
	bool discard = rd_bool(r, j, "discard");
	if (r->ret)
		return;
	spec_add(r, spec, sizeof(spec), "format", format);
	spec_add(r, spec, sizeof(spec), "vdev", vdev);
	spec_add(r, spec, sizeof(spec), "access", ro ? "ro" : "rw");
	spec_add(r, spec, sizeof(spec), "devtype", cdrom ? "cdrom" : "disk");
	spec_add(r, spec, sizeof(spec), "serial", serial);
	size_t n = strlen(spec);
	snprintf(spec + n, sizeof(spec) - n, ", %s, target=%s", discard ? "discard" : "no-discard",
		 path);
	if (r->ret)
		return;
	if (strlen(path) > 4096) {
		fail(r, "path", "too long");
		return;
	}
	int e = domcfg_parse_disk(spec, d, msg, sizeof(msg));
	if (e == -ENOMEM)
		r->ret = e;
	else if (e < 0)
		fail(r, "", "%s", msg);
	else if (d->readonly != ro)
		fail(r, "readonly", "a CD-ROM is always read-only");
}

static void rd_nic(struct rd *r, struct json_object *j, struct domcfg_nic *nic)
{
	static const char *const known[] = { "mac", "mac_auto", "bridge", "model",
					     "vifname", "ip", "type", "devid" };
	char spec[512] = "", msg[200], devid[16];
	if (!json_object_is_type(j, json_type_object)) {
		fail(r, "", "must be an object");
		return;
	}
	only(r, j, known, N(known));
	const char *mac = rd_str(r, j, "mac", true);
	bool mac_auto = rd_bool(r, j, "mac_auto");
	const char *type = rd_str(r, j, "type", true);
	snprintf(devid, sizeof(devid), "%llu", (unsigned long long)rd_num(r, j, "devid", 0, 1023));
	if (r->ret)
		return;
	spec_add(r, spec, sizeof(spec), "mac", mac);
	spec_add(r, spec, sizeof(spec), "type", type);
	spec_add(r, spec, sizeof(spec), "devid", devid);
	static const char *const opt[] = { "bridge", "model", "vifname", "ip" };
	for (size_t i = 0; i < N(opt); i++) {
		const char *v = rd_str(r, j, opt[i], false);
		if (v && !*v)
			fail(r, opt[i], "is empty (leave it out instead)");
		spec_add(r, spec, sizeof(spec), opt[i], v);
	}
	if (r->ret)
		return;
	int e = domcfg_parse_nic(spec, nic, msg, sizeof(msg));
	if (e == -ENOMEM)
		r->ret = e;
	else if (e < 0)
		fail(r, "", "%s", msg);
	nic->mac_auto = mac_auto;
}

static void rd_devices(struct rd *r, struct json_object *o, struct domain_config *dc)
{
	size_t nd, nn;
	struct json_object *disks = rd_array(r, o, "disks", DOMUS_MAX_DISKS, &nd);
	struct json_object *nics = rd_array(r, o, "nics", DOMUS_MAX_NICS, &nn);
	if (r->ret)
		return;
	dc->disks = nd ? calloc(nd, sizeof(*dc->disks)) : NULL;
	dc->nics = nn ? calloc(nn, sizeof(*dc->nics)) : NULL;
	if ((nd && !dc->disks) || (nn && !dc->nics)) {
		r->ret = -ENOMEM;
		return;
	}
	for (size_t i = 0; !r->ret && i < nd; i++) {
		snprintf(r->at, sizeof(r->at), "disks[%zu]", i);
		rd_disk(r, json_object_array_get_idx(disks, i), &dc->disks[i]);
		if (r->ret)
			break;
		dc->ndisks++;
		for (size_t k = 0; k < i; k++)
			if (dc->disks[k].bus == dc->disks[i].bus &&
			    dc->disks[k].index == dc->disks[i].index &&
			    dc->disks[k].partition == dc->disks[i].partition)
				fail(r, "vdev", "'%s' is used twice", dc->disks[i].vdev);
	}
	for (size_t i = 0; !r->ret && i < nn; i++) {
		snprintf(r->at, sizeof(r->at), "nics[%zu]", i);
		rd_nic(r, json_object_array_get_idx(nics, i), &dc->nics[i]);
		if (r->ret)
			break;
		dc->nnics++;
		for (size_t k = 0; k < i; k++) {
			if (dc->nics[k].devid == dc->nics[i].devid)
				fail(r, "devid", "%d is used twice", dc->nics[i].devid);
			if (!memcmp(dc->nics[k].mac, dc->nics[i].mac, 6))
				fail(r, "mac", "is used twice");
		}
	}
	r->at[0] = 0;
}

static void rd_config(struct rd *r, struct json_object *o, struct domain_config *dc)
{
	static const char *const known[] = {
		"name", "type", "memory_mib", "maxmem_mib", "vcpus", "cpus", "kernel",
		"ramdisk", "cmdline", "disks", "nics", "boot", "firmware", "bios_path", "rng",
		"hvc_output", "hvc_input", "fv_devices", "triple_fault_reset", "pvm_aware",
		"on_poweroff", "on_reboot", "on_crash",
	};
	static const char *const types[] = { "pv", "pvh", "hvm" };
	static const char *const actions[] = { "destroy", "restart", "rename-restart",
					       "preserve", "coredump-destroy",
					       "coredump-restart" };
	if (!o || !json_object_is_type(o, json_type_object)) {
		fail(r, "config", "must be a JSON object");
		return;
	}
	if (only(r, o, known, N(known)) < 0)
		return;
	const char *name = rd_str(r, o, "name", true);
	if (name && !domcfg_name_ok(name))
		fail(r, "name", "not a domain name");
	else if (name && !(dc->name = strdup(name)))
		r->ret = -ENOMEM;
	dc->type = (enum domcfg_type)rd_enum(r, o, "type", types, N(types));
	dc->memory_mib = rd_num(r, o, "memory_mib", 1, DOMUS_MAX_MEMORY_MIB);
	dc->maxmem_mib = rd_num(r, o, "maxmem_mib", 1, DOMUS_MAX_MEMORY_MIB);
	if (!r->ret && dc->maxmem_mib != dc->memory_mib)
		fail(r, "maxmem_mib", "differs from memory_mib (there is no balloon)");
	dc->vcpus = (unsigned)rd_num(r, o, "vcpus", 1, DOMUS_MAX_VCPUS);
	rd_dup(r, o, "cpus", &dc->cpus);
	rd_dup(r, o, "kernel", &dc->kernel);
	rd_dup(r, o, "ramdisk", &dc->ramdisk);
	rd_dup(r, o, "cmdline", &dc->cmdline);
	if (!r->ret && dc->type != DOMCFG_TYPE_HVM && !dc->kernel)
		fail(r, "kernel", "missing (a %s guest boots a kernel)", types[dc->type]);
	const char *boot = rd_str(r, o, "boot", true);
	if (boot && (!*boot || strlen(boot) > 3 || strspn(boot, "cdn") != strlen(boot)))
		fail(r, "boot", "up to three of c, d, n");
	else if (boot)
		snprintf(dc->boot, sizeof(dc->boot), "%s", boot);
	dc->firmware = (enum domcfg_firmware)rd_enum(r, o, "firmware", fw_names, N(fw_names));
	rd_dup(r, o, "bios_path", &dc->bios_path);
	dc->rng = rd_bool(r, o, "rng");
	rd_dup(r, o, "hvc_output", &dc->hvc_output);
	rd_dup(r, o, "hvc_input", &dc->hvc_input);
	if (!r->ret && dc->hvc_input && !dc->hvc_output)
		fail(r, "hvc_input", "needs hvc_output");
	dc->fv_devices = rd_bool(r, o, "fv_devices");
	dc->triple_fault_reset = rd_bool(r, o, "triple_fault_reset");
	dc->pvm_aware = rd_bool(r, o, "pvm_aware");
	dc->on_poweroff = (enum domcfg_action)rd_enum(r, o, "on_poweroff", actions, N(actions));
	dc->on_reboot = (enum domcfg_action)rd_enum(r, o, "on_reboot", actions, N(actions));
	dc->on_crash = (enum domcfg_action)rd_enum(r, o, "on_crash", actions, N(actions));
	if (!r->ret)
		rd_devices(r, o, dc);
}

int domcfg_from_json(struct json_object *o, struct domain_config *dc, char *err, size_t errlen)
{
	struct rd r = { .err = err, .errlen = errlen };
	memset(dc, 0, sizeof(*dc));
	if (err && errlen)
		err[0] = 0;
	rd_config(&r, o, dc);
	if (r.ret) {
		if (r.ret == -ENOMEM && err && errlen)
			snprintf(err, errlen, "out of memory");
		domcfg_free(dc);
	}
	return r.ret;
}

int domcfg_copy(struct domain_config *to, const struct domain_config *from)
{
	struct json_object *o = domcfg_to_json(from);
	int r = o ? domcfg_from_json(o, to, NULL, 0) : -ENOMEM;
	json_object_put(o);
	return r;
}
