/*
 * xlcfg: the xl.cfg(5) value grammar, parsed into a tree of settings.
 *
 * Contract: a config is a set of `KEY = VALUE` / `KEY += VALUE` settings
 * separated by newlines or `;`; `#` starts a comment to the end of the line.
 * A VALUE is a string ('single' or "double" quoted, with backslash escapes),
 * a number (decimal, 0x hex, leading-0 octal) or a list `[v, v, [nested]]`
 * that may span lines and end with a trailing comma. A later `=` replaces an
 * earlier setting of the same key; `+=` appends to a list or concatenates a
 * string. Text can be fed in several rounds (a file, then command-line
 * overrides); every value remembers the source name and line it came from.
 * The parser never crashes on any input: the first error is reported as one
 * line "SOURCE:LINE: what is wrong" in the caller's buffer, and a config that
 * fails with -EINVAL is left as it was before that call. Lookups are linear
 * (configs hold tens of keys; the limits below bound the worst case).
 */
#ifndef DOMUS_CONFIG_XLCFG_H
#define DOMUS_CONFIG_XLCFG_H

#include <stddef.h>
#include <stdint.h>

/* Limits that keep hostile input bounded. */
#define XLCFG_MAX_DEPTH    16          /* list nesting */
#define XLCFG_MAX_SETTINGS 1024        /* distinct keys */
#define XLCFG_MAX_FILE     (1u << 20)  /* bytes read by xlcfg_parse_file */

enum xlval_type {
	XLVAL_STRING,
	XLVAL_NUMBER,
	XLVAL_LIST,
};

/* A value in the tree. Read-only for users; owned by its struct xlcfg. */
struct xlval {
	enum xlval_type type;
	const char *source;     /* name of the file/text it came from */
	int line;               /* 1-based line where the value starts */
	char *str;              /* STRING: decoded text; NUMBER: as written */
	uint64_t num;           /* NUMBER only */
	struct xlval **items;   /* LIST only */
	size_t nitems;
	size_t cap;             /* private: allocated slots in items */
};

/* One effective setting: the final value of a key after all rounds. */
struct xlcfg_setting {
	char *key;
	struct xlval *val;
	const char *source;     /* where the last `=` or `+=` of the key was */
	int line;
};

struct xlcfg;

/* Allocate an empty config; NULL when out of memory. */
struct xlcfg *xlcfg_new(void);
/* Free a config and every value in it. NULL is fine. */
void xlcfg_free(struct xlcfg *cfg);

/*
 * Parse len bytes of xl.cfg text named `source` (used in messages) into cfg,
 * on top of what is there already. Returns 0, -EINVAL on a syntax error (the
 * message in err; cfg unchanged), or -ENOMEM (cfg may hold part of the text).
 */
int xlcfg_parse(struct xlcfg *cfg, const char *source, const char *buf,
		size_t len, char *err, size_t errlen);
/* Read and parse the file at path (source name = path). Returns as
 * xlcfg_parse, or -errno if the file cannot be read (message in err). */
int xlcfg_parse_file(struct xlcfg *cfg, const char *path, char *err,
		     size_t errlen);
/*
 * Apply one command-line override such as `memory=512` or `name="web"`
 * (xl create CFG KEY=VALUE...): the same syntax as a file, source name
 * "command line". Call after xlcfg_parse_file so overrides win.
 */
int xlcfg_parse_override(struct xlcfg *cfg, const char *arg, char *err,
			 size_t errlen);

/* Name of the first text parsed into cfg (the config file), for messages
 * that belong to no line; "config" if nothing was parsed yet. */
const char *xlcfg_source(const struct xlcfg *cfg);

/* Number of distinct keys, and the i-th setting in order of first
 * appearance (NULL when i is out of range). */
size_t xlcfg_count(const struct xlcfg *cfg);
const struct xlcfg_setting *xlcfg_at(const struct xlcfg *cfg, size_t i);
/* The setting for key, or NULL if it was never set. */
const struct xlcfg_setting *xlcfg_find(const struct xlcfg *cfg,
				       const char *key);
/* Shorthand: the value for key, or NULL. */
const struct xlval *xlcfg_get(const struct xlcfg *cfg, const char *key);

/* "string", "number" or "list". */
const char *xlval_type_name(enum xlval_type type);
/* Text of a STRING, or the digits of a NUMBER as written. Returns 0, or
 * -EINVAL for a list. */
int xlval_as_string(const struct xlval *v, const char **out);
/* A NUMBER, or a STRING holding exactly one number (xl accepts
 * memory = "512"). Returns 0, -EINVAL if not a number, -ERANGE if > 2^64-1. */
int xlval_as_u64(const struct xlval *v, uint64_t *out);

/* Copy s into buf (size n >= 8) for quoting in a message: non-printable
 * bytes become \xHH, long text is cut with "...". Returns buf. */
const char *xlcfg_printable(char *buf, size_t n, const char *s);

/* Parse a whole string as decimal, 0x hex or leading-0 octal, as xl does.
 * Returns 0, -EINVAL (empty, junk, sign) or -ERANGE. */
int xlcfg_parse_u64(const char *s, uint64_t *out);

#endif
