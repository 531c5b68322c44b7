/* The registry of domains and its on-disk form (RUN/domains/ID/domain.json). */
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lib/json_get.h"
#include "lib/atomic_file.h"
#include "manager/domusd.h"
#include "lib/log.h"

#define RECORD_MAX (256u << 10)

static const char *const state_names[] = {
	[DOM_STARTING] = "starting", [DOM_RUNNING] = "running", [DOM_SHUTDOWN] = "shutdown",
	[DOM_CRASHED] = "crashed",   [DOM_DYING] = "dying",
};

const char *dom_state_name(enum dom_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : "?";
}

void dom_dir(const struct domusd *d, unsigned domid, const char *file, char *out, size_t len)
{
	if (file)
		snprintf(out, len, "%s/domains/%u/%s", d->paths.run, domid, file);
	else
		snprintf(out, len, "%s/domains/%u", d->paths.run, domid);
}

void dom_log(const struct domusd *d, const char *name, const char *kind, char *out, size_t len)
{
	snprintf(out, len, "%s/logs/%s.%s.log", d->paths.lib, name, kind);
}

void dom_core_path(const struct domusd *d, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/dump/%s.core", d->paths.lib, name);
}

static void save_next_domid(struct domusd *d)
{
	char path[PATH_MAX], buf[32];
	snprintf(path, sizeof(path), "%s/next-domid", d->paths.lib);
	int n = snprintf(buf, sizeof(buf), "%u\n", d->next_domid);
	int r = atomic_write_file(path, buf, (size_t)n, 0644);
	if (r < 0)
		log_err("%s: %s", path, strerror(-r));
}

void domusd_wake(struct domusd *d)
{
	uint64_t one = 1;
	if (write(d->wake_fd, &one, sizeof(one)) < 0)
		log_debug("wake: %s", strerror(errno));
}

int domusd_init(struct domusd *d, const char *state_dir, char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->changed, &ca);
	pthread_condattr_destroy(&ca);
	d->started = time(NULL);
	d->next_domid = DOMID_FIRST;
	domus_paths_init(&d->paths, state_dir);
	char path[PATH_MAX];
	const char *dirs[] = { d->paths.lib, d->paths.run, d->paths.lib };
	const char *subs[] = { "logs", "domains", "dump" };
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dirs[i], subs[i]);
		/* cores hold guest memory: for root's eyes only */
		int r = make_dirs(path, i == 2 ? 0700 : 0755);
		if (r < 0) {
			snprintf(err, errlen, "cannot create %s: %s", path, strerror(-r));
			return -1;
		}
	}
	snprintf(path, sizeof(path), "%s/next-domid", d->paths.lib);
	char *s = read_small_file(path, 64, NULL);
	if (s) {
		unsigned long v = strtoul(s, NULL, 10);
		if (v >= DOMID_FIRST && v <= DOMID_MAX)
			d->next_domid = (unsigned)v;
		free(s);
	}
	d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->wake_fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		return -1;
	}
	return 0;
}

struct domain *dom_find_id(struct domusd *d, unsigned domid)
{
	for (struct domain *dom = d->domains; dom; dom = dom->next)
		if (dom->domid == domid)
			return dom;
	return NULL;
}

struct domain *dom_find(struct domusd *d, const char *ref)
{
	for (struct domain *dom = d->domains; dom; dom = dom->next)
		if (!strcmp(dom->name, ref))
			return dom;
	char *end;
	unsigned long id = strtoul(ref, &end, 10);
	if (*ref && !*end && id <= DOMID_MAX)
		return dom_find_id(d, (unsigned)id);
	return NULL;
}

/* Domain IDs go up like xl's and are not reused until they wrap. */
static int next_free_domid(struct domusd *d, unsigned *out)
{
	for (unsigned tries = 0; tries <= DOMID_MAX; tries++) {
		unsigned id = d->next_domid;
		d->next_domid = id >= DOMID_MAX ? DOMID_FIRST : id + 1;
		if (!dom_find_id(d, id)) {
			*out = id;
			return 0;
		}
	}
	return -ENOSPC;
}

struct domain *dom_reserve(struct domusd *d, const char *name, const struct domain_config *dc,
			   const char *source)
{
	for (struct domain *o = d->domains; o; o = o->next) {
		if (!strcmp(o->name, name)) {
			errno = EEXIST;
			return NULL;
		}
	}
	struct domain *dom = calloc(1, sizeof(*dom));
	if (!dom || domcfg_copy(&dom->dc, dc) < 0 || !(dom->source = strdup(source))) {
		if (dom)
			domcfg_free(&dom->dc);
		free(dom);
		errno = ENOMEM;
		return NULL;
	}
	if (next_free_domid(d, &dom->domid) < 0) {
		domcfg_free(&dom->dc);
		free(dom->source);
		free(dom);
		errno = ENOSPC;
		return NULL;
	}
	save_next_domid(d);
	snprintf(dom->name, sizeof(dom->name), "%s", name);
	dom->state = DOM_STARTING;
	dom->pidfd = -1;
	dom->created = time(NULL);
	/* Newest last, so that list shows domains in ID order. */
	struct domain **pp = &d->domains;
	while (*pp)
		pp = &(*pp)->next;
	*pp = dom;
	pthread_cond_broadcast(&d->changed);
	return dom;
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_string(v));
}

void dom_save(struct domusd *d, struct domain *dom)
{
	char path[PATH_MAX];
	dom_dir(d, dom->domid, NULL, path, sizeof(path));
	int r = make_dirs(path, 0755);
	if (r < 0) {
		log_err("%s: %s", path, strerror(-r));
		return;
	}
	struct json_object *o = json_object_new_object();
	add_str(o, "name", dom->name);
	json_object_object_add(o, "domid", json_object_new_int((int)dom->domid));
	add_str(o, "state", dom_state_name(dom->state));
	json_object_object_add(o, "pid", json_object_new_int(dom->pid));
	add_str(o, "token", dom->token);
	json_object_object_add(o, "created", json_object_new_int64((int64_t)dom->created));
	json_object_object_add(o, "restarts", json_object_new_int((int)dom->restarts));
	json_object_object_add(o, "paused", json_object_new_boolean(dom->paused));
	json_object_object_add(o, "shutdown_requested",
			       json_object_new_boolean(dom->shutdown_requested));
	json_object_object_add(o, "reboot_requested",
			       json_object_new_boolean(dom->reboot_requested));
	json_object_object_add(o, "destroy_requested",
			       json_object_new_boolean(dom->destroy_requested));
	add_str(o, "exit_reason", dom->exit_reason);
	add_str(o, "exit_message", dom->exit_msg);
	add_str(o, "source", dom->source);
	json_object_object_add(o, "config", domcfg_to_json(&dom->dc));
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	strncat(path, "/" DOMAIN_STATE_FILE, sizeof(path) - strlen(path) - 1);
	r = atomic_write_file(path, s, strlen(s), 0644);
	if (r < 0)
		log_err("%s: %s", path, strerror(-r));
	json_object_put(o);
}

void dom_remove(struct domusd *d, struct domain *dom)
{
	for (struct domain **pp = &d->domains; *pp; pp = &(*pp)->next) {
		if (*pp == dom) {
			*pp = dom->next;
			break;
		}
	}
	const char *files[] = { DOMAIN_STATE_FILE, DOMAIN_EXIT_FILE, DOMAIN_CONTROL_SOCK,
				DOMAIN_CONSOLE_SOCK, DOMAIN_CONFIG_FILE };
	char path[PATH_MAX];
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		dom_dir(d, dom->domid, files[i], path, sizeof(path));
		unlink(path);
	}
	dom_dir(d, dom->domid, NULL, path, sizeof(path));
	if (rmdir(path) < 0 && errno != ENOENT)
		log_warn("%s: %s", path, strerror(errno));
	if (dom->pidfd >= 0)
		close(dom->pidfd);
	domcfg_free(&dom->dc);
	free(dom->source);
	free(dom);
	pthread_cond_broadcast(&d->changed);
}

/* One record from disk; NULL (and a warning) if it is unreadable. */
static struct domain *load_record(struct domusd *d, unsigned domid)
{
	char path[PATH_MAX];
	dom_dir(d, domid, DOMAIN_STATE_FILE, path, sizeof(path));
	char *text = read_small_file(path, RECORD_MAX, NULL);
	if (!text)
		return NULL;
	struct json_object *o = json_tokener_parse(text);
	free(text);
	const char *name = o ? json_get_str(o, "name") : NULL, *state = o ? json_get_str(o, "state") : NULL;
	struct domain *dom = calloc(1, sizeof(*dom));
	if (!name || !state || !dom || (unsigned)json_get_i64(o, "domid") != domid) {
		log_warn("%s: not a domain record; ignored", path);
		free(dom);
		if (o)
			json_object_put(o);
		return NULL;
	}
	snprintf(dom->name, sizeof(dom->name), "%s", name);
	dom->domid = domid;
	dom->state = DOM_RUNNING;
	for (int s = DOM_STARTING; s <= DOM_DYING; s++)
		if (!strcmp(state, dom_state_name((enum dom_state)s)))
			dom->state = (enum dom_state)s;
	dom->pid = (int)json_get_i64(o, "pid");
	dom->pidfd = -1;
	snprintf(dom->token, sizeof(dom->token), "%s", json_get_str(o, "token") ? json_get_str(o, "token") : "");
	dom->created = (time_t)json_get_i64(o, "created");
	dom->restarts = (unsigned)json_get_i64(o, "restarts");
	dom->paused = (int)json_get_i64(o, "paused");
	dom->shutdown_requested = (int)json_get_i64(o, "shutdown_requested");
	dom->reboot_requested = (int)json_get_i64(o, "reboot_requested");
	dom->destroy_requested = (int)json_get_i64(o, "destroy_requested");
	snprintf(dom->exit_reason, sizeof(dom->exit_reason), "%s",
		 json_get_str(o, "exit_reason") ? json_get_str(o, "exit_reason") : "");
	snprintf(dom->exit_msg, sizeof(dom->exit_msg), "%s",
		 json_get_str(o, "exit_message") ? json_get_str(o, "exit_message") : "");
	struct json_object *cfg = NULL;
	char why[512] = "no \"config\" (a record from an older Domus?)";
	const char *source = json_get_str(o, "source");
	int r = json_object_object_get_ex(o, "config", &cfg)
			? domcfg_from_json(cfg, &dom->dc, why, sizeof(why))
			: -EINVAL;
	if (r == 0 && !(dom->source = strdup(source ? source : "config"))) {
		domcfg_free(&dom->dc);
		r = -ENOMEM;
	}
	if (r < 0)
		log_warn("%s: config: %s; ignored", path, r == -ENOMEM ? "out of memory" : why);
	json_object_put(o);
	if (r < 0) {
		free(dom);
		return NULL;
	}
	return dom;
}

void domusd_load(struct domusd *d)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/domains", d->paths.run);
	struct dirent **ents = NULL;
	int n = scandir(path, &ents, NULL, versionsort);
	for (int i = 0; i < n; i++) {
		char *end;
		unsigned long id = strtoul(ents[i]->d_name, &end, 10);
		if (ents[i]->d_name[0] != '.' && !*end && id >= DOMID_FIRST && id <= DOMID_MAX &&
		    !dom_find_id(d, (unsigned)id)) {
			struct domain *dom = load_record(d, (unsigned)id);
			if (dom) {
				struct domain **pp = &d->domains;
				while (*pp)
					pp = &(*pp)->next;
				*pp = dom;
				if (id >= d->next_domid)
					d->next_domid = id >= DOMID_MAX ? DOMID_FIRST
									: (unsigned)id + 1;
			}
		}
		free(ents[i]);
	}
	free(ents);
}
