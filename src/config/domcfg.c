/* Typed domain configuration from an xl.cfg value tree.
 *
 * Every key Domus understands is in `keys` below; a key xl knows but Domus
 * does not implement is refused with its own message, so that a config
 * written for Xen fails loudly instead of booting a different machine.
 */
#include "config/domcfg.h"

#include "config/cpuset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct build {
	const struct xlcfg *cfg;
	struct domain_config *dc;
	char *err;
	size_t errlen;
};

static const char *const keys[] = {
	"name", "type", "builder", "memory", "maxmem", "vcpus", "cpus",
	"kernel", "ramdisk", "cmdline", "extra", "root", "disk", "vif", "boot",
	"firmware", "bios", "bios_path_override", "serial", "vnc", "acpi",
	"on_poweroff", "on_reboot", "on_crash",
	/* Domus keys, for what xl.cfg has no words (README.md) */
	"rng", "hvc_output", "hvc_input", "fv_devices", "triple_fault_reset",
	"pvm_aware",
};

/* Keys from xl.cfg(5) that Domus does not implement (yet). */
static const char *const xl_only_keys[] = {
	"acpi_s3", "acpi_s4", "altp2m", "apic", "bootloader",
	"bootloader_args", "cap", "channel", "claim_mode", "cpu_weight",
	"cpuid", "cpus_soft", "device_model_args", "device_model_override",
	"device_model_version", "device_tree", "driver_domain", "dtdev",
	"e820_host", "event_channels", "gfx_passthru", "hap", "hdtype", "hpet",
	"iomem", "ioports", "irqs", "keymap", "localtime", "max_grant_frames",
	"max_maptrack_frames", "maxvcpus", "nestedhvm", "nographic",
	"nomigrate", "on_soft_reset", "on_watchdog", "opengl", "p9", "pae",
	"pci", "pool", "rdm", "rtc_timeoffset", "sdl", "seclabel",
	"shadow_memory", "soundhw", "spice", "stdvga", "timer_mode",
	"tsc_mode", "usb", "usbctrl", "usbdev", "usbdevice", "uuid",
	"vcpu_hard_affinity", "vcpu_soft_affinity", "vdispl", "vfb", "vga",
	"videoram", "viridian", "vkb", "vnclisten", "vncdisplay", "vncpasswd",
	"vncunused", "vpt_align", "vsnd", "vtpm", "vuart", "xen_platform_pci",
};

static const char *const type_names[] = {
	[DOMCFG_TYPE_PV] = "pv",
	[DOMCFG_TYPE_PVH] = "pvh",
	[DOMCFG_TYPE_HVM] = "hvm",
};

static const char *const action_names[] = {
	[DOMCFG_ACTION_DESTROY] = "destroy",
	[DOMCFG_ACTION_RESTART] = "restart",
	[DOMCFG_ACTION_RENAME_RESTART] = "rename-restart",
	[DOMCFG_ACTION_PRESERVE] = "preserve",
	[DOMCFG_ACTION_COREDUMP_DESTROY] = "coredump-destroy",
	[DOMCFG_ACTION_COREDUMP_RESTART] = "coredump-restart",
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

const char *domcfg_type_name(enum domcfg_type t)
{
	return (unsigned)t < N(type_names) ? type_names[t] : "?";
}

const char *domcfg_action_name(enum domcfg_action a)
{
	return (unsigned)a < N(action_names) ? action_names[a] : "?";
}

static bool in(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], s))
			return true;
	return false;
}

/* "SOURCE:LINE: msg", or "SOURCE: msg" when line is 0. */
static int __attribute__((format(printf, 4, 5)))
berr(struct build *b, const char *source, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!b->err || !b->errlen)
		return -EINVAL;
	if (!source)
		source = xlcfg_source(b->cfg);
	if (line > 0)
		n = snprintf(b->err, b->errlen, "%s:%d: ", source, line);
	else
		n = snprintf(b->err, b->errlen, "%s: ", source);
	if (n >= 0 && (size_t)n < b->errlen) {
		va_start(ap, fmt);
		vsnprintf(b->err + n, b->errlen - n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int serr(struct build *b, const struct xlcfg_setting *s,
		const char *what)
{
	return berr(b, s->source, s->line, "'%s' %s", s->key, what);
}

static int wrong_type(struct build *b, const struct xlcfg_setting *s,
		      const char *want)
{
	return berr(b, s->source, s->line, "'%s' must be %s, not a %s", s->key,
		    want, xlval_type_name(s->val->type));
}

/* A string (or number written bare, as xl allows): NULL if absent. */
static int get_str(struct build *b, const char *key, char **out)
{
	const struct xlcfg_setting *s = xlcfg_find(b->cfg, key);
	const char *v;

	*out = NULL;
	if (!s)
		return 0;
	if (xlval_as_string(s->val, &v) < 0)
		return wrong_type(b, s, "a string");
	if (!*v)
		return serr(b, s, "is empty");
	*out = strdup(v);
	return *out ? 0 : -ENOMEM;
}

/* cpus: one CPULIST ("0-3,^1") for every vCPU, or a list of them, one per vCPU (xl.cfg(5)),
 * kept in cpuset.h's per-vCPU encoding ("2;3-5;"). Only the syntax is checked here: the host's
 * CPUs are checked when the machine is created. Needs dc->vcpus. */
static int build_cpus(struct build *b)
{
	const struct xlcfg_setting *s = xlcfg_find(b->cfg, "cpus");
	char e[256], buf[64];
	const char *v;
	cpu_set_t set;

	if (!s)
		return 0;
	if (s->val->type != XLVAL_LIST) {
		if (xlval_as_string(s->val, &v) < 0)
			return wrong_type(b, s, "a string or a list of strings");
		if (cpuset_parse(v, NULL, &set, e, sizeof(e)) < 0)
			return berr(b, s->source, s->line, "'cpus' \"%s\": %s",
				    xlcfg_printable(buf, sizeof(buf), v), e);
		b->dc->cpus = strdup(v);
		return b->dc->cpus ? 0 : -ENOMEM;
	}
	if (s->val->nitems == 0)
		return serr(b, s, "is an empty list (leave it out for no pinning)");
	if (s->val->nitems > b->dc->vcpus)
		return berr(b, s->source, s->line, "'cpus' lists %zu vCPUs' CPUs, but the domain "
			    "has %u vCPU%s", s->val->nitems, b->dc->vcpus,
			    b->dc->vcpus == 1 ? "" : "s");
	size_t len = 1;
	for (size_t i = 0; i < s->val->nitems; i++) {
		const struct xlval *it = s->val->items[i];
		if (it->type == XLVAL_LIST || xlval_as_string(it, &v) < 0)
			return berr(b, it->source, it->line, "'cpus' entry %zu (vCPU %zu) must be a "
				    "string or a number, not a list", i, i);
		if (cpuset_parse(v, NULL, &set, e, sizeof(e)) < 0)
			return berr(b, it->source, it->line, "'cpus' entry %zu (vCPU %zu) \"%s\": "
				    "%s", i, i, xlcfg_printable(buf, sizeof(buf), v), e);
		len += strlen(v) + 1;
	}
	char *out = malloc(len);
	if (!out)
		return -ENOMEM;
	out[0] = 0;
	for (size_t i = 0; i < s->val->nitems; i++) {
		xlval_as_string(s->val->items[i], &v);
		strcat(out, v);
		strcat(out, ";");
	}
	b->dc->cpus = out;
	return 0;
}

static int get_u64(struct build *b, const char *key, uint64_t min,
		   uint64_t max, uint64_t *out)
{
	const struct xlcfg_setting *s = xlcfg_find(b->cfg, key);
	char buf[40];
	uint64_t v;

	if (!s)
		return 0;
	if (s->val->type == XLVAL_LIST)
		return wrong_type(b, s, "a number");
	if (xlval_as_u64(s->val, &v) < 0)
		return berr(b, s->source, s->line, "'%s' must be a number, "
			    "not '%s'", key,
			    xlcfg_printable(buf, sizeof(buf), s->val->str));
	if (v < min || v > max)
		return berr(b, s->source, s->line, "'%s' must be between %llu "
			    "and %llu, not %llu", key, (unsigned long long)min,
			    (unsigned long long)max, (unsigned long long)v);
	*out = v;
	return 0;
}

static int get_bool(struct build *b, const char *key, bool *out)
{
	const struct xlcfg_setting *s = xlcfg_find(b->cfg, key);
	uint64_t v;

	if (!s)
		return 0;
	if (xlval_as_u64(s->val, &v) < 0 || v > 1)
		return serr(b, s, "must be 0 or 1");
	*out = v;
	return 0;
}

/* A string that must be one of names[]; *out untouched if absent. */
static int get_enum(struct build *b, const char *key,
		    const char *const *names, size_t n, int *out)
{
	const struct xlcfg_setting *s = xlcfg_find(b->cfg, key);
	char buf[40], list[160] = "";
	const char *v;

	if (!s)
		return 0;
	if (xlval_as_string(s->val, &v) < 0)
		return wrong_type(b, s, "a string");
	for (size_t i = 0; i < n; i++) {
		if (names[i] && !strcmp(v, names[i])) {
			*out = (int)i;
			return 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (names[i])
			snprintf(list + strlen(list), sizeof(list) - strlen(list),
				 "%s%s", *list ? ", " : "", names[i]);
	return berr(b, s->source, s->line, "bad %s '%s' (use %s)", key,
		    xlcfg_printable(buf, sizeof(buf), v), list);
}

static int check_keys(struct build *b)
{
	for (size_t i = 0; i < xlcfg_count(b->cfg); i++) {
		const struct xlcfg_setting *s = xlcfg_at(b->cfg, i);

		if (in(keys, N(keys), s->key))
			continue;
		if (in(xl_only_keys, N(xl_only_keys), s->key))
			return berr(b, s->source, s->line, "key '%s' is not "
				    "supported by Domus", s->key);
		return berr(b, s->source, s->line, "unknown key '%s'", s->key);
	}
	return 0;
}

bool domcfg_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > DOMUS_NAME_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.'))
			return false;
	return true;
}

static int build_type(struct build *b)
{
	struct domain_config *dc = b->dc;
	const struct xlcfg_setting *t = xlcfg_find(b->cfg, "type");
	const struct xlcfg_setting *bl = xlcfg_find(b->cfg, "builder");
	static const char *const builders[] = { "generic", "hvm" };
	int type = -1, builder = -1;

	if (get_enum(b, "type", type_names, N(type_names), &type) < 0 ||
	    get_enum(b, "builder", builders, N(builders), &builder) < 0)
		return -EINVAL;
	/* builder="hvm" is the old spelling of type="hvm"; "generic" is pv */
	if (builder >= 0) {
		int bt = builder ? DOMCFG_TYPE_HVM : DOMCFG_TYPE_PV;

		if (type >= 0 && type != bt)
			return berr(b, bl->source, bl->line, "'builder' "
				    "contradicts 'type'");
		type = bt;
		t = t ? t : bl;
	}
	if (type < 0)
		type = dc->kernel ? DOMCFG_TYPE_PV : DOMCFG_TYPE_HVM;
	dc->type = (enum domcfg_type)type;
	if (type != DOMCFG_TYPE_HVM && !dc->kernel)
		return berr(b, t ? t->source : NULL, t ? t->line : 0,
			    "a %s guest needs a 'kernel'", type_names[type]);
	return 0;
}

static int build_cmdline(struct build *b)
{
	struct domain_config *dc = b->dc;
	char *root = NULL, *extra = NULL;
	int r;

	if ((r = get_str(b, "cmdline", &dc->cmdline)) < 0)
		return r;
	if ((r = get_str(b, "root", &root)) < 0 ||
	    (r = get_str(b, "extra", &extra)) < 0)
		goto out;
	if (dc->cmdline)        /* xl ignores root= and extra= then */
		goto out;
	if (root && extra)
		r = asprintf(&dc->cmdline, "root=%s %s", root, extra) < 0 ?
		    -ENOMEM : 0;
	else if (root)
		r = asprintf(&dc->cmdline, "root=%s", root) < 0 ? -ENOMEM : 0;
	else if (extra) {
		dc->cmdline = extra;
		extra = NULL;
	}
	if (r < 0)
		dc->cmdline = NULL;
out:
	free(root);
	free(extra);
	return r;
}

static int build_boot(struct build *b)
{
	const struct xlcfg_setting *s = xlcfg_find(b->cfg, "boot");
	const char *v;
	char buf[40];

	strcpy(b->dc->boot, "cd");
	if (!s)
		return 0;
	if (xlval_as_string(s->val, &v) < 0)
		return wrong_type(b, s, "a string");
	if (!*v || strlen(v) > 3)
		return berr(b, s->source, s->line, "bad boot '%s' (up to three "
			    "of c, d, n)", xlcfg_printable(buf, sizeof(buf), v));
	for (const char *p = v; *p; p++) {
		if (!strchr("cdn", *p))
			return berr(b, s->source, s->line, "bad boot letter "
				    "'%c' (use c, d, n)",
				    *p > ' ' && *p < 0x7f ? *p : '?');
		if (strchr(p + 1, *p))
			return berr(b, s->source, s->line, "boot letter '%c' "
				    "given twice", *p);
	}
	strcpy(b->dc->boot, v);
	return 0;
}

static int build_firmware(struct build *b)
{
	static const char *const fw[] = {
		[DOMCFG_FW_DEFAULT] = NULL, [DOMCFG_FW_SEABIOS] = "seabios",
		[DOMCFG_FW_OVMF] = "ovmf",
	};
	static const char *const fw_alias[] = {
		[DOMCFG_FW_DEFAULT] = NULL, [DOMCFG_FW_SEABIOS] = "bios",
		[DOMCFG_FW_OVMF] = "uefi",
	};
	const struct xlcfg_setting *f = xlcfg_find(b->cfg, "firmware");
	const struct xlcfg_setting *bi = xlcfg_find(b->cfg, "bios");
	int a = -1, c = -1;
	const char *v;
	char buf[40];

	if (f && xlval_as_string(f->val, &v) == 0) {
		for (int i = 1; i < (int)N(fw); i++)
			if (!strcmp(v, fw[i]) || !strcmp(v, fw_alias[i]))
				a = i;
		if (a < 0)
			return berr(b, f->source, f->line, "bad firmware '%s' "
				    "(use bios, seabios, uefi or ovmf)",
				    xlcfg_printable(buf, sizeof(buf), v));
	} else if (f) {
		return wrong_type(b, f, "a string");
	}
	if (bi && bi->val->type != XLVAL_LIST &&
	    !strcmp(bi->val->str, "rombios"))
		return serr(b, bi, "rombios is not supported (use seabios)");
	if (get_enum(b, "bios", fw, N(fw), &c) < 0)
		return -EINVAL;
	if (a >= 0 && c >= 0 && a != c)
		return berr(b, bi->source, bi->line, "'bios' contradicts "
			    "'firmware'");
	b->dc->firmware = (enum domcfg_firmware)(a >= 0 ? a : c >= 0 ? c : 0);
	/* xl's way to name the BIOS image itself; it must match bios= */
	return get_str(b, "bios_path_override", &b->dc->bios_path);
}

/* xl's serial = "pty" is what Domus does anyway: COM1 is the domain's
 * console. Anything else (a file, a TCP port, none) would need another
 * back end, so it is refused rather than ignored. */
static int build_serial(struct build *b)
{
	const struct xlcfg_setting *s = xlcfg_find(b->cfg, "serial");
	const struct xlval *v;
	char buf[40];

	if (!s)
		return 0;
	v = s->val;
	/* xl takes a string or a list of them; Domus has one serial port */
	if (v->type == XLVAL_LIST) {
		if (v->nitems == 0)
			return 0;
		if (v->nitems > 1)
			return serr(b, s, "lists more than one port; Domus has "
				    "one serial port");
		v = v->items[0];
		if (v->type == XLVAL_LIST)
			return serr(b, s, "must be a string");
	}
	if (!strcmp(v->str, "pty"))
		return 0;
	return berr(b, s->source, s->line, "serial '%s': the serial port is "
		    "the domain's console; only \"pty\" is supported",
		    xlcfg_printable(buf, sizeof(buf), v->str));
}

/* The list of strings under key, or NULL; errors if not a list of them. */
static int get_spec_list(struct build *b, const char *key, size_t max,
			 const struct xlval **out)
{
	const struct xlcfg_setting *s = xlcfg_find(b->cfg, key);

	*out = NULL;
	if (!s)
		return 0;
	if (s->val->type != XLVAL_LIST)
		return wrong_type(b, s, "a list of strings");
	if (s->val->nitems > max)
		return berr(b, s->source, s->line, "more than %zu entries in "
			    "'%s'", max, key);
	for (size_t i = 0; i < s->val->nitems; i++) {
		const struct xlval *it = s->val->items[i];

		if (it->type != XLVAL_STRING)
			return berr(b, it->source, it->line, "'%s' entries "
				    "must be strings, not a %s", key,
				    xlval_type_name(it->type));
	}
	*out = s->val;
	return 0;
}

static int build_disks(struct build *b)
{
	struct domain_config *dc = b->dc;
	const struct xlval *list;
	char msg[200], buf[48];
	int r;

	if ((r = get_spec_list(b, "disk", DOMUS_MAX_DISKS, &list)) < 0 ||
	    !list || !list->nitems)
		return r;
	dc->disks = calloc(list->nitems, sizeof(*dc->disks));
	if (!dc->disks)
		return -ENOMEM;
	for (size_t i = 0; i < list->nitems; i++) {
		const struct xlval *it = list->items[i];
		struct domcfg_disk *d = &dc->disks[i];

		r = domcfg_parse_disk(it->str, d, msg, sizeof(msg));
		if (r < 0)
			return r == -ENOMEM ? r : berr(b, it->source, it->line,
				"disk '%s': %s",
				xlcfg_printable(buf, sizeof(buf), it->str), msg);
		d->line = it->line;
		dc->ndisks++;
		for (size_t j = 0; j < i; j++)
			if (dc->disks[j].bus == d->bus &&
			    dc->disks[j].index == d->index &&
			    dc->disks[j].partition == d->partition)
				return berr(b, it->source, it->line, "disk "
					    "'%s': vdev '%s' is used twice",
					    xlcfg_printable(buf, sizeof(buf),
							    it->str), d->vdev);
	}
	return 0;
}

static bool devid_taken(const struct domain_config *dc, int devid)
{
	for (size_t j = 0; j < dc->nnics; j++)
		if (dc->nics[j].devid == devid)
			return true;
	return false;
}

static int build_nics(struct build *b)
{
	struct domain_config *dc = b->dc;
	const struct xlval *list;
	char msg[200], buf[48];
	int r;

	if ((r = get_spec_list(b, "vif", DOMUS_MAX_NICS, &list)) < 0 ||
	    !list || !list->nitems)
		return r;
	dc->nics = calloc(list->nitems, sizeof(*dc->nics));
	if (!dc->nics)
		return -ENOMEM;
	for (size_t i = 0; i < list->nitems; i++) {
		const struct xlval *it = list->items[i];
		struct domcfg_nic *n = &dc->nics[i];

		r = domcfg_parse_nic(it->str, n, msg, sizeof(msg));
		if (r < 0)
			return r == -ENOMEM ? r : berr(b, it->source, it->line,
				"vif '%s': %s",
				xlcfg_printable(buf, sizeof(buf), it->str), msg);
		n->line = it->line;
		if (n->devid >= 0 && devid_taken(dc, n->devid))
			return berr(b, it->source, it->line, "vif '%s': devid "
				    "%d is used twice", xlcfg_printable(buf,
				    sizeof(buf), it->str), n->devid);
		dc->nnics++;
	}
	/* As xl: a NIC without devid= gets the lowest number not taken. */
	for (size_t i = 0; i < dc->nnics; i++) {
		struct domcfg_nic *n = &dc->nics[i];
		int id = 0;

		if (n->devid >= 0)
			continue;
		while (devid_taken(dc, id))
			id++;
		n->devid = id;
	}
	for (size_t i = 0; i < dc->nnics; i++) {
		struct domcfg_nic *n = &dc->nics[i];
		const struct xlval *it = list->items[i];

		if (n->mac_auto)
			domcfg_derive_mac(dc->name, (unsigned)n->devid, n->mac);
		for (size_t j = 0; j < i; j++)
			if (!memcmp(dc->nics[j].mac, n->mac, 6))
				return berr(b, it->source, it->line, "vif "
					    "'%s': MAC address is used twice%s",
					    xlcfg_printable(buf, sizeof(buf),
							    it->str),
					    n->mac_auto || dc->nics[j].mac_auto ?
					    " (set mac= by hand)" : "");
	}
	return 0;
}

/* acpi and vnc are accepted at the value Domus implements; boolean Domus
 * keys set their field. */
static int build_flags(struct build *b)
{
	const struct xlcfg_setting *s;
	bool acpi = true, vnc = false;
	int r;

	if ((r = get_bool(b, "acpi", &acpi)) < 0 ||
	    (r = get_bool(b, "vnc", &vnc)) < 0)
		return r;
	if (!acpi) {
		s = xlcfg_find(b->cfg, "acpi");
		return berr(b, s->source, s->line, "acpi = 0: Domus guests "
			    "always have ACPI (the power button and power-off "
			    "go through it)");
	}
	if (vnc) {
		s = xlcfg_find(b->cfg, "vnc");
		return berr(b, s->source, s->line, "vnc: no graphics console "
			    "yet (`domus screenshot` shows an FV guest's text "
			    "screen)");
	}
	if ((r = get_bool(b, "rng", &b->dc->rng)) < 0 ||
	    (r = get_bool(b, "fv_devices", &b->dc->fv_devices)) < 0 ||
	    (r = get_bool(b, "triple_fault_reset",
			  &b->dc->triple_fault_reset)) < 0 ||
	    (r = get_bool(b, "pvm_aware", &b->dc->pvm_aware)) < 0)
		return r;
	return 0;
}

static int build_hvc(struct build *b)
{
	const struct xlcfg_setting *s;
	int r;

	if ((r = get_str(b, "hvc_output", &b->dc->hvc_output)) < 0 ||
	    (r = get_str(b, "hvc_input", &b->dc->hvc_input)) < 0)
		return r;
	if (b->dc->hvc_input && !b->dc->hvc_output) {
		s = xlcfg_find(b->cfg, "hvc_input");
		return berr(b, s->source, s->line, "'hvc_input' needs "
			    "'hvc_output' (the console's output file)");
	}
	return 0;
}

static int build(struct build *b)
{
	struct domain_config *dc = b->dc;
	const struct xlcfg_setting *s;
	int r, v;
	uint64_t u;
	char buf[DOMUS_NAME_MAX + 8];

	if ((r = check_keys(b)) < 0)
		return r;
	if ((r = get_str(b, "name", &dc->name)) < 0)
		return r;
	if (!dc->name)
		return berr(b, NULL, 0, "missing 'name'");
	if (!domcfg_name_ok(dc->name)) {
		s = xlcfg_find(b->cfg, "name");
		return berr(b, s->source, s->line, "bad name '%s' (1-%d letters, "
			    "digits, '-', '_', '.'; not starting with '-' or "
			    "'.')", xlcfg_printable(buf, sizeof(buf), dc->name),
			    DOMUS_NAME_MAX);
	}
	if ((r = get_str(b, "kernel", &dc->kernel)) < 0 ||
	    (r = get_str(b, "ramdisk", &dc->ramdisk)) < 0 ||
	    (r = build_type(b)) < 0 || (r = build_cmdline(b)) < 0)
		return r;

	dc->memory_mib = 128;
	if ((r = get_u64(b, "memory", 1, DOMUS_MAX_MEMORY_MIB,
			 &dc->memory_mib)) < 0)
		return r;
	dc->maxmem_mib = dc->memory_mib;
	if ((r = get_u64(b, "maxmem", 1, DOMUS_MAX_MEMORY_MIB,
			 &dc->maxmem_mib)) < 0)
		return r;
	if (dc->maxmem_mib < dc->memory_mib) {
		s = xlcfg_find(b->cfg, "maxmem");
		return berr(b, s->source, s->line, "'maxmem' (%llu) is less "
			    "than 'memory' (%llu)",
			    (unsigned long long)dc->maxmem_mib,
			    (unsigned long long)dc->memory_mib);
	}
	/* Without a balloon driver a guest cannot grow past its memory. */
	if (dc->maxmem_mib != dc->memory_mib) {
		s = xlcfg_find(b->cfg, "maxmem");
		return berr(b, s->source, s->line, "'maxmem' (%llu) differs "
			    "from 'memory' (%llu): Domus has no memory balloon, "
			    "so a domain's memory is fixed",
			    (unsigned long long)dc->maxmem_mib,
			    (unsigned long long)dc->memory_mib);
	}
	u = 1;
	if ((r = get_u64(b, "vcpus", 1, DOMUS_MAX_VCPUS, &u)) < 0)
		return r;
	dc->vcpus = (unsigned)u;
	if ((r = build_cpus(b)) < 0)
		return r;

	if ((r = build_boot(b)) < 0 || (r = build_firmware(b)) < 0 ||
	    (r = build_serial(b)) < 0)
		return r;
	if ((r = build_flags(b)) < 0 || (r = build_hvc(b)) < 0)
		return r;

	v = DOMCFG_ACTION_DESTROY;
	if ((r = get_enum(b, "on_poweroff", action_names, N(action_names),
			  &v)) < 0)
		return r;
	dc->on_poweroff = (enum domcfg_action)v;
	v = DOMCFG_ACTION_RESTART;
	if ((r = get_enum(b, "on_reboot", action_names, N(action_names),
			  &v)) < 0)
		return r;
	dc->on_reboot = (enum domcfg_action)v;
	v = DOMCFG_ACTION_DESTROY;
	if ((r = get_enum(b, "on_crash", action_names, N(action_names),
			  &v)) < 0)
		return r;
	dc->on_crash = (enum domcfg_action)v;

	if ((r = build_disks(b)) < 0 || (r = build_nics(b)) < 0)
		return r;
	return 0;
}

int domcfg_build(const struct xlcfg *cfg, struct domain_config *dc,
		 char *err, size_t errlen)
{
	struct build b = { .cfg = cfg, .dc = dc, .err = err, .errlen = errlen };
	int r;

	memset(dc, 0, sizeof(*dc));
	if (err && errlen)
		err[0] = 0;
	r = build(&b);
	if (r < 0) {
		if (r == -ENOMEM && err && errlen)
			snprintf(err, errlen, "%s: out of memory",
				 xlcfg_source(cfg));
		domcfg_free(dc);
	}
	return r;
}

int domcfg_load(const char *path, const char *const *overrides,
		size_t noverrides, struct domain_config *dc, char *err,
		size_t errlen)
{
	struct xlcfg *cfg = xlcfg_new();
	int r;

	memset(dc, 0, sizeof(*dc));
	if (!cfg)
		return -ENOMEM;
	r = xlcfg_parse_file(cfg, path, err, errlen);
	for (size_t i = 0; r == 0 && i < noverrides; i++)
		r = xlcfg_parse_override(cfg, overrides[i], err, errlen);
	if (r == 0)
		r = domcfg_build(cfg, dc, err, errlen);
	xlcfg_free(cfg);
	return r;
}

void domcfg_free(struct domain_config *dc)
{
	for (size_t i = 0; i < dc->ndisks; i++)
		domcfg_disk_free(&dc->disks[i]);
	for (size_t i = 0; i < dc->nnics; i++)
		domcfg_nic_free(&dc->nics[i]);
	free(dc->disks);
	free(dc->nics);
	free(dc->name);
	free(dc->cpus);
	free(dc->kernel);
	free(dc->ramdisk);
	free(dc->cmdline);
	free(dc->hvc_output);
	free(dc->hvc_input);
	free(dc->bios_path);
	memset(dc, 0, sizeof(*dc));
}
