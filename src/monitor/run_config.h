/* `domus run`'s command line: a config file with KEY=VALUE overrides, and options that are a
 * shorter way of writing xl.cfg keys (--memory 64 is memory=64, --disk PATH a disk spec, ...).
 * The options are applied as overrides on top of the file (or of an empty config) and the
 * result is built by domcfg_build like any config, so `domus run` and domusd run the same
 * struct domain_config. What only concerns this process (its control socket, a screenshot
 * when the guest stops, --no-reboot, --power-button-after, --debug) is kept apart. */
#ifndef DOMUS_RUN_CONFIG_H
#define DOMUS_RUN_CONFIG_H
#include <stdio.h>

#include "config/domcfg.h"

struct run_process {
	int no_reboot;
	const char *control;       /* --control SOCKET, or NULL */
	const char *screenshot;    /* --screenshot FILE, or NULL */
	long long power_button_ms; /* -1: never */
};

#define RUN_CONFIG_HELP (-1)

/* Parse argv (argv[0] = "run") into dc, checked with domcfg_check_support, and p. Returns 0,
 * RUN_CONFIG_HELP after printing the usage for --help, or an exit status (DOMUS_EXIT_USAGE,
 * DOMUS_EXIT_ERROR) after logging why. dc is zeroed on failure. */
int run_config(int argc, char **argv, struct domain_config *dc, struct run_process *p);
void run_usage(FILE *f);

#endif
