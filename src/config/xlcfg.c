/* xl.cfg(5) value grammar: a hand-written lexer and recursive-descent parser.
 *
 * Differences from xl's flex/bison parser, all deliberate:
 *  - keys may contain upper case letters, so that `Memory = 1` reaches the
 *    "unknown key" check in domcfg instead of failing as a lexical error;
 *  - \r is whitespace (files edited on Windows), and a comment may end the
 *    file without a newline;
 *  - \xHH and \NNN escapes produce the byte they name (xl's dequoting drops
 *    them), and a NUL byte from an escape is refused;
 *  - numbers are checked when read: `512M` or `08` are syntax errors here,
 *    where xl only complains when the key is used;
 *  - parsing stops at the first error instead of resynchronising.
 */
#include "config/xlcfg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct xlcfg {
	struct xlcfg_setting *settings;
	size_t n, cap;
	char **sources;         /* names values point at; freed with the cfg */
	size_t nsources;
};

enum tok {
	T_EOF, T_NL, T_SEMI, T_EQ, T_PLUSEQ, T_COMMA, T_LBRACK, T_RBRACK,
	T_IDENT, T_NUMBER, T_STRING,
};

/* A statement waiting to be applied once the whole text has parsed. */
struct stmt {
	char *key;
	bool append;
	struct xlval *val;
	int line;
};

/* Type each key will have after the statements so far; used to reject a
 * bad `+=` before anything is applied. */
struct pending {
	const char *key;
	enum xlval_type type;
};

struct parser {
	struct xlcfg *cfg;
	const char *source;
	const char *p, *end;
	int line;
	char *err;
	size_t errlen;
	bool failed;
	bool nomem;
	/* current token */
	enum tok tok;
	int tok_line;
	char *text;             /* IDENT/NUMBER/STRING text, owned */
	uint64_t num;
	/* parsed statements */
	struct stmt *stmts;
	size_t nstmts, capstmts;
	struct pending *pend;
	size_t npend, cappend, newkeys;
};

static void val_free(struct xlval *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nitems; i++)
		val_free(v->items[i]);
	free(v->items);
	free(v->str);
	free(v);
}

static void __attribute__((format(printf, 3, 4)))
fail(struct parser *ps, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (ps->failed)
		return;
	ps->failed = true;
	if (!ps->err || !ps->errlen)
		return;
	n = snprintf(ps->err, ps->errlen, "%s:%d: ", ps->source, line);
	if (n < 0 || (size_t)n >= ps->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(ps->err + n, ps->errlen - n, fmt, ap);
	va_end(ap);
}

static void nomem(struct parser *ps)
{
	fail(ps, ps->line, "out of memory");
	ps->nomem = true;
}

const char *xlcfg_printable(char *buf, size_t n, const char *s)
{
	size_t o = 0;

	/* Room for one escaped byte, "..." and the NUL is kept free. */
	for (; *s && o + 8 <= n; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c < 0x7f) {
			buf[o++] = (char)c;
		} else {
			snprintf(buf + o, n - o, "\\x%02x", c);
			o += 4;
		}
	}
	if (*s) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = 0;
	return buf;
}

/* Parse exactly n bytes at s as an xl number. */
static int parse_u64_n(const char *s, size_t n, uint64_t *out)
{
	const char *end = s + n;
	unsigned base = 10;
	uint64_t v = 0;

	if (n == 0)
		return -EINVAL;
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (s == end)
			return -EINVAL;
	} else if (s[0] == '0' && n > 1) {
		base = 8;
		s++;
	}
	for (; s < end; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -EINVAL;
		if (d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

int xlcfg_parse_u64(const char *s, uint64_t *out)
{
	return parse_u64_n(s, strlen(s), out);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One escape after a backslash at *pp (pointing past the backslash). */
static int unescape(struct parser *ps, const char **pp, char *outc)
{
	const char *p = *pp;
	char c = *p++;
	unsigned v = 0;
	int n;

	switch (c) {
	case '\\': case '"': case '\'':
		*outc = c;
		break;
	case 'a': *outc = '\a'; break;
	case 'b': *outc = '\b'; break;
	case 'f': *outc = '\f'; break;
	case 'n': *outc = '\n'; break;
	case 'r': *outc = '\r'; break;
	case 't': *outc = '\t'; break;
	case 'v': *outc = '\v'; break;
	case 'x':
		for (n = 0; n < 2 && p < ps->end && hexval(*p) >= 0; n++)
			v = v * 16 + (unsigned)hexval(*p++);
		if (n != 2) {
			fail(ps, ps->line, "\\x needs two hex digits in string");
			return -1;
		}
		goto byte;
	case '0': case '1': case '2': case '3':
	case '4': case '5': case '6': case '7':
		v = (unsigned)(c - '0');
		for (n = 1; n < 3 && p < ps->end && *p >= '0' && *p <= '7'; n++)
			v = v * 8 + (unsigned)(*p++ - '0');
		if (v > 255) {
			fail(ps, ps->line, "octal escape above \\377 in string");
			return -1;
		}
		goto byte;
	default:
		if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
			fail(ps, ps->line, "invalid escape '\\%c' in string", c);
		else
			fail(ps, ps->line, "invalid escape in string");
		return -1;
	}
	*pp = p;
	return 0;
byte:
	if (v == 0) {
		fail(ps, ps->line, "NUL character in string");
		return -1;
	}
	*outc = (char)v;
	*pp = p;
	return 0;
}

static void lex_string(struct parser *ps)
{
	char quote = *ps->p++;
	const char *p = ps->p;
	char *out, *o;

	/* Find the closing quote first so that the buffer size is known. */
	while (p < ps->end && *p != quote && *p != '\n' && *p != 0) {
		if (*p == '\\' && p + 1 < ps->end && p[1] != '\n' && p[1] != 0)
			p++;
		p++;
	}
	if (p >= ps->end || *p != quote) {
		fail(ps, ps->line, p < ps->end && *p == 0 ?
			 "NUL byte in string" : "unterminated string");
		return;
	}
	out = o = malloc((size_t)(p - ps->p) + 1);
	if (!out) {
		nomem(ps);
		return;
	}
	while (ps->p < p) {
		if (*ps->p == '\\') {
			ps->p++;
			if (unescape(ps, &ps->p, o) < 0) {
				free(out);
				return;
			}
			o++;
		} else {
			*o++ = *ps->p++;
		}
	}
	*o = 0;
	ps->p = p + 1;
	ps->text = out;
	ps->tok = T_STRING;
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void lex_word(struct parser *ps, bool number)
{
	const char *s = ps->p;
	char buf[48];
	int r;

	/* A number swallows letters and dots too, so that `512M` or `1.5`
	 * is reported whole rather than as two confusing tokens. */
	while (ps->p < ps->end && (is_alpha(*ps->p) || is_digit(*ps->p) ||
				   (number && *ps->p == '.')))
		ps->p++;
	ps->text = strndup(s, (size_t)(ps->p - s));
	if (!ps->text) {
		nomem(ps);
		return;
	}
	ps->tok = number ? T_NUMBER : T_IDENT;
	if (!number)
		return;
	r = xlcfg_parse_u64(ps->text, &ps->num);
	if (r < 0)
		fail(ps, ps->line, "%s '%s'",
		     r == -ERANGE ? "number out of range" : "invalid number",
		     xlcfg_printable(buf, sizeof(buf), ps->text));
}

/* Advance to the next token; on error ps->failed is set and tok is T_EOF. */
static void next(struct parser *ps)
{
	free(ps->text);
	ps->text = NULL;
	ps->tok = T_EOF;
	if (ps->failed)
		return;
	for (;;) {
		if (ps->p >= ps->end) {
			ps->tok_line = ps->line;
			return;
		}
		if (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r') {
			ps->p++;
		} else if (*ps->p == '#') {
			while (ps->p < ps->end && *ps->p != '\n')
				ps->p++;
		} else {
			break;
		}
	}
	ps->tok_line = ps->line;
	switch (*ps->p) {
	case '\n':
		ps->p++;
		ps->line++;
		ps->tok = T_NL;
		return;
	case ';': ps->p++; ps->tok = T_SEMI; return;
	case ',': ps->p++; ps->tok = T_COMMA; return;
	case '[': ps->p++; ps->tok = T_LBRACK; return;
	case ']': ps->p++; ps->tok = T_RBRACK; return;
	case '=': ps->p++; ps->tok = T_EQ; return;
	case '+':
		if (ps->p + 1 < ps->end && ps->p[1] == '=') {
			ps->p += 2;
			ps->tok = T_PLUSEQ;
			return;
		}
		break;
	case '"':
	case '\'':
		lex_string(ps);
		return;
	case 0:
		fail(ps, ps->line, "NUL byte in config");
		return;
	default:
		if (is_alpha(*ps->p) || is_digit(*ps->p)) {
			lex_word(ps, is_digit(*ps->p));
			return;
		}
	}
	{
		unsigned char c = (unsigned char)*ps->p;

		if (c >= 0x20 && c < 0x7f)
			fail(ps, ps->line, "unexpected character '%c'%s", c,
			     strchr("():.-", c) ?
			     " (xl config files are not Python)" : "");
		else
			fail(ps, ps->line, "unexpected byte 0x%02x", c);
	}
}

static const char *tok_desc(const struct parser *ps)
{
	switch (ps->tok) {
	case T_EOF: return "end of file";
	case T_NL: return "end of line";
	case T_SEMI: return "';'";
	case T_EQ: return "'='";
	case T_PLUSEQ: return "'+='";
	case T_COMMA: return "','";
	case T_LBRACK: return "'['";
	case T_RBRACK: return "']'";
	case T_IDENT: return "a name";
	case T_NUMBER: return "a number";
	case T_STRING: return "a string";
	}
	return "?";
}

static struct xlval *val_new(struct parser *ps, enum xlval_type type, int line)
{
	struct xlval *v = calloc(1, sizeof(*v));

	if (!v) {
		nomem(ps);
		return NULL;
	}
	v->type = type;
	v->source = ps->source;
	v->line = line;
	return v;
}

static int list_push(struct xlval *list, struct xlval *item)
{
	if (list->nitems == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 4;
		struct xlval **items = realloc(list->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		list->items = items;
		list->cap = cap;
	}
	list->items[list->nitems++] = item;
	return 0;
}

static void skip_newlines(struct parser *ps)
{
	while (ps->tok == T_NL)
		next(ps);
}

static struct xlval *parse_value(struct parser *ps, const char *key, int depth);

static struct xlval *parse_list(struct parser *ps, const char *key, int depth)
{
	int open_line = ps->tok_line;
	struct xlval *list = val_new(ps, XLVAL_LIST, open_line);

	if (!list)
		return NULL;
	next(ps);
	skip_newlines(ps);
	while (!ps->failed && ps->tok != T_RBRACK) {
		struct xlval *item;

		if (ps->tok == T_EOF) {
			fail(ps, ps->tok_line, "unterminated list (opened on "
			     "line %d)", open_line);
			break;
		}
		item = parse_value(ps, key, depth + 1);
		if (!item)
			break;
		if (list_push(list, item) < 0) {
			val_free(item);
			nomem(ps);
			break;
		}
		skip_newlines(ps);
		if (ps->tok == T_COMMA) {
			next(ps);
			skip_newlines(ps);
		} else if (ps->tok != T_RBRACK && ps->tok != T_EOF) {
			fail(ps, ps->tok_line, "expected ',' or ']' in list, "
			     "found %s", tok_desc(ps));
		}
	}
	if (ps->failed) {
		val_free(list);
		return NULL;
	}
	next(ps);       /* the ']' */
	return list;
}

static struct xlval *parse_value(struct parser *ps, const char *key, int depth)
{
	struct xlval *v;
	char buf[48];

	switch (ps->tok) {
	case T_STRING:
	case T_NUMBER:
		v = val_new(ps, ps->tok == T_STRING ? XLVAL_STRING : XLVAL_NUMBER,
			    ps->tok_line);
		if (!v)
			return NULL;
		v->str = ps->text;
		v->num = ps->tok == T_NUMBER ? ps->num : 0;
		ps->text = NULL;
		next(ps);
		return v;
	case T_LBRACK:
		if (depth >= XLCFG_MAX_DEPTH) {
			fail(ps, ps->tok_line, "lists nested deeper than %d",
			     XLCFG_MAX_DEPTH);
			return NULL;
		}
		return parse_list(ps, key, depth);
	case T_IDENT:
		fail(ps, ps->tok_line, "unquoted string '%s' (write \"%s\")",
		     xlcfg_printable(buf, sizeof(buf), ps->text), buf);
		return NULL;
	case T_EOF:
	case T_NL:
	case T_SEMI:
		if (depth == 0) {
			fail(ps, ps->tok_line, "missing value for '%s'", key);
			return NULL;
		}
		/* fall through */
	default:
		fail(ps, ps->tok_line, "expected a value for '%s', found %s",
		     key, tok_desc(ps));
		return NULL;
	}
}

static struct xlcfg_setting *find(const struct xlcfg *cfg, const char *key)
{
	for (size_t i = 0; i < cfg->n; i++)
		if (!strcmp(cfg->settings[i].key, key))
			return &cfg->settings[i];
	return NULL;
}

/* Record the type key will have after stmt; reject what apply() could not
 * do, so that a failing parse leaves the config untouched. */
static void check_stmt(struct parser *ps, const struct stmt *st)
{
	struct pending *pd = NULL;
	const struct xlcfg_setting *s;
	enum xlval_type now;
	bool have = false;

	for (size_t i = 0; i < ps->npend; i++)
		if (!strcmp(ps->pend[i].key, st->key))
			pd = &ps->pend[i];
	if (pd) {
		now = pd->type;
		have = true;
	} else if ((s = find(ps->cfg, st->key))) {
		now = s->val->type;
		have = true;
	}
	if (st->append && have) {
		if (now == XLVAL_NUMBER || st->val->type == XLVAL_NUMBER) {
			fail(ps, st->line, "'+=' on '%s' needs strings or "
			     "lists, not numbers", st->key);
			return;
		}
		if (now != st->val->type) {
			fail(ps, st->line, "cannot add a %s to the %s '%s'",
			     xlval_type_name(st->val->type),
			     xlval_type_name(now), st->key);
			return;
		}
	}
	if (pd) {
		pd->type = st->val->type;
		return;
	}
	if (!have && ps->cfg->n + ++ps->newkeys > XLCFG_MAX_SETTINGS) {
		fail(ps, st->line, "more than %d settings", XLCFG_MAX_SETTINGS);
		return;
	}
	if (ps->npend == ps->cappend) {
		size_t cap = ps->cappend ? ps->cappend * 2 : 16;
		struct pending *np = realloc(ps->pend, cap * sizeof(*np));

		if (!np) {
			nomem(ps);
			return;
		}
		ps->pend = np;
		ps->cappend = cap;
	}
	ps->pend[ps->npend++] = (struct pending){ st->key, st->val->type };
}

static void parse_stmt(struct parser *ps)
{
	struct stmt st = { .line = ps->tok_line };

	st.key = ps->text;
	ps->text = NULL;
	next(ps);
	if (ps->tok != T_EQ && ps->tok != T_PLUSEQ) {
		fail(ps, ps->tok_line, "expected '=' after '%s', found %s",
		     st.key, tok_desc(ps));
		goto fail;
	}
	st.append = ps->tok == T_PLUSEQ;
	next(ps);
	st.val = parse_value(ps, st.key, 0);
	if (!st.val)
		goto fail;
	if (ps->tok != T_NL && ps->tok != T_SEMI && ps->tok != T_EOF) {
		fail(ps, ps->tok_line, "expected end of line or ';' after the "
		     "value of '%s', found %s", st.key, tok_desc(ps));
		goto fail;
	}
	if (ps->nstmts == ps->capstmts) {
		size_t cap = ps->capstmts ? ps->capstmts * 2 : 16;
		struct stmt *ns = realloc(ps->stmts, cap * sizeof(*ns));

		if (!ns) {
			nomem(ps);
			goto fail;
		}
		ps->stmts = ns;
		ps->capstmts = cap;
	}
	ps->stmts[ps->nstmts++] = st;
	check_stmt(ps, &st);
	return;
fail:
	free(st.key);
	val_free(st.val);
}

/* Apply one checked statement. Takes ownership of st's key and value. */
static int apply(struct xlcfg *cfg, struct stmt *st, const char *source)
{
	struct xlcfg_setting *s = find(cfg, st->key);
	struct xlval *old;

	if (!s) {
		if (cfg->n == cfg->cap) {
			size_t cap = cfg->cap ? cfg->cap * 2 : 32;
			struct xlcfg_setting *ns =
				realloc(cfg->settings, cap * sizeof(*ns));

			if (!ns)
				return -ENOMEM;
			cfg->settings = ns;
			cfg->cap = cap;
		}
		cfg->settings[cfg->n++] = (struct xlcfg_setting){
			st->key, st->val, source, st->line };
		st->key = NULL;
		st->val = NULL;
		return 0;
	}
	old = s->val;
	if (st->append && old->type == XLVAL_STRING) {
		size_t a = strlen(old->str), b = strlen(st->val->str);
		char *str = realloc(old->str, a + b + 1);

		if (!str)
			return -ENOMEM;
		memcpy(str + a, st->val->str, b + 1);
		old->str = str;
	} else if (st->append) {
		for (size_t i = 0; i < st->val->nitems; i++) {
			if (list_push(old, st->val->items[i]) < 0) {
				/* Items not moved yet stay with st->val. */
				memmove(st->val->items, st->val->items + i,
					(st->val->nitems - i) * sizeof(void *));
				st->val->nitems -= i;
				return -ENOMEM;
			}
		}
		st->val->nitems = 0;
	} else {
		s->val = st->val;
		st->val = NULL;
		val_free(old);
	}
	s->source = source;
	s->line = st->line;
	return 0;
}

static const char *intern_source(struct xlcfg *cfg, const char *name)
{
	char **ns;

	for (size_t i = 0; i < cfg->nsources; i++)
		if (!strcmp(cfg->sources[i], name))
			return cfg->sources[i];
	ns = realloc(cfg->sources, (cfg->nsources + 1) * sizeof(*ns));
	if (!ns)
		return NULL;
	cfg->sources = ns;
	ns[cfg->nsources] = strdup(name);
	if (!ns[cfg->nsources])
		return NULL;
	return ns[cfg->nsources++];
}

int xlcfg_parse(struct xlcfg *cfg, const char *source, const char *buf,
		size_t len, char *err, size_t errlen)
{
	struct parser ps = {
		.cfg = cfg, .p = buf, .end = buf + len, .line = 1,
		.err = err, .errlen = errlen,
	};
	int ret = 0;

	if (err && errlen)
		err[0] = 0;
	ps.source = intern_source(cfg, source ? source : "config");
	if (!ps.source) {
		ps.source = source ? source : "config";
		nomem(&ps);
		return -ENOMEM;
	}
	next(&ps);
	while (!ps.failed && ps.tok != T_EOF) {
		if (ps.tok == T_NL || ps.tok == T_SEMI) {
			next(&ps);
		} else if (ps.tok == T_IDENT) {
			parse_stmt(&ps);
		} else {
			fail(&ps, ps.tok_line, "expected a key, found %s",
			     tok_desc(&ps));
		}
	}
	free(ps.text);
	free(ps.pend);
	if (ps.failed)
		ret = ps.nomem ? -ENOMEM : -EINVAL;
	for (size_t i = 0; i < ps.nstmts; i++) {
		if (!ret && apply(cfg, &ps.stmts[i], ps.source) < 0) {
			ret = -ENOMEM;
			if (err && errlen)
				snprintf(err, errlen, "%s:%d: out of memory",
					 ps.source, ps.stmts[i].line);
		}
		free(ps.stmts[i].key);
		val_free(ps.stmts[i].val);
	}
	free(ps.stmts);
	return ret;
}

int xlcfg_parse_file(struct xlcfg *cfg, const char *path, char *err,
		     size_t errlen)
{
	size_t len = 0, cap = 64 * 1024;
	char *buf = malloc(cap);
	int fd, ret;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		goto fail_read;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			if (cap > XLCFG_MAX_FILE) {
				close(fd);
				free(buf);
				if (err && errlen)
					snprintf(err, errlen, "%s: file larger "
						 "than %u bytes", path,
						 XLCFG_MAX_FILE);
				return -EFBIG;
			}
			nb = realloc(buf, cap * 2);
			if (!nb) {
				close(fd);
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			close(fd);
			goto fail_read;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	ret = xlcfg_parse(cfg, path, buf, len, err, errlen);
	free(buf);
	return ret;

fail_read:
	free(buf);
	if (err && errlen)
		snprintf(err, errlen, "%s: cannot read: %s", path,
			 strerror(-ret));
	return ret;
}

int xlcfg_parse_override(struct xlcfg *cfg, const char *arg, char *err,
			 size_t errlen)
{
	return xlcfg_parse(cfg, "command line", arg, strlen(arg), err, errlen);
}

struct xlcfg *xlcfg_new(void)
{
	return calloc(1, sizeof(struct xlcfg));
}

void xlcfg_free(struct xlcfg *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n; i++) {
		free(cfg->settings[i].key);
		val_free(cfg->settings[i].val);
	}
	for (size_t i = 0; i < cfg->nsources; i++)
		free(cfg->sources[i]);
	free(cfg->sources);
	free(cfg->settings);
	free(cfg);
}

const char *xlcfg_source(const struct xlcfg *cfg)
{
	return cfg->nsources ? cfg->sources[0] : "config";
}

size_t xlcfg_count(const struct xlcfg *cfg)
{
	return cfg->n;
}

const struct xlcfg_setting *xlcfg_at(const struct xlcfg *cfg, size_t i)
{
	return i < cfg->n ? &cfg->settings[i] : NULL;
}

const struct xlcfg_setting *xlcfg_find(const struct xlcfg *cfg,
				       const char *key)
{
	return find(cfg, key);
}

const struct xlval *xlcfg_get(const struct xlcfg *cfg, const char *key)
{
	const struct xlcfg_setting *s = find(cfg, key);

	return s ? s->val : NULL;
}

const char *xlval_type_name(enum xlval_type type)
{
	switch (type) {
	case XLVAL_STRING: return "string";
	case XLVAL_NUMBER: return "number";
	case XLVAL_LIST: return "list";
	}
	return "?";
}

int xlval_as_string(const struct xlval *v, const char **out)
{
	if (v->type == XLVAL_LIST)
		return -EINVAL;
	*out = v->str;
	return 0;
}

int xlval_as_u64(const struct xlval *v, uint64_t *out)
{
	const char *s;
	size_t n;

	if (v->type == XLVAL_NUMBER) {
		*out = v->num;
		return 0;
	}
	if (v->type != XLVAL_STRING)
		return -EINVAL;
	/* xl reads quoted numbers with strtol, which skips leading blanks;
	 * allow blanks on both sides, nothing else. */
	s = v->str;
	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return parse_u64_n(s, n, out);
}
