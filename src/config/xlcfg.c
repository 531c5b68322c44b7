/* xl.cfg(5) value grammar: a recursive-descent parser over the tokens of
 * xlcfg_lex.c, and the settings tree it builds.
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
#include "config/xlcfg_lex.h"

#include <errno.h>
#include <fcntl.h>
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
	struct xlcfg_lexer lx;
	struct xlcfg *cfg;
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

static struct xlval *val_new(struct parser *ps, enum xlval_type type, int line)
{
	struct xlval *v = calloc(1, sizeof(*v));

	if (!v) {
		xlcfg_lex_nomem(&ps->lx);
		return NULL;
	}
	v->type = type;
	v->source = ps->lx.source;
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
	while (ps->lx.tok == XT_NL)
		xlcfg_lex_next(&ps->lx);
}

static struct xlval *parse_value(struct parser *ps, const char *key, int depth);

static struct xlval *parse_list(struct parser *ps, const char *key, int depth)
{
	int open_line = ps->lx.tok_line;
	struct xlval *list = val_new(ps, XLVAL_LIST, open_line);

	if (!list)
		return NULL;
	xlcfg_lex_next(&ps->lx);
	skip_newlines(ps);
	while (!ps->lx.failed && ps->lx.tok != XT_RBRACK) {
		struct xlval *item;

		if (ps->lx.tok == XT_EOF) {
			xlcfg_lex_fail(&ps->lx, ps->lx.tok_line, "unterminated list (opened on "
			     "line %d)", open_line);
			break;
		}
		item = parse_value(ps, key, depth + 1);
		if (!item)
			break;
		if (list_push(list, item) < 0) {
			val_free(item);
			xlcfg_lex_nomem(&ps->lx);
			break;
		}
		skip_newlines(ps);
		if (ps->lx.tok == XT_COMMA) {
			xlcfg_lex_next(&ps->lx);
			skip_newlines(ps);
		} else if (ps->lx.tok != XT_RBRACK && ps->lx.tok != XT_EOF) {
			xlcfg_lex_fail(&ps->lx, ps->lx.tok_line, "expected ',' or ']' in list, "
			     "found %s", xlcfg_tok_desc(ps->lx.tok));
		}
	}
	if (ps->lx.failed) {
		val_free(list);
		return NULL;
	}
	xlcfg_lex_next(&ps->lx);       /* the ']' */
	return list;
}

static struct xlval *parse_value(struct parser *ps, const char *key, int depth)
{
	struct xlval *v;
	char buf[48];

	switch (ps->lx.tok) {
	case XT_STRING:
	case XT_NUMBER:
		v = val_new(ps, ps->lx.tok == XT_STRING ? XLVAL_STRING : XLVAL_NUMBER,
			    ps->lx.tok_line);
		if (!v)
			return NULL;
		v->str = ps->lx.text;
		v->num = ps->lx.tok == XT_NUMBER ? ps->lx.num : 0;
		ps->lx.text = NULL;
		xlcfg_lex_next(&ps->lx);
		return v;
	case XT_LBRACK:
		if (depth >= XLCFG_MAX_DEPTH) {
			xlcfg_lex_fail(&ps->lx, ps->lx.tok_line, "lists nested deeper than %d",
			     XLCFG_MAX_DEPTH);
			return NULL;
		}
		return parse_list(ps, key, depth);
	case XT_IDENT:
		xlcfg_lex_fail(&ps->lx, ps->lx.tok_line, "unquoted string '%s' (write \"%s\")",
		     xlcfg_printable(buf, sizeof(buf), ps->lx.text), buf);
		return NULL;
	case XT_EOF:
	case XT_NL:
	case XT_SEMI:
		if (depth == 0) {
			xlcfg_lex_fail(&ps->lx, ps->lx.tok_line, "missing value for '%s'", key);
			return NULL;
		}
		/* fall through */
	default:
		xlcfg_lex_fail(&ps->lx, ps->lx.tok_line, "expected a value for '%s', found %s",
		     key, xlcfg_tok_desc(ps->lx.tok));
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
			xlcfg_lex_fail(&ps->lx, st->line, "'+=' on '%s' needs strings or "
			     "lists, not numbers", st->key);
			return;
		}
		if (now != st->val->type) {
			xlcfg_lex_fail(&ps->lx, st->line, "cannot add a %s to the %s '%s'",
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
		xlcfg_lex_fail(&ps->lx, st->line, "more than %d settings", XLCFG_MAX_SETTINGS);
		return;
	}
	if (ps->npend == ps->cappend) {
		size_t cap = ps->cappend ? ps->cappend * 2 : 16;
		struct pending *np = realloc(ps->pend, cap * sizeof(*np));

		if (!np) {
			xlcfg_lex_nomem(&ps->lx);
			return;
		}
		ps->pend = np;
		ps->cappend = cap;
	}
	ps->pend[ps->npend++] = (struct pending){ st->key, st->val->type };
}

static void parse_stmt(struct parser *ps)
{
	struct stmt st = { .line = ps->lx.tok_line };

	st.key = ps->lx.text;
	ps->lx.text = NULL;
	xlcfg_lex_next(&ps->lx);
	if (ps->lx.tok != XT_EQ && ps->lx.tok != XT_PLUSEQ) {
		xlcfg_lex_fail(&ps->lx, ps->lx.tok_line, "expected '=' after '%s', found %s",
		     st.key, xlcfg_tok_desc(ps->lx.tok));
		goto fail;
	}
	st.append = ps->lx.tok == XT_PLUSEQ;
	xlcfg_lex_next(&ps->lx);
	st.val = parse_value(ps, st.key, 0);
	if (!st.val)
		goto fail;
	if (ps->lx.tok != XT_NL && ps->lx.tok != XT_SEMI && ps->lx.tok != XT_EOF) {
		xlcfg_lex_fail(&ps->lx, ps->lx.tok_line, "expected end of line or ';' after the "
		     "value of '%s', found %s", st.key, xlcfg_tok_desc(ps->lx.tok));
		goto fail;
	}
	if (ps->nstmts == ps->capstmts) {
		size_t cap = ps->capstmts ? ps->capstmts * 2 : 16;
		struct stmt *ns = realloc(ps->stmts, cap * sizeof(*ns));

		if (!ns) {
			xlcfg_lex_nomem(&ps->lx);
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
		.lx = { .line = 1, .err = err, .errlen = errlen }, .cfg = cfg,
	};
	int ret = 0;

	if (!buf) {
		buf = "";
		len = 0;
	}
	ps.lx.p = buf;
	ps.lx.end = buf + len;

	if (err && errlen)
		err[0] = 0;
	ps.lx.source = intern_source(cfg, source ? source : "config");
	if (!ps.lx.source) {
		ps.lx.source = source ? source : "config";
		xlcfg_lex_nomem(&ps.lx);
		return -ENOMEM;
	}
	xlcfg_lex_next(&ps.lx);
	while (!ps.lx.failed && ps.lx.tok != XT_EOF) {
		if (ps.lx.tok == XT_NL || ps.lx.tok == XT_SEMI) {
			xlcfg_lex_next(&ps.lx);
		} else if (ps.lx.tok == XT_IDENT) {
			parse_stmt(&ps);
		} else {
			xlcfg_lex_fail(&ps.lx, ps.lx.tok_line, "expected a key, found %s",
			     xlcfg_tok_desc(ps.lx.tok));
		}
	}
	free(ps.lx.text);
	free(ps.pend);
	if (ps.lx.failed)
		ret = ps.lx.nomem ? -ENOMEM : -EINVAL;
	for (size_t i = 0; i < ps.nstmts; i++) {
		if (!ret && apply(cfg, &ps.stmts[i], ps.lx.source) < 0) {
			ret = -ENOMEM;
			if (err && errlen)
				snprintf(err, errlen, "%s:%d: out of memory",
					 ps.lx.source, ps.stmts[i].line);
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
			/* read one byte past the limit to tell "too big" */
			size_t ncap = cap * 2 > XLCFG_MAX_FILE + 1 ?
				      XLCFG_MAX_FILE + 1 : cap * 2;
			char *nb;

			if (len > XLCFG_MAX_FILE) {
				ret = -EFBIG;
				goto fail_fd;
			}
			nb = realloc(buf, ncap);
			if (!nb) {
				ret = -ENOMEM;
				goto fail_fd;
			}
			buf = nb;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			goto fail_fd;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	ret = xlcfg_parse(cfg, path, buf, len, err, errlen);
	free(buf);
	return ret;

fail_fd:
	close(fd);
fail_read:
	free(buf);
	if (err && errlen) {
		if (ret == -EFBIG)
			snprintf(err, errlen, "%s: larger than %u bytes", path,
				 XLCFG_MAX_FILE);
		else
			snprintf(err, errlen, "%s: cannot read: %s", path,
				 strerror(-ret));
	}
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
	return xlcfg_parse_u64_n(s, n, out);
}
