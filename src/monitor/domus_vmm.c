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
#include "monitor/machine_build.h"
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
	fprintf(f, "usage: domus vmm --dir DIR --name NAME --domid ID --config FILE [--token T]\n"
		   "                 [--ready-fd FD] [--console-log FILE] [--core-on-crash FILE]\n"
		   "The monitor of one domain under domusd (which starts it); not for direct use.\n"
		   "FILE is the domain's settings in domusd's JSON form (config/domcfg_json.c),\n"
		   "written by domusd as DIR/" DOMAIN_CONFIG_FILE ". DIR receives control.sock,\n"
		   "console.sock and, when the guest ends, exit.json.\n");
}

/* The domain's settings from domusd: 0, or -1 with "FILE: why" in err. */
static int read_config(const char *path, struct domain_config *dc, char *err, size_t errlen)
{
	char why[512];
	size_t len;
	memset(dc, 0, sizeof(*dc));
	char *text = read_small_file(path, 1 << 20, &len);
	if (!text)
		return errf(err, errlen, "%s: %s", path, strerror(errno));
	struct json_object *o = json_tokener_parse(text);
	free(text);
	int r = o ? domcfg_from_json(o, dc, why, sizeof(why)) : -EINVAL;
	json_object_put(o);
	if (r < 0)
		return errf(err, errlen, "%s: %s", path, o ? why : "not JSON");
	if (domcfg_check_support(dc, path, err, errlen) < 0) {
		domcfg_free(dc);
		return -1;
	}
	return 0;
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
		{ "config", required_argument, NULL, 'f' },
		{ "token", required_argument, NULL, 't' },
		{ "ready-fd", required_argument, NULL, 'r' },
		{ "console-log", required_argument, NULL, 'l' },
		{ "core-on-crash", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vmm v = { .token = "", .started = time(NULL) };
	const char *config = NULL, *console_log = NULL;
	int ready_fd = -1;
	unsigned long long num;
	int c;
	optind = 1;
	opterr = 0;
	prctl(PR_SET_NAME, "domus-vmm");
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'D': v.dir = optarg; break;
		case 'N': v.name = optarg; break;
		case 'f': config = optarg; break;
		case 't': v.token = optarg; break;
		case 'l': console_log = optarg; break;
		case 'C': v.core_on_crash = optarg; break;
		case 'I':
			if (arg_parse_uint("vmm: domid", optarg, 0x7FEF, &num) < 0)
				return DOMUS_EXIT_USAGE;
			v.domid = (unsigned)num;
			break;
		case 'r':
			if (arg_parse_uint("vmm: ready-fd", optarg, INT_MAX, &num) < 0)
				return DOMUS_EXIT_USAGE;
			ready_fd = (int)num;
			fcntl(ready_fd, F_SETFD, FD_CLOEXEC);
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
	if (!v.dir || !v.name || !config || optind < argc) {
		log_err("vmm: --dir, --name and --config are required, and nothing else");
		ready(ready_fd, "error: bad monitor command line\n");
		return DOMUS_EXIT_USAGE;
	}

	int status = DOMUS_EXIT_ERROR;
	char err[512] = "";
	int sfd = -1, con_open = 0, mux_open = 0, ctl_open = 0;
	struct console con;
	char path[PATH_MAX];
	struct domain_config dc;
	struct machine_build *b = NULL;
	if (read_config(config, &dc, err, sizeof(err)) < 0)
		goto out;

	struct host_info host;
	host_detect(&host);
	if (!host.kvm_usable) {
		snprintf(err, sizeof(err), "KVM: %s", host.why);
		goto out;
	}
	b = malloc(sizeof(*b));
	if (!b) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	if (machine_build(b, &dc, host.mode, err, sizeof(err)) < 0) {
		free(b);
		b = NULL;
		goto out;
	}
	if (machine_build_open_hvc(b, err, sizeof(err)) < 0)
		goto out;

	sfd = stop_signals_fd();
	if (sfd < 0) {
		snprintf(err, sizeof(err), "signalfd: %s", strerror(-sfd));
		goto out;
	}

	snprintf(path, sizeof(path), "%s/" DOMAIN_CONSOLE_SOCK, v.dir);
	if (conmux_open(&v.con_mux, path, console_log, err, sizeof(err)) < 0)
		goto out;
	mux_open = 1;
	if (console_open(&con, v.con_mux.guest_in_rd, v.con_mux.guest_out_wr, NULL, NULL) < 0) {
		snprintf(err, sizeof(err), "console: %s", strerror(errno));
		goto out;
	}
	con_open = 1;
	const struct machine_config mc = b->mc;
	v.m = calloc(1, sizeof(*v.m));
	if (!v.m) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	if (machine_create(v.m, &mc, &con, err, sizeof(err)) < 0)
		goto out_machine;
	/* The guest image is in guest RAM now. */
	free(b->kernel);
	free(b->initrd);
	b->kernel = b->initrd = NULL;
	snprintf(path, sizeof(path), "%s/" DOMAIN_CONTROL_SOCK, v.dir);
	if (control_open(&v.ctl, path, handle, &v, err, sizeof(err)) < 0)
		goto out_machine;
	ctl_open = 1;
	if (machine_start(v.m, err, sizeof(err)) < 0)
		goto out_machine;
	ready(ready_fd, "ready %d\n", (int)getpid());
	ready_fd = -1;

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
		ready(ready_fd, "error: %s\n", err);
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
	if (b)
		machine_build_free(b);
	free(b);
	domcfg_free(&dc);
	return status;
}
