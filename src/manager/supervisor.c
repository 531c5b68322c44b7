/* Starting monitors, noticing their end, applying on_poweroff/on_reboot/on_crash, and finding
 * running monitors again after a restart of domusd. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/atomic_file.h"
#include "manager/domusd.h"
#include "lib/control.h"
#include "lib/log.h"

#define MAX_ARGS 24

static int pidfd_open_(int pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int make_token(char out[33])
{
	unsigned char r[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, r, sizeof(r)) != (ssize_t)sizeof(r)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
	return 0;
}

/* Read "ready PID" or "error: why" from the monitor, up to timeout_ms. */
static int wait_ready(int fd, int *pid, char *err, size_t errlen)
{
	char buf[700];
	size_t got = 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long long left = SPAWN_TIMEOUT_MS - ((now.tv_sec - t0.tv_sec) * 1000LL +
						      (now.tv_nsec - t0.tv_nsec) / 1000000);
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			snprintf(err, errlen, "the monitor did not start within %d s",
				 SPAWN_TIMEOUT_MS / 1000);
			return -1;
		}
		ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || (got += (size_t)n) == sizeof(buf) - 1)
			break;
	}
	buf[got] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if (sscanf(buf, "ready %d", pid) == 1 && *pid > 0)
		return 0;
	if (!strncmp(buf, "error: ", 7))
		snprintf(err, errlen, "%s", buf + 7);
	else
		snprintf(err, errlen, "the monitor exited before it was ready (see its log)");
	return -1;
}

int dom_start(struct domusd *d, struct domain *dom, char *err, size_t errlen)
{
	char dir[PATH_MAX], conlog[PATH_MAX], vmmlog[PATH_MAX], path[PATH_MAX], core[PATH_MAX];
	char domid[16], fdnum[16];
	pthread_mutex_lock(&d->lock);
	struct json_object *cfg = domcfg_to_json(&dom->dc);
	enum domcfg_action on_crash = dom->dc.on_crash;
	int r = cfg ? 0 : -ENOMEM;
	unsigned id = dom->domid;
	char name[sizeof(dom->name)];
	snprintf(name, sizeof(name), "%s", dom->name);
	if (r == 0 && make_token(dom->token) < 0)
		r = -EIO;
	char token[sizeof(dom->token)];
	snprintf(token, sizeof(token), "%s", dom->token);
	dom_save(d, dom);
	pthread_mutex_unlock(&d->lock);
	if (r < 0) {
		snprintf(err, errlen, "cannot start the monitor: %s", strerror(-r));
		goto fail;
	}

	dom_dir(d, id, NULL, dir, sizeof(dir));
	dom_dir(d, id, DOMAIN_EXIT_FILE, path, sizeof(path));
	unlink(path);
	dom_log(d, name, "console", conlog, sizeof(conlog));
	dom_log(d, name, "vmm", vmmlog, sizeof(vmmlog));
	snprintf(domid, sizeof(domid), "%u", id);
	snprintf(fdnum, sizeof(fdnum), "%d", 3);
	const char *argv[MAX_ARGS];
	int n = 0;
	argv[n++] = "domus-vmm";
	argv[n++] = "--dir", argv[n++] = dir;
	argv[n++] = "--name", argv[n++] = name;
	argv[n++] = "--domid", argv[n++] = domid;
	argv[n++] = "--token", argv[n++] = token;
	argv[n++] = "--ready-fd", argv[n++] = fdnum;
	argv[n++] = "--console-log", argv[n++] = conlog;
	/* The settings go to the monitor as a file in its directory, readable by root only: a
	 * record, not an argv re-encoding, and nothing in it shows in ps. */
	char cfgpath[PATH_MAX];
	dom_dir(d, id, DOMAIN_CONFIG_FILE, cfgpath, sizeof(cfgpath));
	const char *text = json_object_to_json_string_ext(cfg, JSON_C_TO_STRING_PRETTY);
	r = atomic_write_file(cfgpath, text, strlen(text), 0600);
	if (r < 0) {
		snprintf(err, errlen, "cannot start the monitor: %s: %s", cfgpath, strerror(-r));
		goto fail;
	}
	argv[n++] = "--config", argv[n++] = cfgpath;
	if (on_crash == DOMCFG_ACTION_COREDUMP_DESTROY ||
	    on_crash == DOMCFG_ACTION_COREDUMP_RESTART) {
		dom_core_path(d, name, core, sizeof(core));
		argv[n++] = "--core-on-crash", argv[n++] = core;
	}
	argv[n] = NULL;

	int logfd = open(vmmlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	int nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	int pfd[2];
	if (logfd < 0 || nullfd < 0 || pipe2(pfd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "cannot start the monitor: %s: %s",
			 logfd < 0 ? vmmlog : "pipe", strerror(errno));
		if (logfd >= 0)
			close(logfd);
		if (nullfd >= 0)
			close(nullfd);
		goto fail;
	}
	/* Double fork in a new session: the monitor is nobody's child but init's, so it outlives
	 * domusd, and no domusd has to reap it. Only async-signal-safe calls after fork. */
	pid_t c1 = fork();
	if (c1 == 0) {
		setsid();
		if (fork() == 0) {
			dup2(nullfd, 0);
			dup2(logfd, 1);
			dup2(logfd, 2);
			dup2(pfd[1], 3);
			syscall(SYS_close_range, 4, ~0u, 0);
			sigset_t none;
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			execv(d->vmm_bin, (char *const *)(uintptr_t)argv);
			static const char msg[] = "error: cannot run the monitor program\n";
			if (write(3, msg, sizeof(msg) - 1) < 0)
				_exit(127);
			_exit(127);
		}
		_exit(0);
	}
	close(pfd[1]);
	close(logfd);
	close(nullfd);
	if (c1 < 0) {
		snprintf(err, errlen, "cannot start the monitor: fork: %s", strerror(errno));
		close(pfd[0]);
		goto fail;
	}
	waitpid(c1, NULL, 0);
	int pid = 0;
	r = wait_ready(pfd[0], &pid, err, errlen);
	close(pfd[0]);
	if (r < 0)
		goto fail;
	int pidfd = pidfd_open_(pid);

	pthread_mutex_lock(&d->lock);
	dom->pid = pid;
	dom->pidfd = pidfd; /* -1: it is gone already; the loop notices through kill(0) */
	dom->state = DOM_RUNNING;
	dom->created = time(NULL);
	dom_save(d, dom);
	pthread_cond_broadcast(&d->changed);
	pthread_mutex_unlock(&d->lock);
	domusd_wake(d);
	json_object_put(cfg);
	log_info("domain %s (%u) started: monitor pid %d", name, id, pid);
	return 0;
fail:
	json_object_put(cfg);
	pthread_mutex_lock(&d->lock);
	dom_remove(d, dom);
	pthread_mutex_unlock(&d->lock);
	return -1;
}

struct json_object *dom_control(struct domusd *d, unsigned domid, const char *cmd, char *err,
				size_t errlen)
{
	return dom_control_wait(d, domid, cmd, CONTROL_TIMEOUT_MS, err, errlen);
}

struct json_object *dom_control_wait(struct domusd *d, unsigned domid, const char *cmd,
				     int timeout_ms, char *err, size_t errlen)
{
	char path[PATH_MAX];
	dom_dir(d, domid, DOMAIN_CONTROL_SOCK, path, sizeof(path));
	struct json_object *o = control_call(path, cmd, timeout_ms, err, errlen);
	if (!o)
		return NULL;
	struct json_object *ok, *e;
	if (!json_object_object_get_ex(o, "ok", &ok) || !json_object_get_boolean(ok)) {
		snprintf(err, errlen, "%s",
			 json_object_object_get_ex(o, "error", &e) ? json_object_get_string(e)
								   : "the monitor refused");
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Why the monitor of dom ended: from exit.json when it is the one we started, else a crash. */
static void read_exit(struct domusd *d, struct domain *dom, char *reason, size_t rlen,
		      char *msg, size_t mlen, char *core, size_t clen)
{
	core[0] = 0;
	char path[PATH_MAX];
	dom_dir(d, dom->domid, DOMAIN_EXIT_FILE, path, sizeof(path));
	char *text = read_small_file(path, 65536, NULL);
	struct json_object *o = text ? json_tokener_parse(text) : NULL, *v;
	free(text);
	const char *tok = o && json_object_object_get_ex(o, "token", &v) ? json_object_get_string(v)
									: NULL;
	if (o && tok && !strcmp(tok, dom->token) && json_object_object_get_ex(o, "reason", &v)) {
		snprintf(reason, rlen, "%s", json_object_get_string(v));
		snprintf(msg, mlen, "%s",
			 json_object_object_get_ex(o, "message", &v) ? json_object_get_string(v)
								     : "");
		if (json_object_object_get_ex(o, "core", &v))
			snprintf(core, clen, "core in %s", json_object_get_string(v));
		else if (json_object_object_get_ex(o, "core_error", &v))
			snprintf(core, clen, "no core: %s", json_object_get_string(v));
	} else {
		snprintf(reason, rlen, "crash");
		snprintf(msg, mlen, "the monitor (pid %d) died without saying why (killed?)",
			 dom->pid);
	}
	if (o)
		json_object_put(o);
}

void dom_ended(struct domusd *d, struct domain *dom)
{
	char reason[16], msg[256], core[PATH_MAX + 16];
	read_exit(d, dom, reason, sizeof(reason), msg, sizeof(msg), core, sizeof(core));
	if (dom->pidfd >= 0)
		close(dom->pidfd);
	dom->pidfd = -1;
	dom->pid = 0;
	log_info("domain %s (%u) ended: %s%s%s", dom->name, dom->domid, reason, msg[0] ? ": " : "",
		 msg);
	if (dom->destroy_requested || !strcmp(reason, "destroyed")) {
		dom_remove(d, dom);
		return;
	}
	/* domus reboot asked through the power button: the power-off it led to is the reboot. */
	if (dom->reboot_requested && !strcmp(reason, "poweroff")) {
		snprintf(reason, sizeof(reason), "reboot");
		log_info("domain %s: powered off after domus reboot: on_reboot applies", dom->name);
	}
	enum domcfg_action a = !strcmp(reason, "poweroff") ? dom->dc.on_poweroff
			       : !strcmp(reason, "reboot") ? dom->dc.on_reboot
							   : dom->dc.on_crash;
	if (a == DOMCFG_ACTION_COREDUMP_DESTROY || a == DOMCFG_ACTION_COREDUMP_RESTART) {
		/* The monitor writes the core (it owns the memory), for crashes only: a guest
		 * that powered off or rebooted left nothing to examine. */
		if (core[0])
			log_info("domain %s: on_crash=%s: %s", dom->name, domcfg_action_name(a),
				 core);
		else
			log_warn("domain %s: on_%s=%s: no core (%s)", dom->name,
				 !strcmp(reason, "poweroff") ? "poweroff"
				 : !strcmp(reason, "reboot") ? "reboot"
							     : "crash",
				 domcfg_action_name(a),
				 strcmp(reason, "crash") ? "cores are taken of crashes only"
							 : "the monitor died with the guest's memory");
	}
	int crashed = strcmp(reason, "poweroff") && strcmp(reason, "reboot");
	switch (a) {
	case DOMCFG_ACTION_PRESERVE:
	case DOMCFG_ACTION_RENAME_RESTART:
		dom->state = crashed ? DOM_CRASHED : DOM_SHUTDOWN;
		snprintf(dom->exit_reason, sizeof(dom->exit_reason), "%s", reason);
		snprintf(dom->exit_msg, sizeof(dom->exit_msg), "%s", msg);
		if (a == DOMCFG_ACTION_RENAME_RESTART) {
			/* xl keeps the old domain under a new name and starts the config again. */
			char old[sizeof(dom->name)];
			snprintf(old, sizeof(old), "%s", dom->name);
			snprintf(dom->name, sizeof(dom->name), "%.*s--incarnation-%u",
				 DOMUS_NAME_MAX, old, dom->restarts);
			struct domain *n = dom_reserve(d, old, &dom->dc, dom->source);
			if (n) {
				n->restarts = dom->restarts + 1;
				n->pending_start = 1;
			} else {
				log_err("domain %s: cannot restart: %s", old, strerror(errno));
			}
		}
		dom_save(d, dom);
		pthread_cond_broadcast(&d->changed);
		return;
	case DOMCFG_ACTION_RESTART:
	case DOMCFG_ACTION_COREDUMP_RESTART: {
		struct domain_config dc = dom->dc;
		char name[sizeof(dom->name)], *source = dom->source;
		unsigned restarts = dom->restarts + 1;
		/* The config moves to the new record: dom_remove must not free it. */
		memset(&dom->dc, 0, sizeof(dom->dc));
		dom->source = NULL;
		snprintf(name, sizeof(name), "%s", dom->name);
		dom_remove(d, dom);
		struct domain *n = dom_reserve(d, name, &dc, source ? source : "config");
		domcfg_free(&dc);
		free(source);
		if (n) {
			n->restarts = restarts;
			n->pending_start = 1;
		} else {
			log_err("domain %s: cannot restart: %s", name, strerror(errno));
		}
		return;
	}
	default:
		dom_remove(d, dom);
		return;
	}
}

/* Is pid the monitor we started with this token? (/proc/PID/cmdline holds "--token\0T") */
static int is_our_monitor(int pid, const char *token)
{
	char path[64];
	size_t len = 0;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	char *s = read_small_file(path, 1 << 20, &len);
	int ok = 0;
	for (size_t i = 0; s && i < len; i += strlen(s + i) + 1)
		if (!strcmp(s + i, "--token") && i + 8 < len && !strcmp(s + i + 8, token))
			ok = 1;
	free(s);
	return ok;
}

void domusd_reattach(struct domusd *d)
{
	for (struct domain *dom = d->domains, *next; dom; dom = next) {
		next = dom->next;
		if (dom->state == DOM_SHUTDOWN || dom->state == DOM_CRASHED)
			continue;
		int fd = -1;
		if (dom->pid > 0 && dom->token[0] && is_our_monitor(dom->pid, dom->token)) {
			fd = pidfd_open_(dom->pid);
			/* The pid might have been recycled between the check and the open. */
			if (fd >= 0 && !is_our_monitor(dom->pid, dom->token)) {
				close(fd);
				fd = -1;
			}
		}
		if (fd >= 0) {
			dom->pidfd = fd;
			if (dom->state == DOM_STARTING)
				dom->state = DOM_RUNNING;
			log_info("domain %s (%u): reattached to monitor pid %d", dom->name,
				 dom->domid, dom->pid);
			/* A destroy that the previous domusd did not see through. */
			if (dom->destroy_requested &&
			    syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0) < 0)
				log_warn("domain %s: cannot stop the monitor: %s", dom->name,
					 strerror(errno));
			dom_save(d, dom);
			continue;
		}
		/* It ended while domusd was away: apply what the config says now. */
		dom_ended(d, dom);
	}
}

/* Start the domains that dom_ended reserved for a restart (lock held; dropped meanwhile). */
static void start_pending(struct domusd *d)
{
	for (;;) {
		struct domain *dom = d->domains;
		while (dom && !dom->pending_start)
			dom = dom->next;
		if (!dom)
			return;
		dom->pending_start = 0;
		pthread_mutex_unlock(&d->lock);
		char err[512];
		if (dom_start(d, dom, err, sizeof(err)) < 0)
			log_err("restart failed: %s", err);
		pthread_mutex_lock(&d->lock);
	}
}

int domusd_supervise(struct domusd *d, int sig_fd)
{
	pthread_mutex_lock(&d->lock);
	domusd_reattach(d);
	start_pending(d);
	for (;;) {
		size_t cap = 2;
		for (struct domain *dom = d->domains; dom; dom = dom->next)
			cap++;
		struct pollfd *p = calloc(cap, sizeof(*p));
		struct domain **who = calloc(cap, sizeof(*who));
		if (!p || !who) {
			free(p);
			free(who);
			pthread_mutex_unlock(&d->lock);
			return -ENOMEM;
		}
		size_t n = 0;
		p[n++] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = d->wake_fd, .events = POLLIN };
		int lost = 0;
		for (struct domain *dom = d->domains; dom; dom = dom->next) {
			if (dom->state != DOM_RUNNING && dom->state != DOM_DYING)
				continue;
			if (dom->pidfd < 0) {
				/* No pidfd (the monitor died at once): poll its pid instead. */
				if (dom->pid <= 0 || kill(dom->pid, 0) < 0 ||
				    !is_our_monitor(dom->pid, dom->token))
					lost = 1;
				continue;
			}
			who[n] = dom;
			p[n++] = (struct pollfd){ .fd = dom->pidfd, .events = POLLIN };
		}
		pthread_mutex_unlock(&d->lock);
		int r = lost ? 0 : poll(p, n, 1000);
		pthread_mutex_lock(&d->lock);
		if (r < 0 && errno != EINTR) {
			int e = errno;
			free(p);
			free(who);
			pthread_mutex_unlock(&d->lock);
			return -e;
		}
		if (p[0].revents) {
			struct signalfd_siginfo si;
			if (read(sig_fd, &si, sizeof(si)) == sizeof(si)) {
				log_info("stopping on signal %d (%s); the domains keep running",
					 (int)si.ssi_signo, strsignal((int)si.ssi_signo));
				free(p);
				free(who);
				pthread_mutex_unlock(&d->lock);
				return 0;
			}
		}
		if (p[1].revents) {
			uint64_t v;
			if (read(d->wake_fd, &v, sizeof(v)) < 0)
				log_debug("wake: %s", strerror(errno));
		}
		/* Domains may have gone while unlocked: look each one up again. */
		for (size_t i = 2; i < n; i++) {
			if (!p[i].revents)
				continue;
			for (struct domain *dom = d->domains; dom; dom = dom->next)
				if (dom == who[i] && dom->pidfd == p[i].fd) {
					dom_ended(d, dom);
					break;
				}
		}
		if (lost) {
			for (struct domain *dom = d->domains, *next; dom; dom = next) {
				next = dom->next;
				if ((dom->state == DOM_RUNNING || dom->state == DOM_DYING) &&
				    dom->pidfd < 0 &&
				    (dom->pid <= 0 || kill(dom->pid, 0) < 0 ||
				     !is_our_monitor(dom->pid, dom->token)))
					dom_ended(d, dom);
			}
		}
		free(p);
		free(who);
		start_pending(d);
	}
}
