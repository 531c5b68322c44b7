#include "boot/pvm_user_watch.h"

#include <stdlib.h>
#include <string.h>

/* x86-64 page-fault error code bits (Intel SDM vol. 3, 4.7) */
#define PF_USER 0x4

void pvm_user_watch_init(struct pvm_user_watch *w)
{
	memset(w, 0, sizeof(*w));
}

static int hex_field(const char **p, const char *key, uint64_t *val)
{
	const char *s = strstr(*p, key);
	if (!s)
		return -1;
	s += strlen(key);
	char *end;
	unsigned long long v = strtoull(s, &end, 16);
	if (end == s)
		return -1;
	*val = v;
	*p = end;
	return 0;
}

int pvm_user_watch_line(const char *line, uint64_t *addr)
{
	/* "<comm>[1]: segfault at <hex> ip <hex> sp <hex> error <hex>" (arch/x86/mm/fault.c) */
	const char *p = strstr(line, "[1]: segfault at ");
	if (!p)
		return 0;
	uint64_t at, ip, sp, error;
	if (hex_field(&p, "segfault at ", &at) < 0 || hex_field(&p, " ip ", &ip) < 0 ||
	    hex_field(&p, " sp ", &sp) < 0 || hex_field(&p, " error ", &error) < 0)
		return 0;
	if (at != ip || at < 0xffff800000000000ull || !(error & PF_USER))
		return 0;
	*addr = at;
	return 1;
}

int pvm_user_watch_feed(struct pvm_user_watch *w, const uint8_t *buf, size_t len)
{
	int hit = 0;
	for (size_t i = 0; i < len && !w->fired; i++) {
		char c = (char)buf[i];
		if (c != '\n' && c != '\r') {
			if (w->len + 1 < sizeof(w->line))
				w->line[w->len++] = c;
			else
				w->overflow = 1;
			continue;
		}
		w->line[w->len] = '\0';
		if (!w->overflow && w->len && pvm_user_watch_line(w->line, &w->addr)) {
			w->fired = 1;
			hit = 1;
		}
		w->len = 0;
		w->overflow = 0;
	}
	return hit;
}
