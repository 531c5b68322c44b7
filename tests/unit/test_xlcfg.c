/* Unit tests for the xl.cfg value grammar (src/config/xlcfg.c). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "config/xlcfg.h"
#include "unit.h"

static char err[256];

/* Parse text as "vm.cfg" into a fresh config; *rc gets the result. */
static struct xlcfg *parse(const char *text, int *rc)
{
	struct xlcfg *cfg = xlcfg_new();

	*rc = xlcfg_parse(cfg, "vm.cfg", text, strlen(text), err, sizeof(err));
	return cfg;
}

/* Expect text to fail with exactly msg. */
static void expect_error(const char *text, const char *msg)
{
	int rc;
	struct xlcfg *cfg = parse(text, &rc);

	CHECK_EQ(rc, -EINVAL);
	CHECK_STR(err, msg);
	CHECK_EQ(xlcfg_count(cfg), 0);
	xlcfg_free(cfg);
}

static void test_basic_settings(void)
{
	int rc;
	struct xlcfg *cfg = parse("name = \"web\"\n"
				  "memory = 512\n"
				  "vcpus=2; kernel='/boot/vmlinuz'\n", &rc);
	const struct xlcfg_setting *s;
	uint64_t u = 0;
	const char *str = NULL;

	CHECK_EQ(rc, 0);
	CHECK_STR(err, "");
	CHECK_EQ(xlcfg_count(cfg), 4);
	s = xlcfg_find(cfg, "name");
	CHECK(s && s->val->type == XLVAL_STRING);
	CHECK_STR(s ? s->val->str : NULL, "web");
	CHECK_EQ(s ? s->line : -1, 1);
	CHECK_STR(s ? s->source : NULL, "vm.cfg");
	s = xlcfg_find(cfg, "memory");
	CHECK(s && s->val->type == XLVAL_NUMBER);
	CHECK_EQ(s ? s->val->num : 0, 512);
	CHECK_EQ(s ? s->line : -1, 2);
	CHECK_EQ(xlcfg_find(cfg, "vcpus")->line, 3);
	CHECK_EQ(xlcfg_find(cfg, "kernel")->line, 3);
	CHECK_EQ(xlval_as_u64(xlcfg_get(cfg, "vcpus"), &u), 0);
	CHECK_EQ(u, 2);
	CHECK_EQ(xlval_as_string(xlcfg_get(cfg, "kernel"), &str), 0);
	CHECK_STR(str, "/boot/vmlinuz");
	/* order of first appearance */
	CHECK_STR(xlcfg_at(cfg, 0)->key, "name");
	CHECK_STR(xlcfg_at(cfg, 3)->key, "kernel");
	CHECK(xlcfg_at(cfg, 4) == NULL);
	CHECK(xlcfg_get(cfg, "ramdisk") == NULL);
	CHECK_STR(xlcfg_source(cfg), "vm.cfg");
	xlcfg_free(cfg);
}

static void test_comments_and_blank_lines(void)
{
	int rc;
	struct xlcfg *cfg = parse("# a domain\n\n"
				  "memory = 256   # MiB\n"
				  "  ;;\n"
				  "name = \"a#b\" # the # inside quotes stays\n"
				  "# last line without newline", &rc);

	CHECK_EQ(rc, 0);
	CHECK_EQ(xlcfg_count(cfg), 2);
	CHECK_EQ(xlcfg_find(cfg, "memory")->line, 3);
	CHECK_EQ(xlcfg_get(cfg, "memory")->num, 256);
	CHECK_STR(xlcfg_get(cfg, "name")->str, "a#b");
	CHECK_EQ(xlcfg_find(cfg, "name")->line, 5);
	xlcfg_free(cfg);

	cfg = parse("", &rc);
	CHECK_EQ(rc, 0);
	CHECK_EQ(xlcfg_count(cfg), 0);
	CHECK_STR(xlcfg_source(cfg), "vm.cfg");
	xlcfg_free(cfg);

	/* CRLF line ends count as one line each */
	cfg = parse("a = 1\r\nb = 2\r\n", &rc);
	CHECK_EQ(rc, 0);
	CHECK_EQ(xlcfg_find(cfg, "b")->line, 2);
	xlcfg_free(cfg);

	/* the last setting needs no terminator */
	cfg = parse("a = 'x'", &rc);
	CHECK_EQ(rc, 0);
	CHECK_STR(xlcfg_get(cfg, "a")->str, "x");
	xlcfg_free(cfg);
}

static void test_numbers(void)
{
	int rc;
	struct xlcfg *cfg = parse("a = 0x200\nb = 0755\nc = 0\nd = 10\n"
				  "e = 18446744073709551615\nf = 0XfF\n", &rc);

	CHECK_EQ(rc, 0);
	CHECK_EQ(xlcfg_get(cfg, "a")->num, 512);
	CHECK_STR(xlcfg_get(cfg, "a")->str, "0x200");
	CHECK_EQ(xlcfg_get(cfg, "b")->num, 493);
	CHECK_EQ(xlcfg_get(cfg, "c")->num, 0);
	CHECK_EQ(xlcfg_get(cfg, "d")->num, 10);
	CHECK(xlcfg_get(cfg, "e")->num == UINT64_MAX);
	CHECK_EQ(xlcfg_get(cfg, "f")->num, 255);
	xlcfg_free(cfg);

	expect_error("memory = 512M\n", "vm.cfg:1: invalid number '512M'");
	expect_error("a = 1\nmode = 08\n", "vm.cfg:2: invalid number '08'");
	expect_error("a = 0x\n", "vm.cfg:1: invalid number '0x'");
	expect_error("a = 1.5\n", "vm.cfg:1: invalid number '1.5'");
	expect_error("a = 18446744073709551616\n",
		     "vm.cfg:1: number out of range '18446744073709551616'");
	expect_error("memory = -1\n", "vm.cfg:1: unexpected character '-' "
		     "(xl config files are not Python)");
}

static void test_parse_u64(void)
{
	uint64_t v = 7;

	CHECK_EQ(xlcfg_parse_u64("42", &v), 0);
	CHECK_EQ(v, 42);
	CHECK_EQ(xlcfg_parse_u64("0x10", &v), 0);
	CHECK_EQ(v, 16);
	CHECK_EQ(xlcfg_parse_u64("010", &v), 0);
	CHECK_EQ(v, 8);
	CHECK_EQ(xlcfg_parse_u64("", &v), -EINVAL);
	CHECK_EQ(xlcfg_parse_u64("+1", &v), -EINVAL);
	CHECK_EQ(xlcfg_parse_u64(" 1", &v), -EINVAL);
	CHECK_EQ(xlcfg_parse_u64("09", &v), -EINVAL);
	CHECK_EQ(xlcfg_parse_u64("0x1g", &v), -EINVAL);
	CHECK_EQ(xlcfg_parse_u64("0x10000000000000000", &v), -ERANGE);
	CHECK_EQ(v, 8);         /* untouched on error */
}

static void test_strings_and_escapes(void)
{
	int rc;
	struct xlcfg *cfg = parse(
		"a = \"back\\\\slash\"\n"
		"b = \"say \\\"hi\\\"\"\n"
		"c = 'it\\'s'\n"
		"d = \"tab\\tnl\\ncr\\r\"\n"
		"e = \"\\x41\\102\\7\"\n"
		"f = 'a\"b'\n"
		"g = \"\"\n"
		"h = \"caf\xc3\xa9\"\n", &rc);

	CHECK_EQ(rc, 0);
	CHECK_STR(xlcfg_get(cfg, "a")->str, "back\\slash");
	CHECK_STR(xlcfg_get(cfg, "b")->str, "say \"hi\"");
	CHECK_STR(xlcfg_get(cfg, "c")->str, "it's");
	CHECK_STR(xlcfg_get(cfg, "d")->str, "tab\tnl\ncr\r");
	CHECK_STR(xlcfg_get(cfg, "e")->str, "AB\a");
	CHECK_STR(xlcfg_get(cfg, "f")->str, "a\"b");
	CHECK_STR(xlcfg_get(cfg, "g")->str, "");
	CHECK_STR(xlcfg_get(cfg, "h")->str, "caf\xc3\xa9");
	CHECK_EQ(xlcfg_get(cfg, "g")->type, XLVAL_STRING);
	xlcfg_free(cfg);

	expect_error("a = 1\nb = 2\nkernel = \"/boot/vmlinuz\n",
		     "vm.cfg:3: unterminated string");
	expect_error("kernel = '/boot\nx'\n", "vm.cfg:1: unterminated string");
	expect_error("a = \"ends in backslash\\", "vm.cfg:1: unterminated string");
	expect_error("a = \"\\q\"", "vm.cfg:1: invalid escape '\\q' in string");
	expect_error("a = \"\\x4\"", "vm.cfg:1: \\x needs two hex digits in "
		     "string");
	expect_error("a = \"\\0\"", "vm.cfg:1: NUL character in string");
	expect_error("a = \"\\x00\"", "vm.cfg:1: NUL character in string");
	expect_error("a = \"\\400\"", "vm.cfg:1: octal escape above \\377 in "
		     "string");
}

static void test_lists(void)
{
	int rc;
	struct xlcfg *cfg = parse(
		"disk = [ 'a.img,,xvda',\n"
		"         # a comment inside\n"
		"         'b.img,,xvdb', ]\n"
		"empty = []\n"
		"nest = [1, [2, [\"x\"]], 3]\n"
		"open = [\n\n 'only'\n\n]\n", &rc);
	const struct xlval *v;

	CHECK_EQ(rc, 0);
	v = xlcfg_get(cfg, "disk");
	CHECK_EQ(v->type, XLVAL_LIST);
	CHECK_EQ(v->nitems, 2);
	CHECK_STR(v->items[0]->str, "a.img,,xvda");
	CHECK_EQ(v->items[0]->line, 1);
	CHECK_STR(v->items[1]->str, "b.img,,xvdb");
	CHECK_EQ(v->items[1]->line, 3);
	CHECK_EQ(xlcfg_get(cfg, "empty")->nitems, 0);
	v = xlcfg_get(cfg, "nest");
	CHECK_EQ(v->nitems, 3);
	CHECK_EQ(v->items[0]->num, 1);
	CHECK_EQ(v->items[1]->type, XLVAL_LIST);
	CHECK_EQ(v->items[1]->items[0]->num, 2);
	CHECK_STR(v->items[1]->items[1]->items[0]->str, "x");
	CHECK_EQ(v->items[2]->num, 3);
	v = xlcfg_get(cfg, "open");
	CHECK_EQ(v->nitems, 1);
	CHECK_EQ(v->items[0]->line, 8);
	CHECK_EQ(xlcfg_find(cfg, "open")->line, 6);
	xlcfg_free(cfg);

	expect_error("a = [ , ]\n", "vm.cfg:1: expected a value for 'a', "
		     "found ','");
	expect_error("a = [1 2]\n", "vm.cfg:1: expected ',' or ']' in list, "
		     "found a number");
	expect_error("a = 1\ndisk = [ 'x',\n 'y'\n", "vm.cfg:4: unterminated "
		     "list (opened on line 2)");
	expect_error("a = [1,, 2]\n", "vm.cfg:1: expected a value for 'a', "
		     "found ','");
	expect_error("a = [1; 2]\n", "vm.cfg:1: expected ',' or ']' in list, "
		     "found ';'");
	expect_error("a = ]\n", "vm.cfg:1: expected a value for 'a', found "
		     "']'");
}

static void test_nesting_limit(void)
{
	char text[64 * 1024];
	int rc, n;
	struct xlcfg *cfg;

	/* exactly XLCFG_MAX_DEPTH levels of list are fine */
	n = snprintf(text, sizeof(text), "a = ");
	for (int i = 0; i < XLCFG_MAX_DEPTH; i++)
		text[n++] = '[';
	for (int i = 0; i < XLCFG_MAX_DEPTH; i++)
		text[n++] = ']';
	text[n] = 0;
	cfg = parse(text, &rc);
	CHECK_EQ(rc, 0);
	xlcfg_free(cfg);

	/* one more is refused, and so is a deep hostile nest */
	n = snprintf(text, sizeof(text), "a = ");
	for (int i = 0; i <= XLCFG_MAX_DEPTH; i++)
		text[n++] = '[';
	text[n] = 0;
	expect_error(text, "vm.cfg:1: lists nested deeper than 16");
	memset(text + 4, '[', sizeof(text) - 5);
	text[sizeof(text) - 1] = 0;
	expect_error(text, "vm.cfg:1: lists nested deeper than 16");
}

static void test_override_and_append(void)
{
	int rc;
	struct xlcfg *cfg = parse(
		"memory = 256\n"
		"disk = ['a,,xvda']\n"
		"extra = \"console=hvc0\"\n"
		"memory = 1024\n"
		"disk += ['b,,xvdb', 'c,,xvdc']\n"
		"extra += \" quiet\"\n"
		"vif += ['bridge=br0']\n", &rc);
	const struct xlval *v;
	const char *text;

	CHECK_EQ(rc, 0);
	CHECK_EQ(xlcfg_count(cfg), 4);
	CHECK_EQ(xlcfg_get(cfg, "memory")->num, 1024);
	CHECK_EQ(xlcfg_find(cfg, "memory")->line, 4);
	CHECK_STR(xlcfg_at(cfg, 0)->key, "memory");     /* keeps its place */
	v = xlcfg_get(cfg, "disk");
	CHECK_EQ(v->nitems, 3);
	CHECK_STR(v->items[0]->str, "a,,xvda");
	CHECK_STR(v->items[2]->str, "c,,xvdc");
	CHECK_EQ(v->items[2]->line, 5);
	CHECK_EQ(xlcfg_find(cfg, "disk")->line, 5);
	CHECK_STR(xlcfg_get(cfg, "extra")->str, "console=hvc0 quiet");
	/* += on a key not set yet is a plain setting, as in xl */
	CHECK_EQ(xlcfg_get(cfg, "vif")->nitems, 1);

	/* a failing round leaves the config as it was */
	text = "memory = 64\nextra += ['x']\n";
	rc = xlcfg_parse(cfg, "more.cfg", text, strlen(text), err, sizeof(err));
	CHECK_EQ(rc, -EINVAL);
	CHECK_STR(err, "more.cfg:2: cannot add a list to the string 'extra'");
	CHECK_EQ(xlcfg_get(cfg, "memory")->num, 1024);
	CHECK_STR(xlcfg_get(cfg, "extra")->str, "console=hvc0 quiet");

	/* += type checks see earlier statements of the same round */
	text = "x = 'a'\nx = [1]\nx += ['b']\n";
	rc = xlcfg_parse(cfg, "more.cfg", text, strlen(text), err, sizeof(err));
	CHECK_EQ(rc, 0);
	CHECK_EQ(xlcfg_get(cfg, "x")->nitems, 2);
	CHECK_STR(xlcfg_find(cfg, "x")->source, "more.cfg");
	xlcfg_free(cfg);

	expect_error("memory = 1\nmemory += 2\n", "vm.cfg:2: '+=' on 'memory' "
		     "needs strings or lists, not numbers");
	expect_error("d = ['a']\nd += 'b'\n", "vm.cfg:2: cannot add a string "
		     "to the list 'd'");
}

static void test_command_line_override(void)
{
	int rc;
	struct xlcfg *cfg = parse("name = \"web\"\nmemory = 256\n", &rc);

	CHECK_EQ(rc, 0);
	CHECK_EQ(xlcfg_parse_override(cfg, "memory=512", err, sizeof(err)), 0);
	CHECK_EQ(xlcfg_get(cfg, "memory")->num, 512);
	CHECK_STR(xlcfg_find(cfg, "memory")->source, "command line");
	CHECK_EQ(xlcfg_find(cfg, "memory")->line, 1);
	CHECK_EQ(xlcfg_parse_override(cfg, "name=\"db\"; vcpus=2", err,
				      sizeof(err)), 0);
	CHECK_STR(xlcfg_get(cfg, "name")->str, "db");
	CHECK_EQ(xlcfg_get(cfg, "vcpus")->num, 2);
	/* xl syntax: a bare word is not a string */
	CHECK_EQ(xlcfg_parse_override(cfg, "name=web", err, sizeof(err)),
		 -EINVAL);
	CHECK_STR(err, "command line:1: unquoted string 'web' (write \"web\")");
	CHECK_STR(xlcfg_get(cfg, "name")->str, "db");
	/* the file stays the source named in messages without a line */
	CHECK_STR(xlcfg_source(cfg), "vm.cfg");
	xlcfg_free(cfg);
}

static void test_syntax_errors(void)
{
	expect_error("memory\n", "vm.cfg:1: expected '=' after 'memory', "
		     "found end of line");
	expect_error("memory 512\n", "vm.cfg:1: expected '=' after 'memory', "
		     "found a number");
	expect_error("= 5\n", "vm.cfg:1: expected a key, found '='");
	expect_error("'name' = 5\n", "vm.cfg:1: expected a key, found a "
		     "string");
	expect_error("a = 1\nmemory =\n", "vm.cfg:2: missing value for "
		     "'memory'");
	expect_error("memory = ", "vm.cfg:1: missing value for 'memory'");
	expect_error("type = hvm\n", "vm.cfg:1: unquoted string 'hvm' "
		     "(write \"hvm\")");
	expect_error("a = 1 b = 2\n", "vm.cfg:1: expected end of line or ';' "
		     "after the value of 'a', found a name");
	expect_error("kernel = \"a\" + \"b\"\n", "vm.cfg:1: unexpected "
		     "character '+'");
	expect_error("import os\n", "vm.cfg:1: expected '=' after 'import', "
		     "found a name");
	expect_error("a = 1\n\xc3\xa9 = 2\n", "vm.cfg:2: unexpected byte "
		     "0xc3");
	expect_error("a = 1 += 2\n", "vm.cfg:1: expected end of line or ';' "
		     "after the value of 'a', found '+='");
	{
		/* an embedded NUL is an error, not the end of the text */
		int rc;
		struct xlcfg *cfg = xlcfg_new();

		rc = xlcfg_parse(cfg, "vm.cfg", "a = 1\n\0b = 2\n", 13, err,
				 sizeof(err));
		CHECK_EQ(rc, -EINVAL);
		CHECK_STR(err, "vm.cfg:2: NUL byte in config");
		rc = xlcfg_parse(cfg, "vm.cfg", "a = '\0'\n", 8, err,
				 sizeof(err));
		CHECK_EQ(rc, -EINVAL);
		CHECK_STR(err, "vm.cfg:1: NUL byte in string");
		xlcfg_free(cfg);
	}
}

static void test_uppercase_keys(void)
{
	int rc;
	/* parsed here, so that domcfg can name the key in its error */
	struct xlcfg *cfg = parse("Memory = 1\nON_crash_2 = 'x'\n", &rc);

	CHECK_EQ(rc, 0);
	CHECK(xlcfg_find(cfg, "Memory") != NULL);
	CHECK(xlcfg_find(cfg, "memory") == NULL);
	CHECK(xlcfg_find(cfg, "ON_crash_2") != NULL);
	xlcfg_free(cfg);
}

static void test_too_many_settings(void)
{
	size_t cap = 16 * (XLCFG_MAX_SETTINGS + 1);
	char *text = malloc(cap);
	size_t n = 0;
	int rc;
	struct xlcfg *cfg;

	for (int i = 0; i < XLCFG_MAX_SETTINGS; i++)
		n += (size_t)snprintf(text + n, cap - n, "k%d = 1\n", i);
	cfg = parse(text, &rc);
	CHECK_EQ(rc, 0);
	CHECK_EQ(xlcfg_count(cfg), XLCFG_MAX_SETTINGS);
	/* re-setting an existing key is fine, a new one is not */
	CHECK_EQ(xlcfg_parse_override(cfg, "k0 = 2", err, sizeof(err)), 0);
	CHECK_EQ(xlcfg_parse_override(cfg, "extra = 2", err, sizeof(err)),
		 -EINVAL);
	CHECK_STR(err, "command line:1: more than 1024 settings");
	xlcfg_free(cfg);
	free(text);
}

static void test_value_accessors(void)
{
	int rc;
	struct xlcfg *cfg = parse("a = \"512\"\nb = \" 0x10 \"\nc = \"lots\"\n"
				  "d = [1]\ne = 0x10\nf = \"\"\n"
				  "g = \"99999999999999999999\"\n", &rc);
	uint64_t u = 0;
	const char *s = NULL;

	CHECK_EQ(rc, 0);
	CHECK_EQ(xlval_as_u64(xlcfg_get(cfg, "a"), &u), 0);
	CHECK_EQ(u, 512);
	CHECK_EQ(xlval_as_u64(xlcfg_get(cfg, "b"), &u), 0);
	CHECK_EQ(u, 16);
	CHECK_EQ(xlval_as_u64(xlcfg_get(cfg, "c"), &u), -EINVAL);
	CHECK_EQ(xlval_as_u64(xlcfg_get(cfg, "d"), &u), -EINVAL);
	CHECK_EQ(xlval_as_u64(xlcfg_get(cfg, "f"), &u), -EINVAL);
	CHECK_EQ(xlval_as_u64(xlcfg_get(cfg, "g"), &u), -ERANGE);
	CHECK_EQ(xlval_as_string(xlcfg_get(cfg, "e"), &s), 0);
	CHECK_STR(s, "0x10");
	CHECK_EQ(xlval_as_string(xlcfg_get(cfg, "d"), &s), -EINVAL);
	CHECK_STR(xlval_type_name(XLVAL_STRING), "string");
	CHECK_STR(xlval_type_name(XLVAL_NUMBER), "number");
	CHECK_STR(xlval_type_name(XLVAL_LIST), "list");
	xlcfg_free(cfg);
}

static void test_printable(void)
{
	char buf[16];

	CHECK_STR(xlcfg_printable(buf, sizeof(buf), "abc"), "abc");
	CHECK_STR(xlcfg_printable(buf, sizeof(buf), "a\nb"), "a\\x0ab");
	CHECK_STR(xlcfg_printable(buf, sizeof(buf), "0123456789abcdef"),
		  "012345678...");
	CHECK_STR(xlcfg_printable(buf, sizeof(buf), ""), "");
}

static void test_parse_file(void)
{
	char path[] = "/tmp/test_xlcfg_XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "name = 'web'\n# c\nvcpus = 3\n";
	struct xlcfg *cfg = xlcfg_new();
	char expect[300];

	CHECK(fd >= 0);
	CHECK_EQ(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	close(fd);
	CHECK_EQ(xlcfg_parse_file(cfg, path, err, sizeof(err)), 0);
	CHECK_EQ(xlcfg_get(cfg, "vcpus")->num, 3);
	CHECK_EQ(xlcfg_find(cfg, "vcpus")->line, 3);
	CHECK_STR(xlcfg_find(cfg, "vcpus")->source, path);
	unlink(path);
	CHECK_EQ(xlcfg_parse_file(cfg, path, err, sizeof(err)), -ENOENT);
	snprintf(expect, sizeof(expect), "%s: cannot read: %s", path,
		 strerror(ENOENT));
	CHECK_STR(err, expect);
	CHECK_EQ(xlcfg_get(cfg, "vcpus")->num, 3);
	xlcfg_free(cfg);
}

static void test_file_size_limit(void)
{
	char path[] = "/tmp/test_xlcfg_XXXXXX";
	int fd = mkstemp(path);
	char *text = malloc(XLCFG_MAX_FILE + 1);
	struct xlcfg *cfg = xlcfg_new();
	char expect[300];

	/* a file of exactly the limit parses: all comment, one setting */
	memset(text, '#', XLCFG_MAX_FILE + 1);
	memcpy(text, "a = 1\n", 6);
	CHECK(fd >= 0);
	CHECK_EQ(write(fd, text, XLCFG_MAX_FILE), XLCFG_MAX_FILE);
	CHECK_EQ(xlcfg_parse_file(cfg, path, err, sizeof(err)), 0);
	CHECK_EQ(xlcfg_get(cfg, "a")->num, 1);
	/* one byte more is refused before parsing */
	CHECK_EQ(write(fd, "#", 1), 1);
	CHECK_EQ(xlcfg_parse_file(cfg, path, err, sizeof(err)), -EFBIG);
	snprintf(expect, sizeof(expect), "%s: larger than %u bytes", path,
		 XLCFG_MAX_FILE);
	CHECK_STR(err, expect);
	close(fd);
	unlink(path);
	free(text);
	xlcfg_free(cfg);
}

UNIT_MAIN(test_basic_settings, test_comments_and_blank_lines, test_numbers,
	  test_parse_u64, test_strings_and_escapes, test_lists,
	  test_nesting_limit, test_override_and_append,
	  test_command_line_override, test_syntax_errors, test_uppercase_keys,
	  test_too_many_settings, test_value_accessors, test_printable,
	  test_parse_file, test_file_size_limit)
