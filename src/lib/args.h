/* Command-line argument helpers shared by the client and the monitor. */
#ifndef DOMUS_ARGS_H
#define DOMUS_ARGS_H

/* A decimal number in [0, max] from an option; logs "<what> '<s>': ..." and returns -1 if not. */
int arg_parse_uint(const char *what, const char *s, unsigned long long max,
		   unsigned long long *out);

#endif
