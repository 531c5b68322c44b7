/* The domusd API: HTTP/1.1 + JSON on a Unix socket (libmicrohttpd, json-c). docs/api.yaml is
 * the reference; every error is {"error": "why"} with a 4xx/5xx status. */
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "config/cpuset.h"
#include "config/domcfg.h"
#include "config/xlcfg.h"
#include "manager/domusd.h"
#include "lib/json_get.h"
#include "vmm/kvm_host.h"
#include "lib/log.h"

#define BODY_MAX (1u << 20)
#define DESTROY_WAIT_S 15
#define MAX_OVERRIDES 64
/* "vcpu-pin VCPU CPUS": the API takes CPU lists up to 4096 bytes (config/cpuset.c). */
#define CONTROL_CMD_MAX 4200

struct request {
	char *body;
	size_t len;
	int too_big;
};

struct reply {
	unsigned status;
	struct json_object *json;
};

static void set_error(struct reply *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_error(struct reply *r, unsigned status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r->json)
		json_object_put(r->json);
	r->status = status;
	r->json = json_object_new_object();
	json_object_object_add(r->json, "error", json_object_new_string(msg));
}

static uint64_t meminfo_kib(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	unsigned long long v = 0;
	size_t kl = strlen(key);
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':' &&
		    sscanf(line + kl + 1, "%llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

static double self_cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void add_s(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

/* Domain-0 as xl shows it: the host, with domusd's own CPU time. */
static struct json_object *dom0_json(struct domusd *d)
{
	struct json_object *o = json_object_new_object();
	add_s(o, "name", "Domain-0");
	json_object_object_add(o, "domid", json_object_new_int(0));
	add_s(o, "state", "running");
	add_s(o, "flags", "r-----");
	json_object_object_add(o, "memory_mib",
			       json_object_new_int64((int64_t)(meminfo_kib("MemTotal") / 1024)));
	json_object_object_add(o, "vcpus", json_object_new_int((int)sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_object_add(o, "cpu_time_s", json_object_new_double(self_cpu_s()));
	json_object_object_add(o, "uptime_s",
			       json_object_new_int64((int64_t)(time(NULL) - d->started)));
	json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
	return o;
}

/* What the registry knows (lock held); add_live() adds the monitor's view afterwards. */
static struct json_object *dom_json(struct domusd *d, struct domain *dom)
{
	char path[PATH_MAX];
	struct json_object *o = json_object_new_object();
	add_s(o, "name", dom->name);
	json_object_object_add(o, "domid", json_object_new_int((int)dom->domid));
	add_s(o, "state", dom_state_name(dom->state));
	add_s(o, "flags", dom->state == DOM_SHUTDOWN  ? "---s--"
			  : dom->state == DOM_CRASHED ? "----c-"
			  : dom->state == DOM_DYING   ? "-----d"
						      : "------");
	/* The domain's settings, in their one JSON form, as fields of the domain; the API calls
	 * the config file "config". */
	struct json_object *cfg = domcfg_to_json(&dom->dc);
	if (cfg) {
		json_object_object_foreach(cfg, k, v) {
			if (strcmp(k, "name"))
				json_object_object_add(o, k, json_object_get(v));
		}
		json_object_put(cfg);
	}
	add_s(o, "config", dom->source);
	json_object_object_add(o, "cpu_time_s", json_object_new_double(0));
	json_object_object_add(o, "uptime_s",
			       json_object_new_int64((int64_t)(time(NULL) - dom->created)));
	json_object_object_add(o, "created", json_object_new_int64((int64_t)dom->created));
	json_object_object_add(o, "pid", dom->pid ? json_object_new_int(dom->pid) : NULL);
	json_object_object_add(o, "restarts", json_object_new_int((int)dom->restarts));
	json_object_object_add(o, "paused", json_object_new_boolean(dom->paused));
	json_object_object_add(o, "shutdown_requested",
			       json_object_new_boolean(dom->shutdown_requested));
	json_object_object_add(o, "reboot_requested",
			       json_object_new_boolean(dom->reboot_requested));
	dom_dir(d, dom->domid, DOMAIN_CONSOLE_SOCK, path, sizeof(path));
	add_s(o, "console_socket", path);
	dom_log(d, dom->name, "console", path, sizeof(path));
	add_s(o, "console_log", path);
	dom_log(d, dom->name, "vmm", path, sizeof(path));
	add_s(o, "vmm_log", path);
	if (dom->exit_reason[0]) {
		struct json_object *e = json_object_new_object();
		add_s(e, "reason", dom->exit_reason);
		add_s(e, "message", dom->exit_msg);
		json_object_object_add(o, "exit", e);
	}
	return o;
}

/* The monitor's live view: CPU time, paused, running now, memory (lock NOT held). */
static void add_live(struct domusd *d, struct json_object *o)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, "state", &v) ||
	    strcmp(json_object_get_string(v), "running"))
		return;
	unsigned domid = (unsigned)json_get_i64(o, "domid");
	char err[256];
	struct json_object *s = dom_control(d, domid, "status", err, sizeof(err));
	if (!s) {
		add_s(o, "monitor_error", err);
		return;
	}
	int paused = (int)json_get_i64(s, "paused");
	json_object_object_get_ex(s, "running_now", &v);
	int now = v && json_object_get_boolean(v);
	add_s(o, "state", paused ? "paused" : now ? "running" : "blocked");
	add_s(o, "flags", paused ? "--p---" : now ? "r-----" : "-b----");
	json_object_object_add(o, "paused", json_object_new_boolean(paused));
	json_object_object_add(o, "cpu_time_s",
			       json_object_new_double((double)json_get_i64(s, "cpu_ns") / 1e9));
	if (json_object_object_get_ex(s, "vcpu_ns", &v)) {
		struct json_object *arr = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(v); i++)
			json_object_array_add(
				arr, json_object_new_double(
					     (double)json_object_get_int64(json_object_array_get_idx(v, i)) /
					     1e9));
		json_object_object_add(o, "vcpu_time_s", arr);
	}
	json_object_object_add(o, "monitor_cpu_time_s",
			       json_object_new_double((double)json_get_i64(s, "process_cpu_ns") / 1e9));
	json_object_object_add(o, "rss_kib", json_object_new_int64(json_get_i64(s, "rss_kib")));
	json_object_object_add(o, "console_bytes",
			       json_object_new_int64(json_get_i64(s, "console_bytes")));
	json_object_put(s);
}

static void list_domains(struct domusd *d, struct reply *r)
{
	struct json_object *arr = json_object_new_array();
	json_object_array_add(arr, dom0_json(d));
	pthread_mutex_lock(&d->lock);
	for (struct domain *dom = d->domains; dom; dom = dom->next)
		json_object_array_add(arr, dom_json(d, dom));
	pthread_mutex_unlock(&d->lock);
	for (size_t i = 1; i < json_object_array_length(arr); i++)
		add_live(d, json_object_array_get_idx(arr, i));
	r->status = MHD_HTTP_OK;
	r->json = arr;
}

static void host_info(struct domusd *d, struct reply *r)
{
	struct host_info h;
	host_detect(&h);
	struct json_object *o = json_object_new_object();
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	add_s(o, "host", host);
	add_s(o, "host_virtualization", host_mode_name(h.mode));
	json_object_object_add(o, "kvm_usable", json_object_new_boolean(h.kvm_usable));
	if (!h.kvm_usable)
		add_s(o, "kvm_problem", h.why);
	json_object_object_add(o, "nr_cpus", json_object_new_int((int)sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_object_add(o, "total_memory_mib",
			       json_object_new_int64((int64_t)(meminfo_kib("MemTotal") / 1024)));
	json_object_object_add(o, "free_memory_mib",
			       json_object_new_int64((int64_t)(meminfo_kib("MemAvailable") / 1024)));
	json_object_object_add(o, "domusd_pid", json_object_new_int((int)getpid()));
	json_object_object_add(o, "domusd_uptime_s",
			       json_object_new_int64((int64_t)(time(NULL) - d->started)));
	add_s(o, "lib_dir", d->paths.lib);
	add_s(o, "run_dir", d->paths.run);
	int n = 0, running = 0;
	uint64_t mem = 0;
	pthread_mutex_lock(&d->lock);
	for (struct domain *dom = d->domains; dom; dom = dom->next) {
		n++;
		if (dom->state == DOM_RUNNING) {
			running++;
			mem += dom->dc.memory_mib;
		}
	}
	pthread_mutex_unlock(&d->lock);
	json_object_object_add(o, "nr_domains", json_object_new_int(n));
	json_object_object_add(o, "nr_running", json_object_new_int(running));
	json_object_object_add(o, "domains_memory_mib", json_object_new_int64((int64_t)mem));
	r->status = MHD_HTTP_OK;
	r->json = o;
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* Parse and check the config into dc, its paths made absolute against the client's directory,
 * and *source (the file, absolute). 0, or -1 with r set. */
static int build_config(struct json_object *body, struct domain_config *dc, char **source_out,
			struct reply *r)
{
	const char *text = jstr(body, "config"), *source = jstr(body, "source"),
		   *cwd = jstr(body, "cwd");
	struct json_object *ov = NULL;
	char err[1024];
	if (!text) {
		set_error(r, MHD_HTTP_BAD_REQUEST, "the request has no \"config\" (xl.cfg text)");
		return -1;
	}
	if (!source)
		source = "config";
	struct xlcfg *cfg = xlcfg_new();
	if (!cfg) {
		set_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		return -1;
	}
	int rc = xlcfg_parse(cfg, source, text, strlen(text), err, sizeof(err));
	if (rc == 0 && json_object_object_get_ex(body, "overrides", &ov)) {
		size_t n = json_object_array_length(ov);
		for (size_t i = 0; rc == 0 && i < n && i < MAX_OVERRIDES; i++) {
			const char *o = json_object_get_string(json_object_array_get_idx(ov, i));
			rc = xlcfg_parse_override(cfg, o ? o : "", err, sizeof(err));
		}
	}
	memset(dc, 0, sizeof(*dc));
	if (rc == 0)
		rc = domcfg_build(cfg, dc, err, sizeof(err));
	xlcfg_free(cfg);
	if (rc < 0) {
		set_error(r, MHD_HTTP_BAD_REQUEST, "%s", err);
		return -1;
	}
	char *abs_source = NULL;
	if (domcfg_check_support(dc, source, err, sizeof(err)) < 0) {
		set_error(r, MHD_HTTP_BAD_REQUEST, "%s", err);
		rc = -1;
	} else if (dc->type != DOMCFG_TYPE_HVM && !dc->kernel) {
		set_error(r, MHD_HTTP_BAD_REQUEST, "%s: no kernel= given (type \"%s\" boots a "
			  "kernel directly; type \"hvm\" boots firmware)", source,
			  domcfg_type_name(dc->type));
		rc = -1;
	} else if (domcfg_make_absolute(dc, cwd) < 0 ||
		   (cwd && source[0] != '/' ? asprintf(&abs_source, "%s/%s", cwd, source) < 0
					    : !(abs_source = strdup(source)))) {
		set_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		abs_source = NULL;
		rc = -1;
	}
	if (rc < 0)
		domcfg_free(dc);
	*source_out = abs_source;
	return rc;
}

static void create_domain(struct domusd *d, struct json_object *body, struct reply *r)
{
	struct domain_config dc;
	char name[DOMUS_NAME_MAX + 1], err[1024], *source = NULL;
	if (build_config(body, &dc, &source, r) < 0)
		return;
	snprintf(name, sizeof(name), "%s", dc.name);
	if (!strcmp(name, "Domain-0")) {
		domcfg_free(&dc);
		free(source);
		set_error(r, MHD_HTTP_BAD_REQUEST, "the name Domain-0 belongs to the host");
		return;
	}
	pthread_mutex_lock(&d->lock);
	struct domain *dom = dom_reserve(d, name, &dc, source);
	if (!dom) {
		int e = errno;
		struct domain *o = dom_find(d, name);
		if (e == EEXIST && o)
			set_error(r, MHD_HTTP_CONFLICT,
				  "a domain named %s exists already (ID %u); names are unique", name,
				  o->domid);
		else
			set_error(r, MHD_HTTP_SERVICE_UNAVAILABLE, "cannot add domain %s: %s", name,
				  strerror(e));
		pthread_mutex_unlock(&d->lock);
		domcfg_free(&dc);
		free(source);
		return;
	}
	unsigned domid = dom->domid;
	pthread_mutex_unlock(&d->lock);
	domcfg_free(&dc);
	free(source);
	if (dom_start(d, dom, err, sizeof(err)) < 0) {
		set_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "domain %s: %s", name, err);
		return;
	}
	pthread_mutex_lock(&d->lock);
	dom = dom_find_id(d, domid);
	r->json = dom ? dom_json(d, dom) : NULL;
	pthread_mutex_unlock(&d->lock);
	if (!r->json) {
		/* It ran and already ended (a guest that crashes at once) and its on_* action
		 * removed it: created all the same, as xl create says. */
		char log[PATH_MAX];
		dom_log(d, name, "vmm", log, sizeof(log));
		r->json = json_object_new_object();
		add_s(r->json, "name", name);
		json_object_object_add(r->json, "domid", json_object_new_int((int)domid));
		add_s(r->json, "state", "ended");
		add_s(r->json, "vmm_log", log);
	}
	r->status = MHD_HTTP_CREATED;
}

/* Look up ref; on failure r is set. Lock held. */
static struct domain *find_or_404(struct domusd *d, const char *ref, struct reply *r)
{
	struct domain *dom = dom_find(d, ref);
	if (!dom)
		set_error(r, MHD_HTTP_NOT_FOUND, "no domain '%s'", ref);
	return dom;
}

static void get_domain(struct domusd *d, const char *ref, struct reply *r)
{
	if (!strcmp(ref, "0") || !strcmp(ref, "Domain-0")) {
		r->status = MHD_HTTP_OK;
		r->json = dom0_json(d);
		return;
	}
	pthread_mutex_lock(&d->lock);
	struct domain *dom = find_or_404(d, ref, r);
	if (dom)
		r->json = dom_json(d, dom);
	pthread_mutex_unlock(&d->lock);
	if (dom) {
		add_live(d, r->json);
		r->status = MHD_HTTP_OK;
	}
}

static void destroy_domain(struct domusd *d, const char *ref, struct reply *r)
{
	char err[512];
	pthread_mutex_lock(&d->lock);
	struct domain *dom = find_or_404(d, ref, r);
	if (!dom) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	unsigned domid = dom->domid;
	char name[sizeof(dom->name)];
	snprintf(name, sizeof(name), "%s", dom->name);
	if (dom->state == DOM_STARTING) {
		set_error(r, MHD_HTTP_CONFLICT, "domain %s is being started; try again", name);
		pthread_mutex_unlock(&d->lock);
		return;
	}
	if (dom->state == DOM_SHUTDOWN || dom->state == DOM_CRASHED) {
		dom_remove(d, dom);
	} else {
		dom->destroy_requested = 1;
		dom->state = DOM_DYING;
		dom_save(d, dom);
		int pidfd = dom->pidfd >= 0 ? dup(dom->pidfd) : -1;
		pthread_mutex_unlock(&d->lock);
		struct json_object *o = dom_control(d, domid, "destroy", err, sizeof(err));
		if (o) {
			json_object_put(o);
		} else if (pidfd >= 0) {
			/* The monitor does not answer: cut it off. */
			log_warn("domain %s: %s; killing its monitor", name, err);
			if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0)
				log_err("domain %s: kill: %s", name, strerror(errno));
		}
		if (pidfd >= 0)
			close(pidfd);
		pthread_mutex_lock(&d->lock);
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += DESTROY_WAIT_S;
		while ((dom = dom_find_id(d, domid)) && dom->destroy_requested)
			if (pthread_cond_timedwait(&d->changed, &d->lock, &until) == ETIMEDOUT)
				break;
		if (dom && dom->destroy_requested) {
			set_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR,
				  "domain %s is still dying after %d s", name, DESTROY_WAIT_S);
			pthread_mutex_unlock(&d->lock);
			return;
		}
	}
	pthread_mutex_unlock(&d->lock);
	r->status = MHD_HTTP_OK;
	r->json = json_object_new_object();
	add_s(r->json, "destroyed", name);
	json_object_object_add(r->json, "domid", json_object_new_int((int)domid));
}

/* The "file" of a screenshot or dump-core request: an absolute path (the CLI sends its
 * argument made absolute), written by the monitor; NULL with r set otherwise. */
static const char *file_arg(struct json_object *body, const char *action, struct reply *r)
{
	const char *f = body ? jstr(body, "file") : NULL;
	if (!f || f[0] != '/' || strlen(f) >= PATH_MAX || strchr(f, '\n')) {
		set_error(r, MHD_HTTP_BAD_REQUEST,
			  "%s: the body must be {\"file\": \"/absolute/path\"}", action);
		return NULL;
	}
	return f;
}

/* A running domain's ID and name for a request to its monitor; 0 with r set otherwise. */
static unsigned running_domid(struct domusd *d, const char *ref, char *name, size_t nlen,
			      unsigned *vcpus, struct reply *r)
{
	pthread_mutex_lock(&d->lock);
	struct domain *dom = find_or_404(d, ref, r);
	if (dom && dom->state != DOM_RUNNING) {
		set_error(r, MHD_HTTP_CONFLICT, "domain %s is not running (%s)", dom->name,
			  dom_state_name(dom->state));
		dom = NULL;
	}
	unsigned domid = dom ? dom->domid : 0;
	if (dom) {
		snprintf(name, nlen, "%s", dom->name);
		if (vcpus)
			*vcpus = dom->dc.vcpus;
	}
	pthread_mutex_unlock(&d->lock);
	return domid;
}

/* pause, unpause, shutdown, reboot, reset, screenshot, dump-core: one control command to a
 * running domain. */
static void domain_action(struct domusd *d, const char *ref, const char *action,
			  struct json_object *body, struct reply *r)
{
	static const struct {
		const char *action, *cmd;
		int timeout_ms;
	} map[] = { { "pause", "pause", CONTROL_TIMEOUT_MS },
		    { "unpause", "unpause", CONTROL_TIMEOUT_MS },
		    { "shutdown", "power-button", CONTROL_TIMEOUT_MS },
		    /* xl reboot asks the guest; the reset button is reset (domus reboot -f) */
		    { "reboot", "power-button", CONTROL_TIMEOUT_MS },
		    { "reset", "reset", CONTROL_TIMEOUT_MS },
		    { "screenshot", "screenshot", SCREENSHOT_TIMEOUT_MS },
		    { "dump-core", "dump-core", DUMP_TIMEOUT_MS } };
	const char *verb = NULL;
	int timeout_ms = CONTROL_TIMEOUT_MS;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(action, map[i].action)) {
			verb = map[i].cmd;
			timeout_ms = map[i].timeout_ms;
		}
	if (!strcmp(action, "destroy")) {
		destroy_domain(d, ref, r);
		return;
	}
	if (!verb) {
		set_error(r, MHD_HTTP_NOT_FOUND,
			  "no action '%s' (pause, unpause, shutdown, reboot, reset, destroy, "
			  "screenshot, dump-core)", action);
		return;
	}
	char cmd[PATH_MAX + 32];
	const char *file = NULL;
	if (!strcmp(action, "screenshot") || !strcmp(action, "dump-core")) {
		if (!(file = file_arg(body, action, r)))
			return;
		snprintf(cmd, sizeof(cmd), "%s %s", verb, file);
	} else {
		snprintf(cmd, sizeof(cmd), "%s", verb);
	}
	char name[sizeof(((struct domain *)0)->name)];
	unsigned domid = running_domid(d, ref, name, sizeof(name), NULL, r);
	if (!domid)
		return;
	struct domain *dom;
	char err[512];
	/* Recorded before the button is pressed: the guest may power off at once. */
	int is_shutdown = !strcmp(action, "shutdown"), is_reboot = !strcmp(action, "reboot");
	if (is_shutdown || is_reboot) {
		pthread_mutex_lock(&d->lock);
		dom = dom_find_id(d, domid);
		if (dom) {
			dom->shutdown_requested = is_shutdown;
			dom->reboot_requested = is_reboot;
			dom_save(d, dom);
		}
		pthread_mutex_unlock(&d->lock);
	}
	struct json_object *o = dom_control_wait(d, domid, cmd, timeout_ms, err, sizeof(err));
	if (!o) {
		set_error(r, MHD_HTTP_CONFLICT, "domain %s: %s: %s", name, action, err);
		if (is_reboot) {
			pthread_mutex_lock(&d->lock);
			if ((dom = dom_find_id(d, domid))) {
				dom->reboot_requested = 0;
				dom_save(d, dom);
			}
			pthread_mutex_unlock(&d->lock);
		}
		return;
	}
	pthread_mutex_lock(&d->lock);
	dom = dom_find_id(d, domid);
	if (dom) {
		if (!strcmp(action, "pause"))
			dom->paused = 1;
		else if (!strcmp(action, "unpause"))
			dom->paused = 0;
		dom_save(d, dom);
	}
	pthread_mutex_unlock(&d->lock);
	r->status = is_shutdown || is_reboot || !strcmp(action, "reset") ? MHD_HTTP_ACCEPTED
									  : MHD_HTTP_OK;
	r->json = json_object_new_object();
	add_s(r->json, "name", name);
	json_object_object_add(r->json, "domid", json_object_new_int((int)domid));
	add_s(r->json, "done", action);
	struct json_object *v;
	if (file)
		add_s(r->json, "file", file);
	if (json_object_object_get_ex(o, "seconds", &v))
		json_object_object_add(r->json, "seconds", json_object_get(v));
	json_object_put(o);
}

static void console_info(struct domusd *d, const char *ref, struct reply *r)
{
	pthread_mutex_lock(&d->lock);
	struct domain *dom = find_or_404(d, ref, r);
	if (dom) {
		char path[PATH_MAX];
		r->status = MHD_HTTP_OK;
		r->json = json_object_new_object();
		add_s(r->json, "name", dom->name);
		json_object_object_add(r->json, "domid", json_object_new_int((int)dom->domid));
		add_s(r->json, "state", dom_state_name(dom->state));
		dom_dir(d, dom->domid, DOMAIN_CONSOLE_SOCK, path, sizeof(path));
		add_s(r->json, "socket", path);
		dom_log(d, dom->name, "console", path, sizeof(path));
		add_s(r->json, "log", path);
	}
	pthread_mutex_unlock(&d->lock);
}

/* GET /v1/domains/REF/vcpus: the monitor's vcpu-list. */
static void vcpu_list(struct domusd *d, const char *ref, struct reply *r)
{
	char name[DOMUS_NAME_MAX + 32], err[512];
	unsigned domid = running_domid(d, ref, name, sizeof(name), NULL, r);
	if (!domid)
		return;
	struct json_object *o = dom_control(d, domid, "vcpu-list", err, sizeof(err));
	if (!o) {
		set_error(r, MHD_HTTP_CONFLICT, "domain %s: vcpu-list: %s", name, err);
		return;
	}
	json_object_object_del(o, "ok");
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "domid", json_object_new_int((int)domid));
	r->status = MHD_HTTP_OK;
	r->json = o;
}

/* POST /v1/domains/REF/vcpus/VCPU/pin {"cpus": "CPULIST"}: VCPU a number or "all". */
static void vcpu_pin(struct domusd *d, const char *ref, const char *vcpu,
		     struct json_object *body, struct reply *r)
{
	const char *cpus = body ? jstr(body, "cpus") : NULL;
	char e[384], name[DOMUS_NAME_MAX + 32], err[512];
	cpu_set_t set;
	if (!cpus) {
		set_error(r, MHD_HTTP_BAD_REQUEST, "the body must be {\"cpus\": "
			  "\"CPULIST\"} (xl syntax: all, 0-3,5,^1, node:0)");
		return;
	}
	if (cpuset_parse(cpus, NULL, &set, e, sizeof(e)) < 0) {
		set_error(r, MHD_HTTP_BAD_REQUEST, "CPUs \"%.64s\": %s", cpus, e);
		return;
	}
	int all = !strcmp(vcpu, "all");
	unsigned long v = 0;
	char *end = NULL;
	if (!all && (vcpu[0] < '0' || vcpu[0] > '9' || strlen(vcpu) > 4 ||
		     (v = strtoul(vcpu, &end, 10), *end))) {
		set_error(r, MHD_HTTP_BAD_REQUEST, "'%s' is not a vCPU number or all",
			  vcpu);
		return;
	}
	unsigned nvcpus = 0;
	unsigned domid = running_domid(d, ref, name, sizeof(name), &nvcpus, r);
	if (!domid)
		return;
	if (!all && v >= nvcpus) {
		set_error(r, MHD_HTTP_BAD_REQUEST, "domain %s has no vCPU %lu (it has %u: "
			  "0-%u)", name, v, nvcpus, nvcpus ? nvcpus - 1 : 0);
		return;
	}
	char cmd[CONTROL_CMD_MAX];
	snprintf(cmd, sizeof(cmd), "vcpu-pin %s %s", vcpu, cpus);
	struct json_object *o = dom_control(d, domid, cmd, err, sizeof(err));
	if (!o) {
		/* the monitor names the command ("vcpu-pin: why"); the client does too */
		const char *why = strncmp(err, "vcpu-pin: ", 10) ? err : err + 10;
		set_error(r, MHD_HTTP_CONFLICT, "domain %s: %s", name, why);
		return;
	}
	r->status = MHD_HTTP_OK;
	r->json = json_object_new_object();
	add_s(r->json, "name", name);
	json_object_object_add(r->json, "domid", json_object_new_int((int)domid));
	add_s(r->json, "done", "vcpu-pin");
	struct json_object *val;
	if (json_object_object_get_ex(o, "vcpu", &val))
		json_object_object_add(r->json, "vcpu", json_object_get(val));
	if (json_object_object_get_ex(o, "affinity", &val))
		json_object_object_add(r->json, "affinity", json_object_get(val));
	json_object_put(o);
}

/* A request's body as JSON; NULL when there is none or it does not parse. */
static struct json_object *parse_body(const char *body, size_t len)
{
	if (!body || !len)
		return NULL;
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o = tok ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
	if (tok)
		json_tokener_free(tok);
	return o;
}

/* Route one request. Paths: /v1/host, /v1/domains, /v1/domains/REF[/ACTION]. */
static void route(struct domusd *d, const char *method, const char *url, const char *body,
		  size_t len, struct reply *r)
{
	char ref[128] = "", action[32] = "", vcpu[16] = "";
	int get = !strcmp(method, "GET"), post = !strcmp(method, "POST"),
	    del = !strcmp(method, "DELETE");
	if (!strcmp(url, "/v1/host") && get) {
		host_info(d, r);
	} else if (!strcmp(url, "/v1/domains") && get) {
		list_domains(d, r);
	} else if (!strcmp(url, "/v1/domains") && post) {
		struct json_object *o = parse_body(body, len);
		if (!o || !json_object_is_type(o, json_type_object))
			set_error(r, MHD_HTTP_BAD_REQUEST, "the body is not a JSON object");
		else
			create_domain(d, o, r);
		if (o)
			json_object_put(o);
	} else if (sscanf(url, "/v1/domains/%127[^/]/vcpus/%15[^/]/%31[^/]", ref, vcpu, action) ==
		   3) {
		struct json_object *o = parse_body(body, len);
		if (strcmp(action, "pin"))
			set_error(r, MHD_HTTP_NOT_FOUND, "no such resource: %s %s (see docs/api.yaml)",
				  method, url);
		else if (!post)
			set_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s %s: use POST", method, url);
		else if (!o || !json_object_is_type(o, json_type_object))
			set_error(r, MHD_HTTP_BAD_REQUEST, "the body is not a JSON object");
		else
			vcpu_pin(d, ref, vcpu, o, r);
		if (o)
			json_object_put(o);
	} else if (sscanf(url, "/v1/domains/%127[^/]/%31[^/]", ref, action) == 2 &&
		   !strcmp(action, "vcpus") && !strchr(url + strlen("/v1/domains/") + strlen(ref) +
						       strlen("/vcpus"), '/')) {
		if (get)
			vcpu_list(d, ref, r);
		else
			set_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s %s: use GET", method, url);
	} else if (sscanf(url, "/v1/domains/%127[^/]/%31[^/]", ref, action) == 2) {
		if (!strcmp(action, "console") && get) {
			console_info(d, ref, r);
		} else if (post) {
			struct json_object *o = parse_body(body, len);
			if (len && (!o || !json_object_is_type(o, json_type_object)))
				set_error(r, MHD_HTTP_BAD_REQUEST, "the body is not a JSON object");
			else
				domain_action(d, ref, action, o, r);
			if (o)
				json_object_put(o);
		} else {
			set_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s %s: use POST", method, url);
		}
	} else if (sscanf(url, "/v1/domains/%127[^/]", ref) == 1) {
		if (get)
			get_domain(d, ref, r);
		else if (del)
			destroy_domain(d, ref, r);
		else
			set_error(r, MHD_HTTP_METHOD_NOT_ALLOWED, "%s %s: use GET or DELETE",
				  method, url);
	} else {
		set_error(r, MHD_HTTP_NOT_FOUND, "no such resource: %s %s (see docs/api.yaml)",
			  method, url);
	}
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	(void)version;
	struct domusd *d = cls;
	struct request *req = *con_cls;
	if (!req) {
		req = calloc(1, sizeof(*req));
		if (!req)
			return MHD_NO;
		*con_cls = req;
		return MHD_YES;
	}
	if (*upload_size) {
		if (req->len + *upload_size > BODY_MAX) {
			req->too_big = 1;
		} else {
			char *nb = realloc(req->body, req->len + *upload_size + 1);
			if (!nb)
				return MHD_NO;
			memcpy(nb + req->len, upload, *upload_size);
			req->body = nb;
			req->len += *upload_size;
			req->body[req->len] = 0;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	struct reply r = { 0 };
	if (req->too_big)
		set_error(&r, MHD_HTTP_CONTENT_TOO_LARGE, "request body over %u bytes", BODY_MAX);
	else
		route(d, method, url, req->body, req->len, &r);
	if (!r.json)
		set_error(&r, MHD_HTTP_INTERNAL_SERVER_ERROR, "no reply");
	const char *s = json_object_to_json_string_ext(r.json, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t slen = strlen(s);
	char *text = malloc(slen + 2);
	if (!text) {
		json_object_put(r.json);
		return MHD_NO;
	}
	memcpy(text, s, slen);
	text[slen] = '\n';
	text[slen + 1] = 0;
	json_object_put(r.json);
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(slen + 1, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(c, r.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)c, (void)toe;
	struct request *req = *con_cls;
	if (req) {
		free(req->body);
		free(req);
		*con_cls = NULL;
	}
}

struct MHD_Daemon *api_start(struct domusd *d, const char *socket_path, char *err, size_t errlen)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(socket_path) >= sizeof(a.sun_path)) {
		snprintf(err, errlen, "%s: path too long for a Unix socket", socket_path);
		return NULL;
	}
	strcpy(a.sun_path, socket_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	unlink(socket_path);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 128) < 0) {
		snprintf(err, errlen, "%s: %s", socket_path, strerror(errno));
		close(fd);
		return NULL;
	}
	struct MHD_Daemon *daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
		0, NULL, NULL, handler, d, MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_NOTIFY_COMPLETED, completed, d, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)120, MHD_OPTION_END);
	if (!daemon) {
		snprintf(err, errlen, "%s: the HTTP server did not start", socket_path);
		close(fd);
		unlink(socket_path);
	}
	return daemon;
}

void api_stop(struct MHD_Daemon *daemon)
{
	if (daemon)
		MHD_stop_daemon(daemon);
}
