#include "lib/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool debug_on = false;
static bool debug_checked = false;
static bool raw_tty = false;

void log_set_debug(bool on)
{
	debug_on = on;
	debug_checked = true;
}

bool log_debug_enabled(void)
{
	if (!debug_checked) {
		const char *e = getenv("DOMUS_DEBUG");
		debug_on = e && *e && strcmp(e, "0") != 0;
		debug_checked = true;
	}
	return debug_on;
}

void log_set_raw_tty(bool raw)
{
	raw_tty = raw;
}

static void vlog(const char *tag, const char *fmt, va_list ap)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "domus: %s", tag);
	if (n < 0)
		return;
	vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	/* One write per message so lines from several threads do not interleave. */
	fprintf(stderr, "%s%s", buf, raw_tty ? "\r\n" : "\n");
}

#define LOG_BODY(tag)                                                          \
	do {                                                                   \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		vlog(tag, fmt, ap);                                            \
		va_end(ap);                                                    \
	} while (0)

void log_err(const char *fmt, ...)
{
	LOG_BODY("");
}

void log_warn(const char *fmt, ...)
{
	LOG_BODY("warning: ");
}

void log_info(const char *fmt, ...)
{
	LOG_BODY("");
}

void log_debug(const char *fmt, ...)
{
	if (!log_debug_enabled())
		return;
	LOG_BODY("debug: ");
}

void die(const char *fmt, ...)
{
	LOG_BODY("");
	exit(1);
}

int errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
