/* domus run: one domain in the foreground, its console on stdin/stdout. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "boot/boot.h"
#include "boot/cmdline.h"
#include "boot/firmware.h"
#include "monitor/monitor.h"
#include "monitor/monitor_ctl.h"
#include "config/domcfg.h"
#include "machine_fv.h"
#include "machine_pc.h"
#include "lib/control.h"
#include "lib/log.h"
#include "lib/signals.h"

#define MAX_KERNEL_BYTES (512ull << 20)
#define MAX_OVERRIDES 64

struct runner {
	pthread_mutex_t lock;
	struct machine *cur; /* written by the main thread only, under lock */
	int quit;
	const char *name;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: domus run [FILE.cfg [KEY=VALUE...]] [OPTIONS]\n"
		"Runs one domain in the foreground; its serial console is this terminal.\n\n"
		"  --kernel FILE      bzImage or PVH ELF kernel\n"
		"  --initrd FILE      initial ramdisk\n"
		"  --cmdline TEXT     kernel command line\n"
		"  --memory MIB       guest RAM in MiB (default 128)\n"
		"  --vcpus N          virtual CPUs (default 1)\n"
		"  --no-reboot        exit with status %d when the guest reboots\n"
		"  --triple-fault-reset  a triple fault resets the guest (default: crash)\n"
		"  --pvm-aware        the kernel is PVM-aware: add no PVM-host kernel flags\n"
		"  --disk PATH[,ro][,name=NAME]  a virtio-blk disk on a raw image or block device\n"
		"  --net bridge=BR[,mac=MAC][,tap=NAME]  a virtio-net NIC on a TAP in bridge BR\n"
		"  --name NAME        domain name (NIC MACs are derived from it; default \"domus\")\n"
		"  --hvc OUT[,in=IN]  a virtio console (hvc0) writing to file OUT, reading IN\n"
		"  --rng              a virtio-rng entropy device (host getrandom)\n"
		"  --control SOCKET   serve the monitor's control socket there (status, pause,\n"
		"                     unpause, power-button, reset, destroy, net-link NIC [up|down],\n"
		"                     vcpu-list, vcpu-pin VCPU|all CPUS; `domus net-link`,\n"
		"                     `domus vcpu-list` and `domus vcpu-pin` take --control SOCKET)\n"
		"FV guests (no --kernel: SeaBIOS boots from IDE drives; --disk images become hda, hdb, hdd):\n"
		"  --cdrom FILE       an ISO image or host CD-ROM device as IDE CD-ROM (hdc)\n"
		"  --boot ORDER       boot order over c (disk), d (CD-ROM), n (network); default cd\n"
		"  --firmware FILE    BIOS image (default " FIRMWARE_DEFAULT ")\n"
		"  --screenshot FILE  when the domain stops, write its VGA text screen to FILE (PNG)\n"
		"                     and FILE.txt\n"
		"  --fv-devices       with --kernel: boot it directly on the FV PC (PCI chipset, IDE\n"
		"                     drives from --cdrom/--disk, VGA), for device tests\n"
		"  --power-button-after SECONDS  press the ACPI power button once, after SECONDS\n"
		"  --debug            debug messages (also DOMUS_DEBUG=1)\n\n"
		"Options override the config file. On a terminal, Ctrl-A x quits and Ctrl-A h helps.\n"
		"Exit status: 0 powered off, 1 error, 2 usage, 3 reboot (--no-reboot), 4 crash,\n"
		"5 unemulatable instruction, 6 KVM failure, 128+N signal N.\n",
		DOMUS_EXIT_REBOOT);
}

/* Read a whole file; NULL with a message on failure. */
static uint8_t *read_file(const char *what, const char *path, uint64_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_err("%s %s: %s", what, path, strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_err("%s %s: not a regular file", what, path);
		close(fd);
		return NULL;
	}
	if ((uint64_t)st.st_size > max) {
		log_err("%s %s: too large (%lld bytes)", what, path, (long long)st.st_size);
		close(fd);
		return NULL;
	}
	uint8_t *buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	size_t got = 0;
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_err("%s %s: %s", what, path, n < 0 ? strerror(errno) : "file shrank");
			free(buf);
			buf = NULL;
		} else {
			got += (size_t)n;
		}
	}
	if (!buf && got == 0 && st.st_size)
		log_err("%s %s: out of memory", what, path);
	close(fd);
	*len = got;
	return buf;
}

static void on_quit(void *ctx)
{
	struct runner *r = ctx;
	pthread_mutex_lock(&r->lock);
	r->quit = 1;
	if (r->cur)
		vm_request_stop(&r->cur->vm, VM_STOP_QUIT, NULL);
	pthread_mutex_unlock(&r->lock);
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --control: the commands domus-vmm serves, on the domain running now. Main thread. */
static int run_control(void *ctx, const char *cmd, struct json_object *reply, char *err,
		       size_t errlen)
{
	struct runner *r = ctx;
	struct machine *m = r->cur;
	if (!m) {
		snprintf(err, errlen, "the domain is between two boots; try again");
		return -1;
	}
	if (strcmp(cmd, "status")) {
		int rc = monitor_command(m, cmd, reply, err, errlen);
		if (rc == 0 && !strcmp(cmd, "vcpu-list"))
			json_object_object_add(reply, "name", json_object_new_string(r->name));
		return rc;
	}
	json_object_object_add(reply, "name", json_object_new_string(r->name));
	json_object_object_add(reply, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(reply, "paused", json_object_new_boolean(atomic_load(&m->vm.paused)));
	json_object_object_add(reply, "memory_mib",
			       json_object_new_int64((int64_t)(m->vm.cfg.mem_bytes >> 20)));
	json_object_object_add(reply, "vcpus", json_object_new_int((int)m->vm.nr_vcpus));
	monitor_add_nics(m, reply);
	return 0;
}

static int exit_status(enum vm_stop why, int sig)
{
	switch (why) {
	case VM_STOP_POWEROFF:
		return DOMUS_EXIT_POWEROFF;
	case VM_STOP_RESET:
		return DOMUS_EXIT_REBOOT;
	case VM_STOP_TRIPLE_FAULT:
	case VM_STOP_PANIC:
		return DOMUS_EXIT_CRASH;
	case VM_STOP_EMULATION:
		return DOMUS_EXIT_EMULATION;
	case VM_STOP_SIGNAL:
		return DOMUS_EXIT_SIGNAL + sig;
	case VM_STOP_QUIT:
		return DOMUS_EXIT_SIGNAL + SIGINT;
	default:
		return DOMUS_EXIT_KVM;
	}
}

struct run_opts {
	const char *kernel, *initrd, *cmdline;
	unsigned long long memory_mib, vcpus;
	int no_reboot, triple_fault_reset, pvm_aware;
	struct machine_disk disks[DOMUS_MAX_DISKS];
	char disk_specs[DOMUS_MAX_DISKS][1024]; /* --disk arguments, split in place */
	char disk_names[DOMUS_MAX_DISKS][16];
	unsigned ndisks;
	const char *hvc;
	int rng;
	const char *name;
	const char *cpus; /* the config's cpus= (xl syntax, config/cpuset.h) */
	const char *control;
	struct machine_nic nics[DOMUS_MAX_NICS];
	char nic_specs[DOMUS_MAX_NICS][256];
	bool nic_mac_set[DOMUS_MAX_NICS];
	unsigned nnics;
	/* FV: firmware boot with IDE drives */
	int fv, fv_devices;
	const char *firmware, *boot, *screenshot;
	struct machine_ide ide[DOMUS_IDE_DRIVES];
	unsigned nide;
	long long power_button_ms; /* -1: never */
};

/* Place an IDE drive: at want (0-3) if free, else at the first free of hda, hdb, hdd, hdc. */
static int add_ide(struct run_opts *o, const char *path, int cdrom, int want, int readonly)
{
	static const unsigned order[] = { 0, 1, 3, 2 };
	int used[DOMUS_IDE_DRIVES] = { 0 };
	for (unsigned i = 0; i < o->nide; i++)
		used[o->ide[i].index] = 1;
	int at = want >= 0 && want < DOMUS_IDE_DRIVES && !used[want] ? want : -1;
	for (unsigned i = 0; at < 0 && i < DOMUS_IDE_DRIVES; i++)
		if (!used[order[i]])
			at = (int)order[i];
	if (at < 0 || (want >= 0 && at != want)) {
		log_err("%s: IDE has four drives, hda to hdd; %s", path,
			at < 0 ? "all are taken" : "that one is taken");
		return -1;
	}
	o->ide[o->nide++] = (struct machine_ide){ .path = path, .index = (unsigned)at,
						  .cdrom = cdrom, .readonly = readonly || cdrom };
	return 0;
}

/* --net bridge=BR[,mac=MAC][,tap=NAME], split in place. */
static int parse_net_opt(struct run_opts *o, const char *arg)
{
	unsigned i = o->nnics;
	if (i == DOMUS_MAX_NICS || strlen(arg) >= sizeof(o->nic_specs[0])) {
		log_err("--net %s: too many NICs or too long", arg);
		return -1;
	}
	char *s = o->nic_specs[i], *save = NULL;
	strcpy(s, arg);
	struct machine_nic *n = &o->nics[i];
	memset(n, 0, sizeof(*n));
	for (char *kv = strtok_r(s, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		if (!strncmp(kv, "bridge=", 7) && kv[7]) {
			n->bridge = kv + 7;
		} else if (!strncmp(kv, "tap=", 4) && kv[4] && strlen(kv + 4) < 16) {
			n->tap = kv + 4;
		} else if (!strncmp(kv, "mac=", 4) && domcfg_parse_mac(kv + 4, n->mac) == 0) {
			o->nic_mac_set[i] = true;
		} else {
			log_err("--net %s: bad option '%s' (bridge=BR, mac=xx:xx:xx:xx:xx:xx, "
				"tap=NAME)", arg, kv);
			return -1;
		}
	}
	o->nnics++;
	return 0;
}

/* --hvc OUT[,in=IN]: output appended to OUT, input read from IN (e.g. a FIFO). */
static int open_hvc(const char *spec, int *out, int *in)
{
	char path[1024];
	const char *comma = strchr(spec, ',');
	size_t n = comma ? (size_t)(comma - spec) : strlen(spec);
	if (n == 0 || n >= sizeof(path) || (comma && strncmp(comma, ",in=", 4))) {
		log_err("--hvc %s: expected OUT[,in=IN]", spec);
		return -1;
	}
	memcpy(path, spec, n);
	path[n] = 0;
	*out = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (*out < 0) {
		log_err("--hvc %s: %s", path, strerror(errno));
		return -1;
	}
	if (comma) {
		*in = open(comma + 4, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (*in < 0) {
			log_err("--hvc input %s: %s", comma + 4, strerror(errno));
			close(*out);
			*out = -1;
			return -1;
		}
	}
	return 0;
}

/* --disk PATH[,ro|rw][,name=NAME] */
static int parse_disk_opt(struct run_opts *o, const char *arg)
{
	unsigned i = o->ndisks;
	if (i == DOMUS_MAX_DISKS) {
		log_err("--disk %s: at most %d disks", arg, DOMUS_MAX_DISKS);
		return -1;
	}
	char *s = o->disk_specs[i];
	if (strlen(arg) >= sizeof(o->disk_specs[i])) {
		log_err("--disk %s: too long", arg);
		return -1;
	}
	strcpy(s, arg);
	struct machine_disk *d = &o->disks[i];
	snprintf(o->disk_names[i], sizeof(o->disk_names[i]), "vd%c", 'a' + i);
	*d = (struct machine_disk){ .path = s, .name = o->disk_names[i] };
	char *save = NULL;
	strtok_r(s, ",", &save);
	for (char *opt; (opt = strtok_r(NULL, ",", &save));) {
		if (!strcmp(opt, "ro"))
			d->readonly = true;
		else if (!strcmp(opt, "rw"))
			d->readonly = false;
		else if (!strncmp(opt, "name=", 5) && opt[5] && strlen(opt + 5) < 16)
			snprintf(o->disk_names[i], sizeof(o->disk_names[i]), "%s", opt + 5);
		else {
			log_err("--disk %s: unknown option '%s' (ro, rw, name=NAME)", arg, opt);
			return -1;
		}
	}
	if (!*d->path || *arg == ',') {
		log_err("--disk %s: no image path", arg);
		return -1;
	}
	o->ndisks++;
	return 0;
}

/* Fill opts from a config file; options given on the command line win. */
static int apply_config(const char *path, const char *const *ov, size_t nov, struct run_opts *o,
			struct domain_config *dc, int have_mem, int have_vcpus)
{
	char err[512];
	if (domcfg_load(path, ov, nov, dc, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return -1;
	}
	if (domcfg_check_support(dc, path, err, sizeof(err)) < 0) {
		log_err("%s", err);
		return -1;
	}
	if (dc->type == DOMCFG_TYPE_HVM) {
		for (size_t i = 0; i < dc->ndisks; i++) {
			const struct domcfg_disk *d = &dc->disks[i];
			if (add_ide(o, d->target, d->cdrom, (int)d->index, d->readonly) < 0)
				return -1;
		}
		if (!o->boot)
			o->boot = dc->boot;
		if (!o->firmware)
			o->firmware = dc->bios_path;
		if (!have_mem)
			o->memory_mib = dc->memory_mib;
		if (!have_vcpus)
			o->vcpus = dc->vcpus;
		o->cpus = dc->cpus;
		o->fv = 1;
		return 0;
	}
	for (size_t i = 0; i < dc->nnics; i++) {
		const struct domcfg_nic *n = &dc->nics[i];
		if (o->nnics == DOMUS_MAX_NICS) { /* with the --net ones */
			log_err("%s:%d: at most %d NICs", path, n->line, DOMUS_MAX_NICS);
			return -1;
		}
		struct machine_nic *m = &o->nics[o->nnics];
		memset(m, 0, sizeof(*m));
		memcpy(m->mac, n->mac, 6); /* domcfg_build derived it when none was given */
		m->bridge = n->bridge;
		m->tap = n->vifname;
		o->nic_mac_set[o->nnics++] = true;
	}
	if (!o->name)
		o->name = dc->name;
	for (size_t i = 0; i < dc->ndisks; i++) {
		const struct domcfg_disk *d = &dc->disks[i];
		if (o->ndisks == DOMUS_MAX_DISKS) {
			log_err("%s:%d: at most %d disks", path, d->line, DOMUS_MAX_DISKS);
			return -1;
		}
		o->disks[o->ndisks++] = (struct machine_disk){ .path = d->target,
							       .readonly = d->readonly,
							       .name = d->vdev };
	}
	if (!o->kernel)
		o->kernel = dc->kernel;
	if (!o->initrd)
		o->initrd = dc->ramdisk;
	if (!o->cmdline)
		o->cmdline = dc->cmdline;
	if (!have_mem)
		o->memory_mib = dc->memory_mib;
	if (!have_vcpus)
		o->vcpus = dc->vcpus;
	o->cpus = dc->cpus;
	return 0;
}

int cmd_run(int argc, char **argv)
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
	static struct run_opts o;
	memset(&o, 0, sizeof(o));
	o.memory_mib = 128;
	o.vcpus = 1;
	o.power_button_ms = -1;
	int have_mem = 0, have_vcpus = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o.kernel = optarg;
			break;
		case 'i':
			o.initrd = optarg;
			break;
		case 'c':
			o.cmdline = optarg;
			break;
		case 'm':
			if (arg_parse_uint("memory", optarg, 1ull << 24, &o.memory_mib) < 0)
				return DOMUS_EXIT_USAGE;
			have_mem = 1;
			break;
		case 'n':
			if (arg_parse_uint("vcpus", optarg, 1024, &o.vcpus) < 0)
				return DOMUS_EXIT_USAGE;
			have_vcpus = 1;
			break;
		case 'R':
			o.no_reboot = 1;
			break;
		case 'T':
			o.triple_fault_reset = 1;
			break;
		case 'P':
			o.pvm_aware = 1;
			break;
		case 'd':
			log_set_debug(true);
			break;
		case 'D':
			if (parse_disk_opt(&o, optarg) < 0)
				return DOMUS_EXIT_USAGE;
			break;
		case 'H':
			o.hvc = optarg;
			break;
		case 'N':
			if (parse_net_opt(&o, optarg) < 0)
				return DOMUS_EXIT_USAGE;
			break;
		case 'A':
			o.name = optarg;
			break;
		case 'G':
			o.rng = 1;
			break;
		case 'O':
			o.control = optarg;
			break;
		case 'C':
			if (add_ide(&o, optarg, 1, 2, 1) < 0)
				return DOMUS_EXIT_USAGE;
			o.fv = 1;
			break;
		case 'B':
			if (!optarg[0] || strlen(optarg) > 3 || strspn(optarg, "cdn") != strlen(optarg)) {
				log_err("boot '%s': up to three of c (disk), d (CD-ROM), n (network)",
					optarg);
				return DOMUS_EXIT_USAGE;
			}
			o.boot = optarg;
			o.fv = 1;
			break;
		case 'F':
			o.firmware = optarg;
			o.fv = 1;
			break;
		case 'S':
			o.screenshot = optarg;
			break;
		case 'V':
			o.fv_devices = 1;
			break;
		case 'W': {
			unsigned long long secs;
			if (arg_parse_uint("power-button-after", optarg, 86400, &secs) < 0)
				return DOMUS_EXIT_USAGE;
			o.power_button_ms = (long long)secs * 1000;
			break;
		}
		case 'h':
			usage(stdout);
			return 0;
		default:
			log_err("run: unknown or incomplete option '%s'", argv[optind - 1]);
			usage(stderr);
			return DOMUS_EXIT_USAGE;
		}
	}
	struct domain_config dc;
	memset(&dc, 0, sizeof(dc));
	if (optind < argc) {
		const char *cfg = argv[optind++];
		const char *ov[MAX_OVERRIDES];
		size_t nov = 0;
		for (; optind < argc; optind++) {
			if (!strchr(argv[optind], '=') || nov == MAX_OVERRIDES) {
				log_err("run: unexpected argument '%s' (options go before the config "
					"file; after it only KEY=VALUE)",
					argv[optind]);
				return DOMUS_EXIT_USAGE;
			}
			ov[nov++] = argv[optind];
		}
		if (apply_config(cfg, ov, nov, &o, &dc, have_mem, have_vcpus) < 0)
			return DOMUS_EXIT_ERROR;
	}
	int status = DOMUS_EXIT_ERROR;
	uint8_t *kernel = NULL, *initrd = NULL;
	size_t kernel_len = 0, initrd_len = 0;
	if (o.kernel && (o.fv || o.fv_devices)) {
		/* With a kernel, --disk images are virtio disks unless --fv-devices asks for the FV
		 * PC (tiny guests that test the chipset, IDE and VGA). */
		if (o.firmware || o.boot || !o.fv_devices) {
			log_err("run: --kernel boots a kernel directly; --firmware and --boot are for "
				"FV guests, which boot from their disks; IDE drives with a kernel need "
				"--fv-devices");
			status = DOMUS_EXIT_USAGE;
			goto out;
		}
		o.fv = 0;
	}
	/* FV guests, and kernels on the FV PC: --disk images are IDE disks. */
	if (o.fv || o.fv_devices) {
		for (unsigned i = 0; i < o.ndisks; i++)
			if (add_ide(&o, o.disks[i].path, 0, -1, o.disks[i].readonly) < 0) {
				status = DOMUS_EXIT_USAGE;
				goto out;
			}
		o.ndisks = 0;
	}
	if (o.fv)
		goto checked;
	if (!o.kernel) {
		log_err("run: no kernel: give --kernel FILE or a config file with kernel=, or "
			"--cdrom/--disk for an FV guest");
		status = DOMUS_EXIT_USAGE;
		goto out;
	}
	if (o.memory_mib == 0) {
		log_err("memory 0: a guest needs at least 16 MiB");
		goto out;
	}
	if (o.vcpus == 0) {
		log_err("vcpus 0: a guest needs at least one vCPU");
		goto out;
	}
	kernel = read_file("kernel", o.kernel, MAX_KERNEL_BYTES, &kernel_len);
	if (!kernel)
		goto out;
	enum kernel_kind kind = kernel_detect(kernel, kernel_len);
	if (kind != KERNEL_BZIMAGE && kind != KERNEL_PVH_ELF) {
		log_err("kernel %s: %s; Domus boots a bzImage (protocol 2.12+) or a PVH ELF",
			o.kernel, kernel_kind_name(kind));
		goto out;
	}
	if (o.initrd) {
		initrd = read_file("initrd", o.initrd, o.memory_mib << 20, &initrd_len);
		if (!initrd)
			goto out;
	}

checked:;
	struct host_info host;
	host_detect(&host);
	if (!host.kvm_usable) {
		log_err("KVM: %s", host.why);
		goto out;
	}
	char cmdline[BOOT_CMDLINE_MAX] = "";
	int watch_user = 0;
	if (o.fv)
		goto prepared;
	int is_linux = kernel_is_linux(kernel, kernel_len);
	watch_user = host.mode == HOST_PVM && is_linux && !o.pvm_aware;
	const char *user = o.cmdline ? o.cmdline : (is_linux ? "console=ttyS0" : "");
	if (cmdline_for_guest(cmdline, sizeof(cmdline), user, host.mode, (unsigned)o.vcpus,
			      is_linux, o.pvm_aware,
			      host_pic_routing(host.mode, getenv(HOST_FORCE_PIC_ENV))) < 0) {
		log_err("cmdline: too long");
		goto out;
	}
	if (strcmp(cmdline, user))
		log_debug("kernel command line for this %s host: %s", host_mode_name(host.mode),
			  cmdline);

prepared:;
	/* Process signals are taken synchronously through a signalfd on this thread. */
	int sfd = stop_signals_fd();
	if (sfd < 0) {
		log_err("signalfd: %s", strerror(-sfd));
		goto out;
	}

	struct runner r = { .lock = PTHREAD_MUTEX_INITIALIZER,
			    .name = o.name ? o.name : "domus" };
	struct control ctl = { .listen_fd = -1 };
	if (o.control) {
		char err[512];
		if (control_open(&ctl, o.control, run_control, &r, err, sizeof(err)) < 0) {
			log_err("--control %s", err);
			control_close(&ctl);
			close(sfd);
			goto out;
		}
	}
	struct console con;
	if (console_open(&con, STDIN_FILENO, STDOUT_FILENO, on_quit, &r) < 0) {
		log_err("console: %s", strerror(errno));
		if (o.control)
			control_close(&ctl);
		close(sfd);
		goto out;
	}
	struct pc_persist persist = { 0 };
	struct machine_config mc = {
		.mem_bytes = o.memory_mib << 20,
		.vcpus = (unsigned)o.vcpus,
		.cpus = o.cpus,
		.kernel = kernel,
		.kernel_len = kernel_len,
		.initrd = initrd,
		.initrd_len = initrd_len,
		.cmdline = cmdline,
		.watch_pvm_user = watch_user,
		.triple_fault_reset = o.triple_fault_reset,
		.persist = &persist,
		.disks = o.disks,
		.ndisks = o.ndisks,
		.rng = o.rng,
		.nics = o.nics,
		.nnics = o.nnics,
		.hvc_out = -1,
		.hvc_in = -1,
		.firmware = o.fv ? (o.firmware ? o.firmware : FIRMWARE_DEFAULT) : NULL,
		.ide = o.ide,
		.nide = o.nide,
		.boot_order = o.boot,
		.fv_devices = o.fv_devices,
	};
	if (o.hvc && open_hvc(o.hvc, &mc.hvc_out, &mc.hvc_in) < 0) {
		console_close(&con);
		if (o.control)
			control_close(&ctl);
		close(sfd);
		goto out;
	}
	/* NICs without a MAC get a stable one from the domain name and their index. */
	for (unsigned i = 0; i < o.nnics; i++)
		if (!o.nic_mac_set[i])
			domcfg_derive_mac(o.name ? o.name : "domus", i, o.nics[i].mac);
	struct machine *m = calloc(1, sizeof(*m));
	for (;;) {
		char err[512];
		if (!m || machine_create(m, &mc, &con, err, sizeof(err)) < 0 ||
		    machine_start(m, err, sizeof(err)) < 0) {
			log_err("%s", m ? err : "out of memory");
			if (m)
				machine_destroy(m);
			status = DOMUS_EXIT_ERROR;
			break;
		}
		pthread_mutex_lock(&r.lock);
		r.cur = m;
		if (r.quit)
			vm_request_stop(&m->vm, VM_STOP_QUIT, NULL);
		pthread_mutex_unlock(&r.lock);

		int sig = 0;
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		long long button_ms = o.power_button_ms;
		while (vm_stopped(&m->vm) == VM_RUNNING) {
			int fds[CONTROL_MAX_CLIENTS + 3];
			size_t nfds = 2;
			fds[0] = sfd;
			fds[1] = m->vm.event_fd;
			if (o.control)
				nfds += control_fds(&ctl, fds + 2);
			struct pollfd p[sizeof(fds) / sizeof(fds[0])];
			for (size_t i = 0; i < nfds; i++)
				p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
			int wait_ms = -1;
			if (button_ms >= 0) {
				struct timespec now;
				clock_gettime(CLOCK_MONOTONIC, &now);
				long long el = (now.tv_sec - t0.tv_sec) * 1000LL +
					       (now.tv_nsec - t0.tv_nsec) / 1000000;
				if (el >= button_ms) {
					log_debug("pressing the ACPI power button");
					machine_power_button(m);
					button_ms = -1;
				} else {
					wait_ms = (int)(button_ms - el);
				}
			}
			/* A control client that stalls is dropped after a few seconds. */
			if (nfds > 3 && (wait_ms < 0 || wait_ms > 1000))
				wait_ms = 1000;
			if (poll(p, (nfds_t)nfds, wait_ms) < 0 && errno != EINTR)
				break;
			for (size_t i = 2; i < nfds; i++)
				if (p[i].revents)
					control_handle(&ctl, p[i].fd);
			if (o.control)
				control_expire(&ctl, mono_ms());
			struct signalfd_siginfo si;
			if ((p[0].revents & POLLIN) && read(sfd, &si, sizeof(si)) == sizeof(si)) {
				sig = (int)si.ssi_signo;
				vm_request_stop(&m->vm, VM_STOP_SIGNAL, NULL);
			}
		}
		enum vm_stop why = vm_wait(&m->vm);
		pthread_mutex_lock(&r.lock);
		r.cur = NULL;
		pthread_mutex_unlock(&r.lock);
		if (m->vm.stop_msg[0])
			log_err("%s", m->vm.stop_msg);
		if (o.screenshot && m->fv) {
			char serr[512];
			if (machine_fv_screenshot(m, o.screenshot, NULL, serr, sizeof(serr)) < 0)
				log_err("%s", serr);
		}
		machine_destroy(m);
		if (why == VM_STOP_RESET && !o.no_reboot) {
			log_debug("guest reset: booting again");
			continue;
		}
		if (why == VM_STOP_SIGNAL)
			log_err("stopped by signal %d (%s)", sig, strsignal(sig));
		status = exit_status(why, sig);
		break;
	}
	free(m);
	if (mc.hvc_out >= 0)
		close(mc.hvc_out);
	if (mc.hvc_in >= 0)
		close(mc.hvc_in);
	console_close(&con);
	if (o.control) {
		control_close(&ctl);
		unlink(o.control);
	}
	close(sfd);
out:
	free(kernel);
	free(initrd);
	domcfg_free(&dc);
	return status;
}
