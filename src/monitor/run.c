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

#include "monitor/machine_build.h"
#include "monitor/monitor.h"
#include "monitor/monitor_ctl.h"
#include "monitor/run_config.h"
#include "config/domcfg.h"
#include "machine_fv.h"
#include "machine_pc.h"
#include "lib/control.h"
#include "lib/log.h"
#include "lib/signals.h"


struct runner {
	pthread_mutex_t lock;
	struct machine *cur; /* written by the main thread only, under lock */
	int quit;
	const char *name;
};

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

int cmd_run(int argc, char **argv)
{
	struct domain_config dc;
	struct run_process o;
	int status = run_config(argc, argv, &dc, &o);
	if (status)
		return status == RUN_CONFIG_HELP ? 0 : status;
	status = DOMUS_EXIT_ERROR;
	char err[512];
	struct host_info host;
	struct machine_build *b = NULL;
	host_detect(&host);
	if (!host.kvm_usable) {
		log_err("KVM: %s", host.why);
		goto out;
	}
	b = malloc(sizeof(*b));
	if (!b) {
		log_err("out of memory");
		goto out;
	}
	if (machine_build(b, &dc, host.mode, err, sizeof(err)) < 0) {
		log_err("%s", err);
		free(b);
		b = NULL;
		goto out;
	}
	if (b->mc.cmdline && dc.cmdline && strcmp(b->mc.cmdline, dc.cmdline))
		log_debug("kernel command line for this %s host: %s", host_mode_name(host.mode),
			  b->mc.cmdline);

	/* Process signals are taken synchronously through a signalfd on this thread. */
	int sfd = stop_signals_fd();
	if (sfd < 0) {
		log_err("signalfd: %s", strerror(-sfd));
		goto out;
	}

	struct runner r = { .lock = PTHREAD_MUTEX_INITIALIZER,
			    .name = dc.name };
	struct control ctl = { .listen_fd = -1 };
	if (o.control) {
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
	b->mc.persist = &persist;
	if (machine_build_open_hvc(b, err, sizeof(err)) < 0) {
		log_err("%s", err);
		console_close(&con);
		if (o.control)
			control_close(&ctl);
		close(sfd);
		goto out;
	}
	const struct machine_config mc = b->mc;
	struct machine *m = calloc(1, sizeof(*m));
	for (;;) {
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
	console_close(&con);
	if (o.control) {
		control_close(&ctl);
		unlink(o.control);
	}
	close(sfd);
out:
	if (b)
		machine_build_free(b);
	free(b);
	domcfg_free(&dc);
	return status;
}
