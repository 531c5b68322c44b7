#include "lib/args.h"

#include <errno.h>
#include <stdlib.h>

#include "lib/log.h"

int arg_parse_uint(const char *what, const char *s, unsigned long long max,
		   unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max) {
		log_err("%s '%s': not a number between 0 and %llu", what, s, max);
		return -1;
	}
	*out = v;
	return 0;
}
