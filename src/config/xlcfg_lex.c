/* Tokenizer for xl.cfg(5): names, numbers, quoted strings with escapes,
 * punctuation, newlines; `#` comments and blanks are skipped. Numbers and
 * escapes are decoded here, so that the parser only sees checked tokens. */
#include "config/xlcfg_lex.h"
#include "config/xlcfg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xlcfg_lex_fail(struct xlcfg_lexer *lx, int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (lx->failed)
		return;
	lx->failed = true;
	if (!lx->err || !lx->errlen)
		return;
	n = snprintf(lx->err, lx->errlen, "%s:%d: ", lx->source, line);
	if (n < 0 || (size_t)n >= lx->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(lx->err + n, lx->errlen - n, fmt, ap);
	va_end(ap);
}

void xlcfg_lex_nomem(struct xlcfg_lexer *lx)
{
	xlcfg_lex_fail(lx, lx->line, "out of memory");
	lx->nomem = true;
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

int xlcfg_parse_u64_n(const char *s, size_t n, uint64_t *out)
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
	return xlcfg_parse_u64_n(s, strlen(s), out);
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
static int unescape(struct xlcfg_lexer *lx, const char **pp, char *outc)
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
		for (n = 0; n < 2 && p < lx->end && hexval(*p) >= 0; n++)
			v = v * 16 + (unsigned)hexval(*p++);
		if (n != 2) {
			xlcfg_lex_fail(lx, lx->line, "\\x needs two hex digits in string");
			return -1;
		}
		goto byte;
	case '0': case '1': case '2': case '3':
	case '4': case '5': case '6': case '7':
		v = (unsigned)(c - '0');
		for (n = 1; n < 3 && p < lx->end && *p >= '0' && *p <= '7'; n++)
			v = v * 8 + (unsigned)(*p++ - '0');
		if (v > 255) {
			xlcfg_lex_fail(lx, lx->line, "octal escape above \\377 in string");
			return -1;
		}
		goto byte;
	default:
		if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
			xlcfg_lex_fail(lx, lx->line, "invalid escape '\\%c' in string", c);
		else
			xlcfg_lex_fail(lx, lx->line, "invalid escape in string");
		return -1;
	}
	*pp = p;
	return 0;
byte:
	if (v == 0) {
		xlcfg_lex_fail(lx, lx->line, "NUL character in string");
		return -1;
	}
	*outc = (char)v;
	*pp = p;
	return 0;
}

static void lex_string(struct xlcfg_lexer *lx)
{
	char quote = *lx->p++;
	const char *p = lx->p;
	char *out, *o;

	/* Find the closing quote first so that the buffer size is known. */
	while (p < lx->end && *p != quote && *p != '\n' && *p != 0) {
		if (*p == '\\' && p + 1 < lx->end && p[1] != '\n' && p[1] != 0)
			p++;
		p++;
	}
	if (p >= lx->end || *p != quote) {
		xlcfg_lex_fail(lx, lx->line, p < lx->end && *p == 0 ?
			 "NUL byte in string" : "unterminated string");
		return;
	}
	out = o = malloc((size_t)(p - lx->p) + 1);
	if (!out) {
		xlcfg_lex_nomem(lx);
		return;
	}
	while (lx->p < p) {
		if (*lx->p == '\\') {
			lx->p++;
			if (unescape(lx, &lx->p, o) < 0) {
				free(out);
				return;
			}
			o++;
		} else {
			*o++ = *lx->p++;
		}
	}
	*o = 0;
	lx->p = p + 1;
	lx->text = out;
	lx->tok = XT_STRING;
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void lex_word(struct xlcfg_lexer *lx, bool number)
{
	const char *s = lx->p;
	char buf[48];
	int r;

	/* A number swallows letters and dots too, so that `512M` or `1.5`
	 * is reported whole rather than as two confusing tokens. */
	while (lx->p < lx->end && (is_alpha(*lx->p) || is_digit(*lx->p) ||
				   (number && *lx->p == '.')))
		lx->p++;
	lx->text = strndup(s, (size_t)(lx->p - s));
	if (!lx->text) {
		xlcfg_lex_nomem(lx);
		return;
	}
	lx->tok = number ? XT_NUMBER : XT_IDENT;
	if (!number)
		return;
	r = xlcfg_parse_u64(lx->text, &lx->num);
	if (r < 0)
		xlcfg_lex_fail(lx, lx->line, "%s '%s'",
		     r == -ERANGE ? "number out of range" : "invalid number",
		     xlcfg_printable(buf, sizeof(buf), lx->text));
}

/* Advance to the next token; on error lx->failed is set and tok is XT_EOF. */
void xlcfg_lex_next(struct xlcfg_lexer *lx)
{
	free(lx->text);
	lx->text = NULL;
	lx->tok = XT_EOF;
	if (lx->failed)
		return;
	for (;;) {
		if (lx->p >= lx->end) {
			lx->tok_line = lx->line;
			return;
		}
		if (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r') {
			lx->p++;
		} else if (*lx->p == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				lx->p++;
		} else {
			break;
		}
	}
	lx->tok_line = lx->line;
	switch (*lx->p) {
	case '\n':
		lx->p++;
		lx->line++;
		lx->tok = XT_NL;
		return;
	case ';': lx->p++; lx->tok = XT_SEMI; return;
	case ',': lx->p++; lx->tok = XT_COMMA; return;
	case '[': lx->p++; lx->tok = XT_LBRACK; return;
	case ']': lx->p++; lx->tok = XT_RBRACK; return;
	case '=': lx->p++; lx->tok = XT_EQ; return;
	case '+':
		if (lx->p + 1 < lx->end && lx->p[1] == '=') {
			lx->p += 2;
			lx->tok = XT_PLUSEQ;
			return;
		}
		break;
	case '"':
	case '\'':
		lex_string(lx);
		return;
	case 0:
		xlcfg_lex_fail(lx, lx->line, "NUL byte in config");
		return;
	default:
		if (is_alpha(*lx->p) || is_digit(*lx->p)) {
			lex_word(lx, is_digit(*lx->p));
			return;
		}
	}
	{
		unsigned char c = (unsigned char)*lx->p;

		if (c >= 0x20 && c < 0x7f)
			xlcfg_lex_fail(lx, lx->line, "unexpected character '%c'%s", c,
			     strchr("():.-", c) ?
			     " (xl config files are not Python)" : "");
		else
			xlcfg_lex_fail(lx, lx->line, "unexpected byte 0x%02x", c);
	}
}

const char *xlcfg_tok_desc(enum xlcfg_tok tok)
{
	switch (tok) {
	case XT_EOF: return "end of file";
	case XT_NL: return "end of line";
	case XT_SEMI: return "';'";
	case XT_EQ: return "'='";
	case XT_PLUSEQ: return "'+='";
	case XT_COMMA: return "','";
	case XT_LBRACK: return "'['";
	case XT_RBRACK: return "']'";
	case XT_IDENT: return "a name";
	case XT_NUMBER: return "a number";
	case XT_STRING: return "a string";
	}
	return "?";
}
