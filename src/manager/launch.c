/* A domain's launch settings: from the config, to and from the domain record, to the monitor's
 * command line (the options cmd_vmm in monitor/domus_vmm.c parses). */
#include "manager/launch.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/json_get.h"

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* A path from the config, relative to the client's working directory. */
static char *abs_path(const char *cwd, const char *p)
{
	char *out = NULL;
	if (!p)
		return NULL;
	if (p[0] == '/' || !p[0] || !cwd)
		return strdup(p);
	if (asprintf(&out, "%s/%s", cwd, p) < 0)
		return NULL;
	return out;
}

void launch_free(struct dom_launch *l)
{
	for (unsigned i = 0; l->disks && i < l->ndisks; i++) {
		free(l->disks[i].path);
		free(l->disks[i].vdev);
	}
	for (unsigned i = 0; l->nics && i < l->nnics; i++) {
		free(l->nics[i].bridge);
		free(l->nics[i].tap);
	}
	free(l->disks);
	free(l->nics);
	free(l->cpus);
	free(l->kernel);
	free(l->ramdisk);
	free(l->cmdline);
	free(l->firmware);
	free(l->source);
	memset(l, 0, sizeof(*l));
}

/* Allocate the drive and NIC arrays of l for its ndisks and nnics. */
static int alloc_devices(struct dom_launch *l)
{
	l->disks = l->ndisks ? calloc(l->ndisks, sizeof(*l->disks)) : NULL;
	l->nics = l->nnics ? calloc(l->nnics, sizeof(*l->nics)) : NULL;
	return (l->ndisks && !l->disks) || (l->nnics && !l->nics) ? -ENOMEM : 0;
}

int launch_copy(struct dom_launch *to, const struct dom_launch *from)
{
	*to = *from;
	to->cpus = dup_or_null(from->cpus);
	to->kernel = dup_or_null(from->kernel);
	to->ramdisk = dup_or_null(from->ramdisk);
	to->cmdline = dup_or_null(from->cmdline);
	to->firmware = dup_or_null(from->firmware);
	to->source = dup_or_null(from->source);
	int bad = (from->kernel && !to->kernel) || (from->ramdisk && !to->ramdisk) ||
		  (from->cmdline && !to->cmdline) || (from->firmware && !to->firmware) ||
		  (from->source && !to->source) || (from->cpus && !to->cpus);
	if (alloc_devices(to) < 0) {
		to->ndisks = to->nnics = 0;
		bad = 1;
	}
	for (unsigned i = 0; i < to->ndisks; i++) {
		const struct dom_disk *f = &from->disks[i];
		struct dom_disk *t = &to->disks[i];
		*t = *f;
		t->path = dup_or_null(f->path);
		t->vdev = dup_or_null(f->vdev);
		bad |= (f->path && !t->path) || (f->vdev && !t->vdev);
	}
	for (unsigned i = 0; i < to->nnics; i++) {
		const struct dom_nic *f = &from->nics[i];
		struct dom_nic *t = &to->nics[i];
		*t = *f;
		t->bridge = dup_or_null(f->bridge);
		t->tap = dup_or_null(f->tap);
		bad |= (f->bridge && !t->bridge) || (f->tap && !t->tap);
	}
	if (bad) {
		launch_free(to);
		return -ENOMEM;
	}
	return 0;
}

int launch_from_config(struct dom_launch *l, const struct domain_config *dc, const char *source,
		       const char *cwd)
{
	memset(l, 0, sizeof(*l));
	*l = (struct dom_launch){
		.memory_mib = dc->memory_mib,
		.maxmem_mib = dc->maxmem_mib,
		.vcpus = dc->vcpus,
		.fv = dc->type == DOMCFG_TYPE_HVM,
		.ndisks = dc->ndisks > DOMUS_MAX_DISKS ? DOMUS_MAX_DISKS : (unsigned)dc->ndisks,
		.nnics = dc->nnics > DOMUS_MAX_NICS ? DOMUS_MAX_NICS : (unsigned)dc->nnics,
		.on_poweroff = dc->on_poweroff,
		.on_reboot = dc->on_reboot,
		.on_crash = dc->on_crash,
	};
	int bad = alloc_devices(l) < 0;
	if (bad)
		l->ndisks = l->nnics = 0;
	l->source = abs_path(cwd, source);
	l->cpus = dup_or_null(dc->cpus);
	bad |= !l->source || (dc->cpus && !l->cpus);
	if (l->fv) {
		snprintf(l->boot, sizeof(l->boot), "%s", dc->boot);
		l->firmware = abs_path(cwd, dc->bios_path ? dc->bios_path : FIRMWARE_DEFAULT);
		bad |= !l->firmware;
	} else {
		l->kernel = abs_path(cwd, dc->kernel);
		l->ramdisk = abs_path(cwd, dc->ramdisk);
		l->cmdline = dup_or_null(dc->cmdline);
		bad |= (dc->kernel && !l->kernel) || (dc->ramdisk && !l->ramdisk) ||
		       (dc->cmdline && !l->cmdline);
	}
	for (unsigned i = 0; i < l->ndisks; i++) {
		const struct domcfg_disk *d = &dc->disks[i];
		struct dom_disk *o = &l->disks[i];
		o->path = abs_path(cwd, d->format == DOMCFG_DISK_EMPTY ? "" : d->target);
		o->vdev = strdup(d->vdev);
		o->index = d->index;
		o->readonly = d->readonly || d->cdrom;
		o->cdrom = d->cdrom;
		bad |= !o->path || !o->vdev;
	}
	for (unsigned i = 0; i < l->nnics; i++) {
		const struct domcfg_nic *n = &dc->nics[i];
		struct dom_nic *o = &l->nics[i];
		memcpy(o->mac, n->mac, sizeof(o->mac)); /* domcfg_build derived it if not given */
		o->bridge = dup_or_null(n->bridge);
		o->tap = dup_or_null(n->vifname);
		bad |= (n->bridge && !o->bridge) || (n->vifname && !o->tap);
	}
	if (bad) {
		launch_free(l);
		return -ENOMEM;
	}
	return 0;
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_string(v));
}

static void mac_text(const uint8_t mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

void launch_to_json(const struct dom_launch *l, struct json_object *o)
{
	json_object_object_add(o, "memory_mib", json_object_new_int64((int64_t)l->memory_mib));
	json_object_object_add(o, "maxmem_mib", json_object_new_int64((int64_t)l->maxmem_mib));
	json_object_object_add(o, "vcpus", json_object_new_int((int)l->vcpus));
	add_str(o, "cpus", l->cpus);
	add_str(o, "type", l->fv ? "hvm" : "pv");
	add_str(o, "kernel", l->kernel);
	add_str(o, "ramdisk", l->ramdisk);
	add_str(o, "cmdline", l->cmdline);
	add_str(o, "firmware", l->firmware);
	if (l->fv)
		add_str(o, "boot", l->boot);
	struct json_object *disks = json_object_new_array();
	for (unsigned i = 0; i < l->ndisks; i++) {
		const struct dom_disk *d = &l->disks[i];
		struct json_object *j = json_object_new_object();
		add_str(j, "path", d->path);
		add_str(j, "vdev", d->vdev);
		json_object_object_add(j, "index", json_object_new_int((int)d->index));
		json_object_object_add(j, "readonly", json_object_new_boolean(d->readonly));
		json_object_object_add(j, "cdrom", json_object_new_boolean(d->cdrom));
		json_object_array_add(disks, j);
	}
	json_object_object_add(o, "disks", disks);
	struct json_object *nics = json_object_new_array();
	for (unsigned i = 0; i < l->nnics; i++) {
		const struct dom_nic *n = &l->nics[i];
		struct json_object *j = json_object_new_object();
		char mac[18];
		mac_text(n->mac, mac);
		add_str(j, "mac", mac);
		add_str(j, "bridge", n->bridge);
		add_str(j, "tap", n->tap);
		json_object_array_add(nics, j);
	}
	json_object_object_add(o, "nics", nics);
	add_str(o, "source", l->source);
	add_str(o, "on_poweroff", domcfg_action_name(l->on_poweroff));
	add_str(o, "on_reboot", domcfg_action_name(l->on_reboot));
	add_str(o, "on_crash", domcfg_action_name(l->on_crash));
}

static enum domcfg_action action_from(const char *s, enum domcfg_action def)
{
	for (int a = DOMCFG_ACTION_DESTROY; a <= DOMCFG_ACTION_COREDUMP_RESTART; a++)
		if (s && !strcmp(s, domcfg_action_name((enum domcfg_action)a)))
			return (enum domcfg_action)a;
	return def;
}

static struct json_object *get_array(struct json_object *o, const char *k, unsigned max,
				     unsigned *n)
{
	struct json_object *v;
	*n = 0;
	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_array))
		return NULL;
	size_t len = json_object_array_length(v);
	*n = len > max ? max : (unsigned)len;
	return v;
}

int launch_from_json(struct dom_launch *l, struct json_object *o)
{
	memset(l, 0, sizeof(*l));
	const char *type = json_get_str(o, "type"), *boot = json_get_str(o, "boot");
	struct json_object *disks = get_array(o, "disks", DOMUS_MAX_DISKS, &l->ndisks);
	struct json_object *nics = get_array(o, "nics", DOMUS_MAX_NICS, &l->nnics);
	l->memory_mib = (uint64_t)json_get_i64(o, "memory_mib");
	l->maxmem_mib = (uint64_t)json_get_i64(o, "maxmem_mib");
	l->vcpus = (unsigned)json_get_i64(o, "vcpus");
	l->fv = type && !strcmp(type, "hvm");
	l->on_poweroff = action_from(json_get_str(o, "on_poweroff"), DOMCFG_ACTION_DESTROY);
	l->on_reboot = action_from(json_get_str(o, "on_reboot"), DOMCFG_ACTION_RESTART);
	l->on_crash = action_from(json_get_str(o, "on_crash"), DOMCFG_ACTION_DESTROY);
	snprintf(l->boot, sizeof(l->boot), "%s", boot && strlen(boot) < sizeof(l->boot) ? boot : "");
	/* The strings still belong to o: copy them through launch_copy. */
	struct dom_launch view = *l;
	view.kernel = (char *)(uintptr_t)json_get_str(o, "kernel");
	view.ramdisk = (char *)(uintptr_t)json_get_str(o, "ramdisk");
	view.cmdline = (char *)(uintptr_t)json_get_str(o, "cmdline");
	view.firmware = (char *)(uintptr_t)json_get_str(o, "firmware");
	view.source = (char *)(uintptr_t)json_get_str(o, "source");
	view.cpus = (char *)(uintptr_t)json_get_str(o, "cpus");
	if (!(l->fv ? view.firmware : view.kernel))
		return -EINVAL;
	struct dom_disk dv[DOMUS_MAX_DISKS];
	struct dom_nic nv[DOMUS_MAX_NICS];
	for (unsigned i = 0; i < l->ndisks; i++) {
		struct json_object *j = json_object_array_get_idx(disks, i);
		const char *path = json_get_str(j, "path"), *vdev = json_get_str(j, "vdev");
		if (!path || !vdev)
			return -EINVAL;
		dv[i] = (struct dom_disk){ .path = (char *)(uintptr_t)path,
					   .vdev = (char *)(uintptr_t)vdev,
					   .index = (unsigned)json_get_i64(j, "index") & 3,
					   .readonly = (int)json_get_i64(j, "readonly"),
					   .cdrom = (int)json_get_i64(j, "cdrom") };
	}
	for (unsigned i = 0; i < l->nnics; i++) {
		struct json_object *j = json_object_array_get_idx(nics, i);
		const char *mac = json_get_str(j, "mac");
		nv[i] = (struct dom_nic){ .bridge = (char *)(uintptr_t)json_get_str(j, "bridge"),
					  .tap = (char *)(uintptr_t)json_get_str(j, "tap") };
		if (!mac || domcfg_parse_mac(mac, nv[i].mac) < 0)
			return -EINVAL;
	}
	view.disks = dv;
	view.nics = nv;
	return launch_copy(l, &view);
}

/* Keep s for the monitor's argv; NULL when out of memory or room. */
static const char *keep(struct launch_args *st, char *s)
{
	if (!s || st->n == LAUNCH_MAX_ARGS) {
		free(s);
		return NULL;
	}
	st->s[st->n++] = s;
	return s;
}

static const char *fmt(struct launch_args *st, const char *f, ...)
	__attribute__((format(printf, 2, 3)));
static const char *fmt(struct launch_args *st, const char *f, ...)
{
	char *s = NULL;
	va_list ap;
	va_start(ap, f);
	if (vasprintf(&s, f, ap) < 0)
		s = NULL;
	va_end(ap);
	return keep(st, s);
}

int launch_vmm_args(const struct dom_launch *l, const char **argv, int *n,
		    struct launch_args *st)
{
	int k = *n, bad = 0;
	const char *v;
#define OPT(name, val)                                                                     \
	do {                                                                               \
		v = (val);                                                                 \
		bad |= !v;                                                                 \
		argv[k++] = (name);                                                        \
		argv[k++] = v ? v : "";                                                    \
	} while (0)
	OPT("--memory", fmt(st, "%llu", (unsigned long long)l->memory_mib));
	OPT("--vcpus", fmt(st, "%u", l->vcpus));
	if (l->cpus)
		OPT("--cpus", l->cpus);
	if (l->fv) {
		OPT("--firmware", l->firmware);
		if (l->boot[0])
			OPT("--boot", l->boot);
	} else {
		OPT("--kernel", l->kernel);
		if (l->ramdisk)
			OPT("--initrd", l->ramdisk);
		if (l->cmdline)
			OPT("--cmdline", l->cmdline);
	}
	/* The path goes last: it may hold commas, the fields before it cannot. */
	for (unsigned i = 0; i < l->ndisks; i++) {
		const struct dom_disk *d = &l->disks[i];
		if (l->fv)
			OPT("--ide", fmt(st, "%u,%s,%s,%s", d->index, d->cdrom ? "cdrom" : "disk",
					 d->readonly ? "ro" : "rw", d->path));
		else
			OPT("--disk", fmt(st, "%s,%s,%s", d->vdev, d->readonly ? "ro" : "rw",
					  d->path));
	}
	/* Bridge and TAP names come from vif specs, which cannot hold commas either. */
	for (unsigned i = 0; i < l->nnics; i++) {
		const struct dom_nic *c = &l->nics[i];
		OPT("--net", fmt(st, "%02x:%02x:%02x:%02x:%02x:%02x,%s,%s", c->mac[0], c->mac[1],
				 c->mac[2], c->mac[3], c->mac[4], c->mac[5],
				 c->bridge ? c->bridge : "", c->tap ? c->tap : ""));
	}
#undef OPT
	*n = k;
	return bad ? -ENOMEM : 0;
}

void launch_args_free(struct launch_args *st)
{
	for (unsigned i = 0; i < st->n; i++)
		free(st->s[i]);
	st->n = 0;
}
