/* domus-vmm: the monitor of one domain under domusd (`domus vmm ...`, shown as domus-vmm).
 *
 * Unlike `domus run` it has no terminal: its console is a conmux (log file, ring, socket), it
 * is driven through a control socket, and when the guest ends it records why in exit.json in
 * its domain directory before exiting, so that domusd — this one or a restarted one — can apply
 * on_poweroff/on_reboot/on_crash. It runs in its own session, so it outlives domusd. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend/conmux.h"
#include "boot/boot.h"
#include "boot/cmdline.h"
#include "monitor/monitor.h"
#include "monitor/monitor_ctl.h"
#include "config/domcfg.h"
#include "machine_pc.h"
#include "lib/atomic_file.h"
#include "manager/domain_files.h"
#include "lib/control.h"
#include "vmm/coredump.h"
#include "lib/log.h"
#include "lib/signals.h"

#define MAX_KERNEL_BYTES (512ull << 20)

struct vmm {
	const char *name, *dir, *token;
	const char *core_on_crash; /* where a crashed guest's core goes; NULL: none */
	unsigned domid;
	struct machine *m;
	struct conmux con_mux;
	struct control ctl;
	int shutdown_requested;
	time_t started;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: domus vmm --dir DIR --name NAME --domid ID [--token T] [--ready-fd FD]\n"
		   "                 [--console-log FILE] [--memory MIB] [--vcpus N] [--cpus CPUS]\n"
		   "                 [--pvm-aware]\n"
		   "                 [--triple-fault-reset] [--core-on-crash FILE] MACHINE\n"
		   "MACHINE, PV:  --kernel FILE [--initrd FILE] [--cmdline TEXT]\n"
		   "                 [--disk NAME,ro|rw,PATH]... [--net MAC,BRIDGE,TAP]...\n"
		   "MACHINE, FV:  --firmware FILE [--boot ORDER] [--ide N,disk|cdrom,ro|rw,PATH]...\n"
		   "The monitor of one domain under domusd (which starts it); not for direct use.\n"
		   "DIR receives control.sock, console.sock and, when the guest ends, exit.json.\n"
		   "In --disk and --ide the path comes last and may hold commas; empty BRIDGE, TAP:\n"
		   "none, kernel-chosen; an empty CD-ROM PATH is a drive without a medium.\n"
		   "CPUS pins the vCPU threads: xl.cfg's cpus= (config/cpuset.h; \"2;3-5;\" per vCPU).\n");
}

static uint8_t *load(const char *what, const char *path, uint64_t max, size_t *len)
{
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		log_err("%s %s: %s", what, path, errno ? strerror(errno) : "not a regular file");
		return NULL;
	}
	if ((uint64_t)st.st_size > max) {
		log_err("%s %s: too large (%lld bytes)", what, path, (long long)st.st_size);
		return NULL;
	}
	uint8_t *buf = (uint8_t *)read_small_file(path, (size_t)max, len);
	if (!buf)
		log_err("%s %s: %s", what, path, strerror(errno));
	return buf;
}

/* Names of the ways a domain ends, as domusd and exit.json know them. */
static const char *stop_reason(enum vm_stop why)
{
	switch (why) {
	case VM_STOP_POWEROFF:
		return "poweroff";
	case VM_STOP_RESET:
		return "reboot";
	case VM_STOP_QUIT:
	case VM_STOP_SIGNAL:
		return "destroyed";
	default:
		return "crash";
	}
}

static int stop_status(enum vm_stop why)
{
	switch (why) {
	case VM_STOP_POWEROFF:
		return DOMUS_EXIT_POWEROFF;
	case VM_STOP_RESET:
		return DOMUS_EXIT_REBOOT;
	case VM_STOP_EMULATION:
		return DOMUS_EXIT_EMULATION;
	case VM_STOP_KVM_ERROR:
		return DOMUS_EXIT_KVM;
	case VM_STOP_QUIT:
	case VM_STOP_SIGNAL:
		return DOMUS_EXIT_SIGNAL + SIGTERM;
	default:
		return DOMUS_EXIT_CRASH;
	}
}

/* exit.json for domusd; core: the core file written after a crash, core_err why there is
 * none although one was asked for (both may be NULL). */
static void write_exit(const struct vmm *v, enum vm_stop why, const char *msg, const char *core,
		       const char *core_err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/" DOMAIN_EXIT_FILE, v->dir);
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "reason", json_object_new_string(stop_reason(why)));
	json_object_object_add(o, "status", json_object_new_int(stop_status(why)));
	json_object_object_add(o, "message", json_object_new_string(msg ? msg : ""));
	json_object_object_add(o, "token", json_object_new_string(v->token));
	json_object_object_add(o, "time", json_object_new_int64((int64_t)time(NULL)));
	if (core)
		json_object_object_add(o, "core", json_object_new_string(core));
	if (core_err)
		json_object_object_add(o, "core_error", json_object_new_string(core_err));
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	int r = atomic_write_file(path, s, strlen(s), 0640);
	if (r < 0)
		log_err("%s: %s", path, strerror(-r));
	json_object_put(o);
}

/* vCPU threads are named vcpuN; state 'R' in /proc/self/task/T/stat means one is on a CPU
 * (xl's 'r'); all asleep in KVM_RUN (a halted guest) is xl's 'b'. */
static int any_vcpu_running(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int running = 0;
	if (!d)
		return 0;
	while (!running && (e = readdir(d))) {
		char path[64], comm[32] = "", stat[256];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
		if (strncmp(comm, "vcpu", 4))
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(stat, 1, sizeof(stat) - 1, f);
		fclose(f);
		stat[n] = 0;
		const char *rp = strrchr(stat, ')'); /* the name may hold spaces */
		if (rp && rp[1] == ' ' && rp[2] == 'R')
			running = 1;
	}
	closedir(d);
	return running;
}

static void add_status(struct vmm *v, struct json_object *r)
{
	struct vm *vm = &v->m->vm;
	json_object_object_add(r, "name", json_object_new_string(v->name));
	json_object_object_add(r, "domid", json_object_new_int((int)v->domid));
	json_object_object_add(r, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(r, "paused", json_object_new_boolean(atomic_load(&vm->paused)));
	json_object_object_add(r, "shutdown_requested",
			       json_object_new_boolean(v->shutdown_requested));
	json_object_object_add(r, "memory_mib",
			       json_object_new_int64((int64_t)(vm->cfg.mem_bytes >> 20)));
	json_object_object_add(r, "vcpus", json_object_new_int((int)vm->nr_vcpus));
	struct json_object *arr = json_object_new_array();
	uint64_t total = 0;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		uint64_t ns = vm_vcpu_cpu_ns(vm, i);
		total += ns;
		json_object_array_add(arr, json_object_new_int64((int64_t)ns));
	}
	json_object_object_add(r, "vcpu_ns", arr);
	json_object_object_add(r, "cpu_ns", json_object_new_int64((int64_t)total));
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	json_object_object_add(r, "process_cpu_ns",
			       json_object_new_int64((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec));
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	json_object_object_add(r, "rss_kib",
			       json_object_new_int64((int64_t)resident * (sysconf(_SC_PAGESIZE) / 1024)));
	json_object_object_add(r, "started", json_object_new_int64((int64_t)v->started));
	json_object_object_add(r, "console_bytes", json_object_new_int64((int64_t)v->con_mux.total));
	json_object_object_add(r, "running_now", json_object_new_boolean(any_vcpu_running()));
}

static int handle(void *ctx, const char *cmd, struct json_object *reply, char *err, size_t errlen)
{
	struct vmm *v = ctx;
	if (!strcmp(cmd, "status")) {
		add_status(v, reply);
		monitor_add_nics(v->m, reply);
		return 0;
	}
	int r = monitor_command(v->m, cmd, reply, err, errlen);
	if (r == 0 && !strcmp(cmd, "power-button"))
		v->shutdown_requested = 1;
	return r;
}

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The event loop: signals, the guest's stop, control requests, console traffic. */
static int serve(struct vmm *v, int sfd)
{
	struct vm *vm = &v->m->vm;
	while (vm_stopped(vm) == VM_RUNNING) {
		int fds[CONTROL_MAX_CLIENTS + CONMUX_MAX_CLIENTS + 8];
		size_t n = 0;
		fds[n++] = sfd;
		fds[n++] = vm->event_fd;
		n += control_fds(&v->ctl, fds + n);
		n += conmux_fds(&v->con_mux, fds + n);
		struct pollfd p[sizeof(fds) / sizeof(fds[0])];
		for (size_t i = 0; i < n; i++)
			p[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		if (poll(p, n, 1000) < 0 && errno != EINTR)
			return -errno;
		for (size_t i = 0; i < n; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].fd == sfd) {
				struct signalfd_siginfo si;
				if (read(sfd, &si, sizeof(si)) == sizeof(si))
					vm_request_stop(vm, VM_STOP_SIGNAL, "stopped by signal %d (%s)",
							(int)si.ssi_signo, strsignal((int)si.ssi_signo));
			} else if (p[i].fd != vm->event_fd && !control_handle(&v->ctl, p[i].fd)) {
				conmux_handle(&v->con_mux, p[i].fd);
			}
		}
		control_expire(&v->ctl, mono_ms());
	}
	return 0;
}

struct vmm_opts {
	const char *kernel, *initrd, *cmdline, *console_log, *firmware, *boot;
	const char *cpus;
	unsigned long long memory_mib, vcpus;
	int pvm_aware, triple_fault_reset, ready_fd;
	struct machine_disk disks[DOMUS_MAX_DISKS];
	unsigned ndisks;
	struct machine_nic nics[DOMUS_MAX_NICS];
	unsigned nnics;
	struct machine_ide ide[DOMUS_IDE_DRIVES];
	unsigned nide;
};

/* Split "A,B,...,REST" in place into n fields; the last one keeps any further commas. */
static int split(char *s, char **f, unsigned n)
{
	for (unsigned i = 0; i + 1 < n; i++) {
		f[i] = s;
		s = strchr(s, ',');
		if (!s)
			return -1;
		*s++ = 0;
	}
	f[n - 1] = s;
	return 0;
}

static int ro_rw(const char *s, int *ro)
{
	*ro = !strcmp(s, "ro");
	return *ro || !strcmp(s, "rw") ? 0 : -1;
}

/* --disk NAME,ro|rw,PATH */
static int opt_disk(struct vmm_opts *o, char *arg)
{
	char *f[3];
	int ro;
	if (o->ndisks == DOMUS_MAX_DISKS || split(arg, f, 3) < 0 || !f[0][0] ||
	    ro_rw(f[1], &ro) < 0 || !f[2][0])
		return -1;
	o->disks[o->ndisks++] = (struct machine_disk){ .path = f[2], .readonly = ro,
						       .name = f[0] };
	return 0;
}

/* --ide N,disk|cdrom,ro|rw,PATH */
static int opt_ide(struct vmm_opts *o, char *arg)
{
	char *f[4];
	int ro;
	if (o->nide == DOMUS_IDE_DRIVES || split(arg, f, 4) < 0 || strlen(f[0]) != 1 ||
	    f[0][0] < '0' || f[0][0] > '3' || ro_rw(f[2], &ro) < 0)
		return -1;
	int cdrom = !strcmp(f[1], "cdrom");
	if ((!cdrom && strcmp(f[1], "disk")) || (!cdrom && !f[3][0]))
		return -1;
	for (unsigned i = 0; i < o->nide; i++)
		if (o->ide[i].index == (unsigned)(f[0][0] - '0'))
			return -1;
	o->ide[o->nide++] = (struct machine_ide){ .path = f[3], .index = (unsigned)(f[0][0] - '0'),
						  .cdrom = cdrom, .readonly = ro || cdrom };
	return 0;
}

/* --net MAC,BRIDGE,TAP */
static int opt_net(struct vmm_opts *o, char *arg)
{
	char *f[3];
	if (o->nnics == DOMUS_MAX_NICS || split(arg, f, 3) < 0 || strchr(f[2], ',') ||
	    strlen(f[2]) >= 16)
		return -1;
	struct machine_nic *n = &o->nics[o->nnics];
	if (domcfg_parse_mac(f[0], n->mac) < 0)
		return -1;
	n->bridge = f[1][0] ? f[1] : NULL;
	n->tap = f[2][0] ? f[2] : NULL;
	o->nnics++;
	return 0;
}

/* The kernel and initrd of a PV domain, and its command line for this host. 0, or -1 with
 * err set. */
static int load_kernel(const struct vmm_opts *o, enum host_mode mode, uint8_t **kernel,
		       size_t *kernel_len, uint8_t **initrd, size_t *initrd_len, char *cmdline,
		       size_t cmdline_len, char *err, size_t errlen)
{
	*kernel = load("kernel", o->kernel, MAX_KERNEL_BYTES, kernel_len);
	if (!*kernel) {
		snprintf(err, errlen, "kernel %s: cannot be read", o->kernel);
		return -1;
	}
	enum kernel_kind kind = kernel_detect(*kernel, *kernel_len);
	if (kind != KERNEL_BZIMAGE && kind != KERNEL_PVH_ELF) {
		snprintf(err, errlen, "kernel %s: %s; Domus boots a bzImage or a PVH ELF", o->kernel,
			 kernel_kind_name(kind));
		return -1;
	}
	if (o->initrd) {
		*initrd = load("initrd", o->initrd, o->memory_mib << 20, initrd_len);
		if (!*initrd) {
			snprintf(err, errlen, "initrd %s: cannot be read", o->initrd);
			return -1;
		}
	}
	int is_linux = kernel_is_linux(*kernel, *kernel_len);
	const char *user = o->cmdline ? o->cmdline : (is_linux ? "console=ttyS0" : "");
	if (cmdline_for_guest(cmdline, cmdline_len, user, mode, (unsigned)o->vcpus, is_linux,
			      o->pvm_aware, host_pic_routing(mode, getenv(HOST_FORCE_PIC_ENV))) < 0) {
		snprintf(err, errlen, "cmdline: too long");
		return -1;
	}
	return 0;
}

static void ready(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ready(int fd, const char *fmt, ...)
{
	if (fd < 0)
		return;
	char buf[600];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && write(fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1) < 0)
		log_debug("ready pipe: %s", strerror(errno));
	close(fd);
}

int cmd_vmm(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'D' },
		{ "name", required_argument, NULL, 'N' },
		{ "domid", required_argument, NULL, 'I' },
		{ "token", required_argument, NULL, 't' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "console-log", required_argument, NULL, 'l' },
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "cmdline", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "vcpus", required_argument, NULL, 'n' },
		{ "cpus", required_argument, NULL, 'U' },
		{ "firmware", required_argument, NULL, 'F' },
		{ "boot", required_argument, NULL, 'B' },
		{ "disk", required_argument, NULL, 'd' },
		{ "ide", required_argument, NULL, 'E' },
		{ "net", required_argument, NULL, 'W' },
		{ "core-on-crash", required_argument, NULL, 'C' },
		{ "pvm-aware", no_argument, NULL, 'P' },
		{ "triple-fault-reset", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vmm v = { .token = "", .started = time(NULL) };
	struct vmm_opts o = { .memory_mib = 128, .vcpus = 1, .ready_fd = -1 };
	unsigned long long num;
	int c;
	optind = 1;
	opterr = 0;
	prctl(PR_SET_NAME, "domus-vmm");
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'D': v.dir = optarg; break;
		case 'N': v.name = optarg; break;
		case 't': v.token = optarg; break;
		case 'l': o.console_log = optarg; break;
		case 'k': o.kernel = optarg; break;
		case 'i': o.initrd = optarg; break;
		case 'c': o.cmdline = optarg; break;
		case 'F': o.firmware = optarg; break;
		case 'U': o.cpus = optarg; break;
		case 'C': v.core_on_crash = optarg; break;
		case 'B':
			if (strlen(optarg) > 3 || strspn(optarg, "cdn") != strlen(optarg)) {
				log_err("vmm: boot '%s': up to three of c, d, n", optarg);
				return DOMUS_EXIT_USAGE;
			}
			o.boot = optarg;
			break;
		case 'd':
		case 'E':
		case 'W':
			if ((c == 'd' ? opt_disk : c == 'E' ? opt_ide : opt_net)(&o, optarg) < 0) {
				log_err("vmm: bad or too many --%s '%s'",
					c == 'd' ? "disk" : c == 'E' ? "ide" : "net", optarg);
				return DOMUS_EXIT_USAGE;
			}
			break;
		case 'P': o.pvm_aware = 1; break;
		case 'T': o.triple_fault_reset = 1; break;
		case 'I':
			if (arg_parse_uint("vmm: domid", optarg, 0x7FEF, &num) < 0)
				return DOMUS_EXIT_USAGE;
			v.domid = (unsigned)num;
			break;
		case 'r':
			if (arg_parse_uint("vmm: ready-fd", optarg, INT_MAX, &num) < 0)
				return DOMUS_EXIT_USAGE;
			o.ready_fd = (int)num;
			fcntl(o.ready_fd, F_SETFD, FD_CLOEXEC);
			break;
		case 'm':
			if (arg_parse_uint("vmm: memory", optarg, 1ull << 24, &o.memory_mib) < 0)
				return DOMUS_EXIT_USAGE;
			break;
		case 'n':
			if (arg_parse_uint("vmm: vcpus", optarg, 1024, &o.vcpus) < 0)
				return DOMUS_EXIT_USAGE;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			log_err("vmm: unknown or incomplete option '%s'", argv[optind - 1]);
			usage(stderr);
			return DOMUS_EXIT_USAGE;
		}
	}
	if (!v.dir || !v.name || !o.kernel == !o.firmware || optind < argc ||
	    (o.firmware && (o.ndisks || o.nnics)) || (o.kernel && (o.nide || o.boot))) {
		log_err("vmm: --dir, --name and one of --kernel (with --disk, --net) and "
			"--firmware (with --ide, --boot) are required, and nothing else");
		ready(o.ready_fd, "error: bad monitor command line\n");
		return DOMUS_EXIT_USAGE;
	}

	int status = DOMUS_EXIT_ERROR;
	char err[512] = "";
	size_t kernel_len = 0, initrd_len = 0;
	uint8_t *kernel = NULL, *initrd = NULL;
	int sfd = -1, con_open = 0, mux_open = 0, ctl_open = 0;
	struct console con;
	char path[PATH_MAX];

	struct host_info host;
	host_detect(&host);
	if (!host.kvm_usable) {
		snprintf(err, sizeof(err), "KVM: %s", host.why);
		goto out;
	}
	static char cmdline[BOOT_CMDLINE_MAX];
	if (o.kernel && load_kernel(&o, host.mode, &kernel, &kernel_len, &initrd, &initrd_len,
				    cmdline, sizeof(cmdline), err, sizeof(err)) < 0)
		goto out;
	/* An unmodified Linux on a PVM host: watch for its /init faulting (boot/pvm_user_watch.h) */
	int watch_user = o.kernel && host.mode == HOST_PVM && kernel_is_linux(kernel, kernel_len) &&
			 !o.pvm_aware;

	sfd = stop_signals_fd();
	if (sfd < 0) {
		snprintf(err, sizeof(err), "signalfd: %s", strerror(-sfd));
		goto out;
	}

	snprintf(path, sizeof(path), "%s/" DOMAIN_CONSOLE_SOCK, v.dir);
	if (conmux_open(&v.con_mux, path, o.console_log, err, sizeof(err)) < 0)
		goto out;
	mux_open = 1;
	if (console_open(&con, v.con_mux.guest_in_rd, v.con_mux.guest_out_wr, NULL, NULL) < 0) {
		snprintf(err, sizeof(err), "console: %s", strerror(errno));
		goto out;
	}
	con_open = 1;
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
		.disks = o.disks,
		.ndisks = o.ndisks,
		.nics = o.nics,
		.nnics = o.nnics,
		.hvc_out = -1,
		.hvc_in = -1,
		.firmware = o.firmware,
		.ide = o.ide,
		.nide = o.nide,
		.boot_order = o.boot,
	};
	v.m = calloc(1, sizeof(*v.m));
	if (!v.m) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	if (machine_create(v.m, &mc, &con, err, sizeof(err)) < 0)
		goto out_machine;
	/* The guest image is in guest RAM now. */
	free(kernel);
	free(initrd);
	kernel = initrd = NULL;
	snprintf(path, sizeof(path), "%s/" DOMAIN_CONTROL_SOCK, v.dir);
	if (control_open(&v.ctl, path, handle, &v, err, sizeof(err)) < 0)
		goto out_machine;
	ctl_open = 1;
	if (machine_start(v.m, err, sizeof(err)) < 0)
		goto out_machine;
	ready(o.ready_fd, "ready %d\n", (int)getpid());
	o.ready_fd = -1;

	int r = serve(&v, sfd);
	if (r < 0)
		vm_request_stop(&v.m->vm, VM_STOP_KVM_ERROR, "event loop: %s", strerror(-r));
	/* A vCPU may be writing console output: make room so it can finish and stop. */
	conmux_handle(&v.con_mux, v.con_mux.guest_out_rd);
	enum vm_stop why = vm_wait(&v.m->vm);
	if (v.m->vm.stop_msg[0])
		log_err("%s", v.m->vm.stop_msg);
	/* on_crash=coredump-*: the memory is still there until machine_destroy. */
	const char *core = NULL, *core_err = NULL;
	if (v.core_on_crash && !strcmp(stop_reason(why), "crash")) {
		if (vm_dump_core(&v.m->vm, v.core_on_crash, err, sizeof(err)) == 0) {
			log_info("core of the crashed guest written to %s", v.core_on_crash);
			core = v.core_on_crash;
		} else {
			log_err("%s", err);
			core_err = err;
		}
	}
	write_exit(&v, why, v.m->vm.stop_msg, core, core_err);
	err[0] = 0;
	status = stop_status(why);
out_machine:
	machine_destroy(v.m);
	free(v.m);
out:
	if (err[0]) {
		log_err("%s", err);
		ready(o.ready_fd, "error: %s\n", err);
	}
	if (ctl_open) {
		control_close(&v.ctl);
		snprintf(path, sizeof(path), "%s/" DOMAIN_CONTROL_SOCK, v.dir);
		unlink(path);
	}
	if (con_open)
		console_close(&con);
	if (mux_open) {
		conmux_close(&v.con_mux);
		snprintf(path, sizeof(path), "%s/" DOMAIN_CONSOLE_SOCK, v.dir);
		unlink(path);
	}
	if (sfd >= 0)
		close(sfd);
	free(kernel);
	free(initrd);
	return status;
}
