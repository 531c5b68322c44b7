/* Messages to the user and the debug log.
 *
 * Every message goes to stderr as `domus: <what failed>: <why>`. Debug messages appear only when
 * DOMUS_DEBUG is set in the environment (or log_set_debug(true)). die() is for setup only, before
 * the guest runs: it prints the message and exits with status 1. */
#ifndef DOMUS_LOG_H
#define DOMUS_LOG_H
#include <stdbool.h>
#include <stddef.h>

void log_set_debug(bool on);
bool log_debug_enabled(void);
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Format an error into err[errlen] for the caller to report; returns -1 (for `return errf(...)`). */
int errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* When the console is in raw mode, lines need "\r\n"; console.c flips this. */
void log_set_raw_tty(bool raw);

#endif
