/* xl's domain verbs over the domusd API: create, list, shutdown, reboot, destroy, pause,
 * unpause, uptime. Each is a thin client: domusd does the work. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/api_client.h"
#include "cli/cli.h"
#include "lib/atomic_file.h"
#include "lib/log.h"

#define CONFIG_MAX (1u << 20)
#define SHUTDOWN_TIMEOUT_S 60

static int want_help(int argc, char **argv, const char *text)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(text, stdout);
			return 1;
		}
	}
	return 0;
}

int cmd_create(int argc, char **argv)
{
	static const char help[] =
		"usage: domus create [-c] FILE.cfg [KEY=VALUE...]\n"
		"Creates a domain from an xl.cfg file through domusd; KEY=VALUE settings override\n"
		"the file's (as with xl). -c attaches to its console (Ctrl-] detaches).\n";
	if (want_help(argc, argv, help))
		return 0;
	int console = 0, i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-c")) {
			console = 1;
		} else {
			log_err("create: unknown option '%s'", argv[i]);
			fputs(help, stderr);
			return DOMUS_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		fputs(help, stderr);
		return DOMUS_EXIT_USAGE;
	}
	const char *file = argv[i++];
	size_t len = 0;
	char *text = read_small_file(file, CONFIG_MAX, &len);
	if (!text) {
		log_err("create: %s: %s", file, strerror(errno));
		return DOMUS_EXIT_ERROR;
	}
	if (strlen(text) != len) {
		log_err("create: %s: not a text file (it holds a NUL byte)", file);
		free(text);
		return DOMUS_EXIT_ERROR;
	}
	struct json_object *body = json_object_new_object(), *ov = json_object_new_array();
	for (; i < argc; i++) {
		if (!strchr(argv[i], '=')) {
			log_err("create: '%s' is not KEY=VALUE", argv[i]);
			json_object_put(body);
			json_object_put(ov);
			free(text);
			return DOMUS_EXIT_USAGE;
		}
		json_object_array_add(ov, json_object_new_string(argv[i]));
	}
	char cwd[PATH_MAX];
	json_object_object_add(body, "config", json_object_new_string(text));
	json_object_object_add(body, "source", json_object_new_string(file));
	json_object_object_add(body, "overrides", ov);
	if (getcwd(cwd, sizeof(cwd)))
		json_object_object_add(body, "cwd", json_object_new_string(cwd));
	free(text);
	printf("Parsing config from %s\n", file);
	fflush(stdout);
	struct json_object *r = api_do("create", "POST", "/v1/domains", body);
	json_object_put(body);
	if (!r)
		return DOMUS_EXIT_ERROR;
	char name[128];
	snprintf(name, sizeof(name), "%s", json_str(r, "name", "?"));
	printf("Domain %s created (ID %lld)\n", name, json_int(r, "domid", -1));
	fflush(stdout);
	json_object_put(r);
	if (console) {
		char *args[] = { "console", name, NULL };
		return cmd_console(2, args);
	}
	return 0;
}

/* xl's state column: r running, b blocked, p paused, s shutdown, c crashed, d dying. */
static void print_list(struct json_object *arr, int argc, char **argv)
{
	printf("%-40s %5s %5s %5s %10s %9s\n", "Name", "ID", "Mem", "VCPUs", "State", "Time(s)");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *d = json_object_array_get_idx(arr, i);
		const char *name = json_str(d, "name", "?");
		int wanted = argc == 0;
		char id[16];
		snprintf(id, sizeof(id), "%lld", json_int(d, "domid", -1));
		for (int k = 0; k < argc; k++)
			if (api_domain_is(d, argv[k]))
				wanted = 1;
		if (!wanted)
			continue;
		printf("%-40s %5s %5lld %5lld %10s %9.1f\n", name, id, json_int(d, "memory_mib", 0),
		       json_int(d, "vcpus", 0), json_str(d, "flags", "------"),
		       json_num(d, "cpu_time_s", 0));
	}
}

int cmd_list(int argc, char **argv)
{
	static const char help[] =
		"usage: domus list [-l] [NAME|ID...]\n"
		"Lists domains as xl does: Name ID Mem(MiB) VCPUs State Time(s); State letters:\n"
		"r running, b blocked (idle), p paused, s shut down, c crashed, d dying.\n"
		"-l prints everything domusd knows, as JSON.\n";
	if (want_help(argc, argv, help))
		return 0;
	int json = 0, i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-l") || !strcmp(argv[i], "--long")) {
			json = 1;
		} else {
			log_err("list: unknown option '%s'", argv[i]);
			fputs(help, stderr);
			return DOMUS_EXIT_USAGE;
		}
	}
	struct json_object *r = api_do("list", "GET", "/v1/domains", NULL);
	if (!r)
		return DOMUS_EXIT_ERROR;
	if (!json_object_is_type(r, json_type_array)) {
		log_err("list: domusd sent no list");
		json_object_put(r);
		return DOMUS_EXIT_ERROR;
	}
	int status = api_domains_found("list", r, argc - i, argv + i) ? 0 : DOMUS_EXIT_ERROR;
	if (json) {
		struct json_object *sel = json_object_new_array();
		for (size_t j = 0; j < json_object_array_length(r); j++) {
			struct json_object *d = json_object_array_get_idx(r, j);
			int wanted = i == argc;
			for (int k = i; k < argc; k++)
				if (api_domain_is(d, argv[k]))
					wanted = 1;
			if (wanted)
				json_object_array_add(sel, json_object_get(d));
		}
		puts(json_object_to_json_string_ext(sel, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(sel);
	} else {
		print_list(r, argc - i, argv + i);
	}
	json_object_put(r);
	return status;
}

/* POST /v1/domains/REF/ACTION; prints nothing on success. */
static int simple_action(int argc, char **argv, const char *verb, const char *action,
			 const char *help)
{
	if (want_help(argc, argv, help))
		return 0;
	if (argc != 2 || argv[1][0] == '-') {
		fputs(help, stderr);
		return DOMUS_EXIT_USAGE;
	}
	if (!api_ref_ok(verb, argv[1]))
		return DOMUS_EXIT_ERROR;
	char path[256];
	snprintf(path, sizeof(path), "/v1/domains/%s/%s", argv[1], action);
	struct json_object *r = api_do(verb, "POST", path, NULL);
	if (!r)
		return DOMUS_EXIT_ERROR;
	json_object_put(r);
	return 0;
}

int cmd_destroy(int argc, char **argv)
{
	return simple_action(argc, argv, "destroy", "destroy",
			     "usage: domus destroy NAME|ID\n"
			     "Ends a domain at once (the power cord), whatever its on_* settings.\n");
}

int cmd_pause(int argc, char **argv)
{
	return simple_action(argc, argv, "pause", "pause",
			     "usage: domus pause NAME|ID\nStops the domain's vCPUs until unpause.\n");
}

int cmd_unpause(int argc, char **argv)
{
	return simple_action(argc, argv, "unpause", "unpause",
			     "usage: domus unpause NAME|ID\nLets a paused domain run again.\n");
}

int cmd_reboot(int argc, char **argv)
{
	static const char help[] =
		"usage: domus reboot [-f|--force] NAME|ID\n"
		"Asks the guest to reboot, as xl reboot does: Domus presses its ACPI power button,\n"
		"and when the guest has powered off, on_reboot applies (restart, the default:\n"
		"the same config starts again under a new domain ID, as with xl). A guest that\n"
		"ignores the button keeps running.\n"
		"-f, --force: the reset button instead; the guest is not asked (on_reboot\n"
		"applies at once).\n";
	int force = 0, i = 1;
	if (want_help(argc, argv, help))
		return 0;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--force")) {
			force = 1;
		} else {
			log_err("reboot: unknown option '%s'", argv[i]);
			fputs(help, stderr);
			return DOMUS_EXIT_USAGE;
		}
	}
	char *args[] = { argv[0], i < argc ? argv[i] : NULL, NULL };
	if (i != argc - 1) {
		fputs(help, stderr);
		return DOMUS_EXIT_USAGE;
	}
	return simple_action(2, args, "reboot", force ? "reset" : "reboot", help);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int cmd_shutdown(int argc, char **argv)
{
	static const char help[] =
		"usage: domus shutdown [-w] [-t SECONDS] NAME|ID\n"
		"Asks the guest to power off by pressing its ACPI power button. -w waits until the\n"
		"domain has ended (at most -t seconds, default 60); a guest that ignores the button\n"
		"keeps running (`domus destroy` cuts the power).\n";
	if (want_help(argc, argv, help))
		return 0;
	int wait = 0, c;
	double timeout = SHUTDOWN_TIMEOUT_S;
	optind = 1;
	opterr = 0;
	while ((c = getopt(argc, argv, "+wt:")) != -1) {
		if (c == 'w') {
			wait = 1;
		} else if (c == 't') {
			char *end;
			timeout = strtod(optarg, &end);
			if (*end || end == optarg || timeout <= 0) {
				log_err("shutdown: -t %s: not a number of seconds", optarg);
				return DOMUS_EXIT_USAGE;
			}
		} else {
			fputs(help, stderr);
			return DOMUS_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(help, stderr);
		return DOMUS_EXIT_USAGE;
	}
	const char *ref = argv[optind];
	if (!api_ref_ok("shutdown", ref))
		return DOMUS_EXIT_ERROR;
	char path[256];
	snprintf(path, sizeof(path), "/v1/domains/%s/shutdown", ref);
	struct json_object *r = api_do("shutdown", "POST", path, NULL);
	if (!r)
		return DOMUS_EXIT_ERROR;
	long long domid = json_int(r, "domid", -1);
	char name[128];
	snprintf(name, sizeof(name), "%s", json_str(r, "name", ref));
	json_object_put(r);
	if (!wait)
		return 0;
	/* Wait for this domain ID to end: a restart comes back under a new ID, as with xl. */
	snprintf(path, sizeof(path), "/v1/domains/%lld", domid);
	double until = now_s() + timeout;
	for (;;) {
		char err[1024];
		struct json_object *o = NULL;
		int status = api_call("GET", path, NULL, &o, err, sizeof(err));
		if (status < 0) {
			log_err("shutdown: %s", err);
			return DOMUS_EXIT_ERROR;
		}
		const char *state = json_str(o, "state", "");
		int ended = status == 404 || !strcmp(state, "shutdown") || !strcmp(state, "crashed");
		if (o)
			json_object_put(o);
		if (ended) {
			printf("Domain %s (ID %lld) has shut down\n", name, domid);
			return 0;
		}
		if (now_s() > until) {
			log_err("shutdown: domain %s (ID %lld) is still running after %.0f s: the "
				"guest did not power off (`domus destroy %s` cuts the power)",
				name, domid, timeout, name);
			return DOMUS_EXIT_ERROR;
		}
		usleep(100000);
	}
}

static void format_uptime(char *out, size_t len, long long s)
{
	long long days = s / 86400;
	s %= 86400;
	if (days)
		snprintf(out, len, "%lld day%s, %lld:%02lld:%02lld", days, days == 1 ? "" : "s",
			 s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(out, len, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
}

int cmd_uptime(int argc, char **argv)
{
	static const char help[] = "usage: domus uptime [NAME|ID...]\n"
				   "How long each domain (and Domain-0: domusd) has been up.\n";
	if (want_help(argc, argv, help))
		return 0;
	struct json_object *r = api_do("uptime", "GET", "/v1/domains", NULL);
	if (!r)
		return DOMUS_EXIT_ERROR;
	printf("%-40s %5s %s\n", "Name", "ID", "Uptime");
	for (size_t i = 0; i < json_object_array_length(r); i++) {
		struct json_object *d = json_object_array_get_idx(r, i);
		const char *name = json_str(d, "name", "?");
		char id[16], up[64];
		snprintf(id, sizeof(id), "%lld", json_int(d, "domid", -1));
		int wanted = argc < 2;
		for (int k = 1; k < argc; k++)
			if (!strcmp(argv[k], name) || !strcmp(argv[k], id))
				wanted = 1;
		if (!wanted)
			continue;
		format_uptime(up, sizeof(up), json_int(d, "uptime_s", 0));
		printf("%-40s %5s %s\n", name, id, up);
	}
	json_object_put(r);
	return 0;
}

void info_domusd(void)
{
	char err[1024];
	struct json_object *h = NULL;
	int status = api_call("GET", "/v1/host", NULL, &h, err, sizeof(err));
	if (status != 200) {
		printf("domusd              : not running (%s)\n",
		       status < 0 ? err : api_error(h));
		if (h)
			json_object_put(h);
		return;
	}
	printf("domusd              : running (pid %lld, up %lld s; state in %s and %s)\n",
	       json_int(h, "domusd_pid", 0), json_int(h, "domusd_uptime_s", 0),
	       json_str(h, "lib_dir", "?"), json_str(h, "run_dir", "?"));
	printf("domains             : %lld (%lld running, %lld MiB of guest RAM)\n",
	       json_int(h, "nr_domains", 0), json_int(h, "nr_running", 0),
	       json_int(h, "domains_memory_mib", 0));
	printf("total_memory        : %lld MiB\n", json_int(h, "total_memory_mib", 0));
	printf("free_memory         : %lld MiB\n", json_int(h, "free_memory_mib", 0));
	json_object_put(h);
}
