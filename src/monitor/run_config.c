/* `domus run` options → xl.cfg overrides → struct domain_config; see run_config.h. */
#include "monitor/run_config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config/xlcfg.h"
#include "lib/args.h"
#include "lib/exit_codes.h"
#include "lib/log.h"

#define MAX_OVERRIDES 64

void run_usage(FILE *f)
{
	fprintf(f,
		"usage: domus run [FILE.cfg [KEY=VALUE...]] [OPTIONS]\n"
		"Runs one domain in the foreground; its serial console is this terminal.\n"
		"Options write config keys (README.md) on top of FILE.cfg, or of an empty config:\n\n"
		"  --kernel FILE      kernel=: bzImage or PVH ELF kernel\n"
		"  --initrd FILE      ramdisk=: initial ramdisk\n"
		"  --cmdline TEXT     cmdline=: kernel command line\n"
		"  --memory MIB       memory=: guest RAM in MiB (default 128)\n"
		"  --vcpus N          vcpus=: virtual CPUs (default 1)\n"
		"  --triple-fault-reset  triple_fault_reset=1: a triple fault resets the guest\n"
		"                     (default: crash)\n"
		"  --pvm-aware        pvm_aware=1: the kernel is PVM-aware: add no PVM-host flags\n"
		"  --disk PATH[,ro][,name=NAME]  disk=: a virtio-blk disk (xvda, xvdb, ...) on a raw\n"
		"                     image or block device; NAME is what the guest reads as its\n"
		"                     serial (default: the vdev)\n"
		"  --net bridge=BR[,mac=MAC][,tap=NAME]  vif=: a virtio-net NIC on a TAP in bridge BR\n"
		"  --name NAME        name=: domain name (NIC MACs are derived from it; default\n"
		"                     \"domus\")\n"
		"  --hvc OUT[,in=IN]  hvc_output=, hvc_input=: a virtio console (hvc0) writing to\n"
		"                     file OUT, reading IN\n"
		"  --rng              rng=1: a virtio-rng entropy device (host getrandom)\n"
		"FV guests (no kernel: SeaBIOS boots from IDE drives; --disk images become hda, hdb,\n"
		"hdd):\n"
		"  --cdrom FILE       disk=: an ISO image or host CD-ROM device as IDE CD-ROM (hdc)\n"
		"  --boot ORDER       boot=: order over c (disk), d (CD-ROM), n (network); default cd\n"
		"  --firmware FILE    bios_path_override=: BIOS image (default " FIRMWARE_DEFAULT ")\n"
		"  --fv-devices       fv_devices=1: with a kernel, boot it directly on the FV PC (PCI\n"
		"                     chipset, IDE drives from --cdrom/--disk, VGA), for device tests\n"
		"Options of this process only:\n"
		"  --no-reboot        exit with status %d when the guest reboots\n"
		"  --control SOCKET   serve the monitor's control socket there (status, pause,\n"
		"                     unpause, power-button, reset, destroy, net-link NIC [up|down],\n"
		"                     vcpu-list, vcpu-pin VCPU|all CPUS; `domus net-link`,\n"
		"                     `domus vcpu-list` and `domus vcpu-pin` take --control SOCKET)\n"
		"  --screenshot FILE  when the domain stops, write its VGA text screen to FILE (PNG)\n"
		"                     and FILE.txt\n"
		"  --power-button-after SECONDS  press the ACPI power button once, after SECONDS\n"
		"  --debug            debug messages (also DOMUS_DEBUG=1)\n\n"
		"On a terminal, Ctrl-A x quits and Ctrl-A h helps.\n"
		"Exit status: 0 powered off, 1 error, 2 usage, 3 reboot (--no-reboot), 4 crash,\n"
		"5 unemulatable instruction, 6 KVM failure, 128+N signal N.\n",
		DOMUS_EXIT_REBOOT);
}

/* The options as given, before they become keys. */
struct run_args {
	const char *kernel, *initrd, *cmdline, *name, *hvc, *cdrom, *boot, *firmware;
	unsigned long long memory, vcpus;
	bool have_memory, have_vcpus, rng, triple_fault_reset, pvm_aware, fv_devices;
	const char *disks[DOMUS_MAX_DISKS];
	unsigned ndisks;
	const char *nets[DOMUS_MAX_NICS];
	unsigned nnets;
	const char *file;
	const char *file_overrides[MAX_OVERRIDES];
	unsigned nfile_overrides;
};

/* A growing string, for one override such as "disk += ['...', '...']". */
struct text {
	char *s;
	size_t len;
	bool oom;
};

static void __attribute__((format(printf, 2, 3))) put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	char *add = NULL;
	va_start(ap, fmt);
	int n = vasprintf(&add, fmt, ap);
	va_end(ap);
	char *s = n < 0 ? NULL : realloc(t->s, t->len + (size_t)n + 1);
	if (!s) {
		t->oom = true;
		free(add);
		return;
	}
	memcpy(s + t->len, add, (size_t)n + 1);
	t->s = s;
	t->len += (size_t)n;
	free(add);
}

/* An xl.cfg string literal holding s exactly. */
static void put_quoted(struct text *t, const char *s)
{
	put(t, "'");
	for (; *s; s++) {
		if (*s == '\'' || *s == '\\')
			put(t, "\\%c", *s);
		else if ((unsigned char)*s < ' ')
			put(t, "\\x%02x", (unsigned char)*s);
		else
			put(t, "%c", *s);
	}
	put(t, "'");
}

/* Apply one override: 0, or -1 after logging. */
static int apply(struct xlcfg *cfg, struct text *t)
{
	char err[512];
	int r = t->oom ? -ENOMEM : xlcfg_parse_override(cfg, t->s, err, sizeof(err));
	if (r == -ENOMEM)
		log_err("run: out of memory");
	else if (r < 0)
		log_err("%s", err);
	free(t->s);
	*t = (struct text){ 0 };
	return r < 0 ? -1 : 0;
}

static int set_str(struct xlcfg *cfg, const char *key, const char *v)
{
	struct text t = { 0 };
	if (!v)
		return 0;
	put(&t, "%s = ", key);
	put_quoted(&t, v);
	return apply(cfg, &t);
}

static int set_num(struct xlcfg *cfg, const char *key, unsigned long long v)
{
	struct text t = { 0 };
	put(&t, "%s = %llu", key, v);
	return apply(cfg, &t);
}

/* IDE slots the config file's disks take (hda=0 .. hdd=3), and virtio vdevs (xvdX). */
static void used_vdevs(const struct xlcfg *cfg, bool ide[DOMUS_IDE_DRIVES], bool xvd[26])
{
	const struct xlval *list = xlcfg_get(cfg, "disk");
	for (size_t i = 0; list && list->type == XLVAL_LIST && i < list->nitems; i++) {
		struct domcfg_disk d;
		char err[200];
		if (list->items[i]->type != XLVAL_STRING ||
		    domcfg_parse_disk(list->items[i]->str, &d, err, sizeof(err)) < 0)
			continue; /* domcfg_build reports it */
		if (d.bus == DOMCFG_BUS_HD && d.index < DOMUS_IDE_DRIVES)
			ide[d.index] = true;
		if (d.bus == DOMCFG_BUS_XVD && d.index < 26)
			xvd[d.index] = true;
		domcfg_disk_free(&d);
	}
}

/* Add spec, quoted, to the list key "KEY += [..." being written in t; spec is consumed. */
static int append_spec(struct text *t, const char *key, struct text *spec)
{
	if (t->s)
		put(t, ", ");
	else
		put(t, "%s += [", key);
	put_quoted(t, spec->s ? spec->s : "");
	t->oom |= spec->oom;
	free(spec->s);
	return 0;
}

/* --disk PATH[,ro|rw][,name=NAME] → a disk spec on the next free vdev: hda, hdb, hdd (hdc is
 * the CD-ROM's) on the FV PC, xvda, xvdb, ... otherwise. */
static int disk_spec(struct text *t, const char *arg, bool ide, bool used_ide[], bool used_xvd[])
{
	static const unsigned order[] = { 0, 1, 3, 2 };
	const char *comma = strchr(arg, ',');
	size_t plen = comma ? (size_t)(comma - arg) : strlen(arg);
	bool ro = false;
	char name[16] = "";
	if (!plen) {
		log_err("--disk %s: no image path", arg);
		return -1;
	}
	for (const char *o = comma; o && *o;) {
		const char *end = strchr(o + 1, ',');
		size_t n = end ? (size_t)(end - o - 1) : strlen(o + 1);
		if (n == 2 && !strncmp(o + 1, "ro", 2)) {
			ro = true;
		} else if (n == 2 && !strncmp(o + 1, "rw", 2)) {
			ro = false;
		} else if (n > 5 && n - 5 < sizeof(name) && !strncmp(o + 1, "name=", 5)) {
			snprintf(name, sizeof(name), "%.*s", (int)(n - 5), o + 6);
		} else {
			log_err("--disk %s: unknown option '%.*s' (ro, rw, name=NAME)", arg, (int)n,
				o + 1);
			return -1;
		}
		o = end;
	}
	char vdev[8] = "";
	for (unsigned i = 0; ide && !vdev[0] && i < DOMUS_IDE_DRIVES; i++)
		if (!used_ide[order[i]]) {
			used_ide[order[i]] = true;
			snprintf(vdev, sizeof(vdev), "hd%c", 'a' + order[i]);
		}
	for (unsigned i = 0; !ide && !vdev[0] && i < 26; i++)
		if (!used_xvd[i]) {
			used_xvd[i] = true;
			snprintf(vdev, sizeof(vdev), "xvd%c", 'a' + i);
		}
	if (!vdev[0]) {
		log_err("--disk %s: %s", arg, ide ? "IDE has four drives, hda to hdd; all are taken"
						  : "no free vdev");
		return -1;
	}
	if (ide && name[0]) {
		log_err("--disk %s: name= is for virtio-blk disks; an IDE drive has none", arg);
		return -1;
	}
	struct text spec = { 0 };
	put(&spec, "format=raw, vdev=%s, access=%s, ", vdev, ro ? "ro" : "rw");
	if (name[0])
		put(&spec, "serial=%s, ", name);
	put(&spec, "target=%.*s", (int)plen, arg); /* last: the path may hold commas */
	return append_spec(t, "disk", &spec);
}

/* --net bridge=BR[,mac=MAC][,tap=NAME] → a vif spec (tap is xl's vifname). */
static int vif_spec(struct text *t, const char *arg)
{
	struct text spec = { 0 };
	for (const char *o = arg; o;) {
		const char *end = strchr(o, ',');
		int n = end ? (int)(end - o) : (int)strlen(o);
		uint8_t mac[6];
		char macs[18];
		snprintf(macs, sizeof(macs), "%.*s", n > 4 ? n - 4 : 0, o + 4);
		if (n > 7 && !strncmp(o, "bridge=", 7)) {
			put(&spec, "%sbridge=%.*s", spec.s ? "," : "", n - 7, o + 7);
		} else if (n > 4 && n < 20 && !strncmp(o, "tap=", 4)) {
			put(&spec, "%svifname=%.*s", spec.s ? "," : "", n - 4, o + 4);
		} else if (n > 4 && !strncmp(o, "mac=", 4) && domcfg_parse_mac(macs, mac) == 0) {
			put(&spec, "%smac=%s", spec.s ? "," : "", macs);
		} else {
			log_err("--net %s: bad option '%.*s' (bridge=BR, mac=xx:xx:xx:xx:xx:xx, "
				"tap=NAME)", arg, n, o);
			free(spec.s);
			return -1;
		}
		o = end ? end + 1 : NULL;
	}
	return append_spec(t, "vif", &spec);
}

/* --hvc OUT[,in=IN] */
static int hvc_keys(struct xlcfg *cfg, const char *spec)
{
	const char *comma = strchr(spec, ',');
	size_t n = comma ? (size_t)(comma - spec) : strlen(spec);
	if (n == 0 || (comma && (strncmp(comma, ",in=", 4) || !comma[4]))) {
		log_err("--hvc %s: expected OUT[,in=IN]", spec);
		return -1;
	}
	char *out = strndup(spec, n);
	int r = out ? set_str(cfg, "hvc_output", out) : -1;
	free(out);
	return r < 0 ? -1 : comma ? set_str(cfg, "hvc_input", comma + 4) : 0;
}

/* Devices: --disk, --cdrom, --net, appended to the file's lists. */
static int device_keys(struct xlcfg *cfg, const struct run_args *a, bool ide)
{
	bool used_ide[DOMUS_IDE_DRIVES] = { false }, used_xvd[26] = { false };
	struct text t = { 0 };
	used_vdevs(cfg, used_ide, used_xvd);
	if (a->cdrom) {
		if (used_ide[2]) {
			log_err("%s: IDE has four drives, hda to hdd; that one is taken", a->cdrom);
			return -1;
		}
		used_ide[2] = true;
		struct text spec = { 0 };
		put(&spec, "format=raw, vdev=hdc, devtype=cdrom, access=ro, target=%s", a->cdrom);
		put(&t, "disk += [");
		put_quoted(&t, spec.s ? spec.s : "");
		t.oom |= spec.oom;
		free(spec.s);
	}
	for (unsigned i = 0; i < a->ndisks; i++)
		if (disk_spec(&t, a->disks[i], ide, used_ide, used_xvd) < 0) {
			free(t.s);
			return -1;
		}
	if (t.s) {
		put(&t, "]");
		if (apply(cfg, &t) < 0)
			return -1;
	}
	for (unsigned i = 0; i < a->nnets; i++)
		if (vif_spec(&t, a->nets[i]) < 0) {
			free(t.s);
			return -1;
		}
	if (t.s) {
		put(&t, "]");
		return apply(cfg, &t);
	}
	return 0;
}

/* Every option that is a domain setting, as keys on top of cfg. DOMUS_EXIT_* or 0. */
static int option_keys(struct xlcfg *cfg, const struct run_args *a)
{
	bool has_kernel = a->kernel || xlcfg_get(cfg, "kernel");
	bool fv_opts = a->cdrom || a->boot || a->firmware;
	if (has_kernel && fv_opts && (a->firmware || a->boot || !a->fv_devices)) {
		log_err("run: --kernel boots a kernel directly; --firmware and --boot are for FV "
			"guests, which boot from their disks; IDE drives with a kernel need "
			"--fv-devices");
		return DOMUS_EXIT_USAGE;
	}
	if (!has_kernel && !fv_opts && !a->file) {
		log_err("run: no kernel: give --kernel FILE or a config file with kernel=, or "
			"--cdrom/--disk for an FV guest");
		return DOMUS_EXIT_USAGE;
	}
	if (!a->name && !xlcfg_get(cfg, "name") && set_str(cfg, "name", "domus") < 0)
		return DOMUS_EXIT_ERROR;
	if (set_str(cfg, "name", a->name) < 0 || set_str(cfg, "kernel", a->kernel) < 0 ||
	    set_str(cfg, "ramdisk", a->initrd) < 0 || set_str(cfg, "cmdline", a->cmdline) < 0 ||
	    set_str(cfg, "boot", a->boot) < 0 ||
	    set_str(cfg, "bios_path_override", a->firmware) < 0 ||
	    (a->have_memory && set_num(cfg, "memory", a->memory) < 0) ||
	    (a->have_vcpus && set_num(cfg, "vcpus", a->vcpus) < 0) ||
	    (a->rng && set_num(cfg, "rng", 1) < 0) ||
	    (a->fv_devices && set_num(cfg, "fv_devices", 1) < 0) ||
	    (a->triple_fault_reset && set_num(cfg, "triple_fault_reset", 1) < 0) ||
	    (a->pvm_aware && set_num(cfg, "pvm_aware", 1) < 0) ||
	    (a->hvc && hvc_keys(cfg, a->hvc) < 0))
		return DOMUS_EXIT_ERROR;
	/* The file's memory= may set maxmem too: --memory wins over both, as it always did. */
	if (a->have_memory && xlcfg_get(cfg, "maxmem") && set_num(cfg, "maxmem", a->memory) < 0)
		return DOMUS_EXIT_ERROR;
	if (device_keys(cfg, a, a->fv_devices || !has_kernel) < 0)
		return DOMUS_EXIT_USAGE;
	return 0;
}

/* getopt over argv into a; 0, RUN_CONFIG_HELP or an exit status. */
static int parse_args(int argc, char **argv, struct run_args *a, struct run_process *p)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "vcpus", required_argument, NULL, 'n' },
		{ "no-reboot", no_argument, NULL, 'R' },
		{ "triple-fault-reset", no_argument, NULL, 'T' },
		{ "pvm-aware", no_argument, NULL, 'P' },
		{ "debug", no_argument, NULL, 'd' },
		{ "disk", required_argument, NULL, 'D' },
		{ "hvc", required_argument, NULL, 'H' },
		{ "net", required_argument, NULL, 'N' },
		{ "name", required_argument, NULL, 'A' },
		{ "rng", no_argument, NULL, 'G' },
		{ "control", required_argument, NULL, 'O' },
		{ "cdrom", required_argument, NULL, 'C' },
		{ "boot", required_argument, NULL, 'B' },
		{ "firmware", required_argument, NULL, 'F' },
		{ "screenshot", required_argument, NULL, 'S' },
		{ "fv-devices", no_argument, NULL, 'V' },
		{ "power-button-after", required_argument, NULL, 'W' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': a->kernel = optarg; break;
		case 'i': a->initrd = optarg; break;
		case 'c': a->cmdline = optarg; break;
		case 'A': a->name = optarg; break;
		case 'H': a->hvc = optarg; break;
		case 'B': a->boot = optarg; break;
		case 'F': a->firmware = optarg; break;
		case 'R': p->no_reboot = 1; break;
		case 'T': a->triple_fault_reset = true; break;
		case 'P': a->pvm_aware = true; break;
		case 'G': a->rng = true; break;
		case 'V': a->fv_devices = true; break;
		case 'O': p->control = optarg; break;
		case 'S': p->screenshot = optarg; break;
		case 'd': log_set_debug(true); break;
		case 'm':
			if (arg_parse_uint("memory", optarg, DOMUS_MAX_MEMORY_MIB, &a->memory) < 0)
				return DOMUS_EXIT_USAGE;
			a->have_memory = true;
			break;
		case 'n':
			if (arg_parse_uint("vcpus", optarg, 1024, &a->vcpus) < 0)
				return DOMUS_EXIT_USAGE;
			a->have_vcpus = true;
			break;
		case 'D':
			if (a->ndisks == DOMUS_MAX_DISKS) {
				log_err("--disk %s: at most %d disks", optarg, DOMUS_MAX_DISKS);
				return DOMUS_EXIT_USAGE;
			}
			a->disks[a->ndisks++] = optarg;
			break;
		case 'N':
			if (a->nnets == DOMUS_MAX_NICS) {
				log_err("--net %s: at most %d NICs", optarg, DOMUS_MAX_NICS);
				return DOMUS_EXIT_USAGE;
			}
			a->nets[a->nnets++] = optarg;
			break;
		case 'C':
			if (a->cdrom) {
				log_err("%s: IDE has four drives, hda to hdd; that one is taken",
					optarg);
				return DOMUS_EXIT_USAGE;
			}
			a->cdrom = optarg;
			break;
		case 'W': {
			unsigned long long secs;
			if (arg_parse_uint("power-button-after", optarg, 86400, &secs) < 0)
				return DOMUS_EXIT_USAGE;
			p->power_button_ms = (long long)secs * 1000;
			break;
		}
		case 'h':
			run_usage(stdout);
			return RUN_CONFIG_HELP;
		default:
			log_err("run: unknown or incomplete option '%s'", argv[optind - 1]);
			run_usage(stderr);
			return DOMUS_EXIT_USAGE;
		}
	}
	if (optind < argc)
		a->file = argv[optind++];
	for (; optind < argc; optind++) {
		if (!strchr(argv[optind], '=') || a->nfile_overrides == MAX_OVERRIDES) {
			log_err("run: unexpected argument '%s' (options go before the config file; "
				"after it only KEY=VALUE)", argv[optind]);
			return DOMUS_EXIT_USAGE;
		}
		a->file_overrides[a->nfile_overrides++] = argv[optind];
	}
	/* Kept from before options became keys: these words are what users and tests know. */
	if (a->have_memory && a->memory == 0) {
		log_err("memory 0: a guest needs at least 16 MiB");
		return DOMUS_EXIT_ERROR;
	}
	if (a->have_vcpus && a->vcpus == 0) {
		log_err("vcpus 0: a guest needs at least one vCPU");
		return DOMUS_EXIT_ERROR;
	}
	return 0;
}

int run_config(int argc, char **argv, struct domain_config *dc, struct run_process *p)
{
	struct run_args a;
	char err[1024];
	memset(&a, 0, sizeof(a));
	memset(dc, 0, sizeof(*dc));
	*p = (struct run_process){ .power_button_ms = -1 };
	int r = parse_args(argc, argv, &a, p);
	if (r)
		return r;
	struct xlcfg *cfg = xlcfg_new();
	if (!cfg) {
		log_err("run: out of memory");
		return DOMUS_EXIT_ERROR;
	}
	r = DOMUS_EXIT_ERROR;
	if (a.file && xlcfg_parse_file(cfg, a.file, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out;
	}
	for (unsigned i = 0; i < a.nfile_overrides; i++)
		if (xlcfg_parse_override(cfg, a.file_overrides[i], err, sizeof(err)) < 0) {
			log_err("%s", err);
			goto out;
		}
	if ((r = option_keys(cfg, &a)) != 0)
		goto out;
	r = DOMUS_EXIT_ERROR;
	if (domcfg_build(cfg, dc, err, sizeof(err)) < 0) {
		log_err("%s", err);
		goto out;
	}
	if (domcfg_check_support(dc, xlcfg_source(cfg), err, sizeof(err)) < 0) {
		log_err("%s", err);
		domcfg_free(dc);
		goto out;
	}
	r = 0;
out:
	xlcfg_free(cfg);
	return r;
}
