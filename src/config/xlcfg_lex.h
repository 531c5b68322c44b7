/*
 * xlcfg_lex: the tokenizer of the xl.cfg grammar. Internal to src/config;
 * users include xlcfg.h.
 *
 * Contract: fill p/end/line/source/err/errlen, then call xlcfg_lex_next()
 * to move to each token. Token text (names, numbers as written, decoded
 * strings) is owned by the lexer until the caller takes it by setting
 * text to NULL. The first error is formatted "SOURCE:LINE: what" into err;
 * after it `failed` is set and every further token is XT_EOF.
 */
#ifndef DOMUS_CONFIG_XLCFG_LEX_H
#define DOMUS_CONFIG_XLCFG_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum xlcfg_tok {
	XT_EOF, XT_NL, XT_SEMI, XT_EQ, XT_PLUSEQ, XT_COMMA, XT_LBRACK,
	XT_RBRACK, XT_IDENT, XT_NUMBER, XT_STRING,
};

struct xlcfg_lexer {
	const char *source;     /* name used in messages */
	const char *p, *end;    /* unread input */
	int line;               /* line of p, from 1 */
	char *err;
	size_t errlen;
	bool failed;
	bool nomem;             /* the failure was an allocation */
	/* the current token */
	enum xlcfg_tok tok;
	int tok_line;
	char *text;             /* XT_IDENT/XT_NUMBER/XT_STRING text, owned */
	uint64_t num;           /* XT_NUMBER value */
};

/* Advance to the next token, freeing the current text if still owned. */
void xlcfg_lex_next(struct xlcfg_lexer *lx);
/* Record the first error at line; later calls are ignored. */
void xlcfg_lex_fail(struct xlcfg_lexer *lx, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Record an out-of-memory failure. */
void xlcfg_lex_nomem(struct xlcfg_lexer *lx);
/* xlcfg_parse_u64 on exactly n bytes at s. */
int xlcfg_parse_u64_n(const char *s, size_t n, uint64_t *out);
/* "end of line", "','", "a string", ... for messages. */
const char *xlcfg_tok_desc(enum xlcfg_tok tok);

#endif
