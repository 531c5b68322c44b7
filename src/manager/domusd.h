/* domusd, domain zero: the registry of domains, their monitors, and the API.
 *
 * Threads: the main thread runs the supervision loop (one pidfd per running monitor, signals);
 * libmicrohttpd runs one thread per API connection. Every field of struct domusd and of the
 * domains is guarded by d->lock; d->changed is broadcast whenever a domain is added, changes
 * state or goes away. Nothing slow (spawning a monitor, talking to its control socket) runs
 * with the lock held: a domain being started is reserved in the registry first (DOM_STARTING),
 * so its name and ID stay taken meanwhile. */
#ifndef DOMUS_DOMUSD_H
#define DOMUS_DOMUSD_H
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "config/domcfg.h"
#include "manager/domain_files.h"

#define DOMID_FIRST 1
#define DOMID_MAX 0x7FEF /* xl's last ordinary domain ID */
#define SPAWN_TIMEOUT_MS 60000
#define CONTROL_TIMEOUT_MS 5000
#define SCREENSHOT_TIMEOUT_MS 30000
#define DUMP_TIMEOUT_MS 170000 /* under the CLI's 180 s for an API reply */

enum dom_state {
	DOM_STARTING, /* monitor being started */
	DOM_RUNNING,  /* monitor up (the guest may be paused) */
	DOM_SHUTDOWN, /* ended by power-off or reboot and preserved (xl 's') */
	DOM_CRASHED,  /* crashed and preserved (xl 'c') */
	DOM_DYING,    /* being destroyed (xl 'd') */
};

struct domain {
	struct domain *next;
	char name[DOMUS_NAME_MAX + 32]; /* room for "--incarnation-N" */
	unsigned domid;
	enum dom_state state;
	struct domain_config dc; /* as built at create time, paths absolute */
	char *source;            /* the config file (absolute), for messages */
	int pid, pidfd;
	char token[33];
	time_t created;     /* when this domain ID started */
	unsigned restarts;  /* restarts of the name so far */
	int paused;         /* last known */
	int shutdown_requested, destroy_requested;
	int reboot_requested; /* domus reboot pressed the power button: a power-off is a reboot */
	int pending_start;  /* reserved for a restart: the supervision loop starts it */
	char exit_reason[16], exit_msg[256]; /* preserved domains: why it ended */
};

struct domusd {
	struct domus_paths paths;
	char vmm_bin[4096];
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct domain *domains;
	unsigned next_domid;
	int wake_fd;        /* eventfd: the supervision loop re-reads the registry */
	time_t started;
};

/* registry.c */
int domusd_init(struct domusd *d, const char *state_dir, char *err, size_t errlen);
struct domain *dom_find(struct domusd *d, const char *ref); /* name or ID */
struct domain *dom_find_id(struct domusd *d, unsigned domid);
/* Reserve a new domain ID and add a record in DOM_STARTING. NULL if the name is taken
 * (EEXIST) or no ID is free (ENOSPC). */
struct domain *dom_reserve(struct domusd *d, const char *name, const struct domain_config *dc,
			   const char *source);
void dom_save(struct domusd *d, struct domain *dom);
/* Unlink from the registry and delete its run directory. */
void dom_remove(struct domusd *d, struct domain *dom);
void dom_dir(const struct domusd *d, unsigned domid, const char *file, char *out, size_t len);
void dom_log(const struct domusd *d, const char *name, const char *kind, char *out, size_t len);
const char *dom_state_name(enum dom_state s);
/* Reload domain records after a restart of domusd; see supervisor.c for reattaching. */
void domusd_load(struct domusd *d);
void domusd_wake(struct domusd *d);

/* supervisor.c */
/* Start the monitor of dom (DOM_STARTING, lock NOT held); on success the domain is
 * DOM_RUNNING. Returns 0, or -1 with err set (the domain is then removed). */
int dom_start(struct domusd *d, struct domain *dom, char *err, size_t errlen);
/* Ask the monitor of a running domain; the reply or NULL with err (lock NOT held). */
struct json_object *dom_control(struct domusd *d, unsigned domid, const char *cmd, char *err,
				size_t errlen);
/* The same for commands that take a while (screenshot, dump-core). */
struct json_object *dom_control_wait(struct domusd *d, unsigned domid, const char *cmd,
				     int timeout_ms, char *err, size_t errlen);
/* Where on_crash=coredump-* puts the core of domain name: LIB/dump/NAME.core. */
void dom_core_path(const struct domusd *d, const char *name, char *out, size_t len);
/* Monitor ended (lock held): read exit.json, apply on_poweroff/on_reboot/on_crash. A domain
 * to restart is reserved with pending_start set; the supervision loop starts it. */
void dom_ended(struct domusd *d, struct domain *dom);
/* Reattach to running monitors found by domusd_load (lock held). */
void domusd_reattach(struct domusd *d);
/* The supervision loop; returns when a signal asks domusd to stop. */
int domusd_supervise(struct domusd *d, int sig_fd);

/* api.c */
struct MHD_Daemon;
struct MHD_Daemon *api_start(struct domusd *d, const char *socket_path, char *err,
			     size_t errlen);
void api_stop(struct MHD_Daemon *daemon);

#endif
