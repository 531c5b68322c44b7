#include "boot/aml.h"

#include <string.h>

#define OP_ZERO 0x00
#define OP_ONE 0x01
#define OP_NAME 0x08
#define OP_BYTE 0x0A
#define OP_WORD 0x0B
#define OP_DWORD 0x0C
#define OP_STRING 0x0D
#define OP_QWORD 0x0E
#define OP_SCOPE 0x10
#define OP_BUFFER 0x11
#define OP_PACKAGE 0x12
#define OP_EXT 0x5B
#define OP_DEVICE 0x82
#define OP_ONES 0xFF

enum kind { K_PKG, K_BUFFER };

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->p = buf;
	a->cap = cap;
}

int aml_ok(const struct aml *a)
{
	return !a->bad && a->depth == 0;
}

void aml_bytes(struct aml *a, const void *b, size_t n)
{
	if (a->bad || n > a->cap - a->len) {
		a->bad = 1;
		return;
	}
	memcpy(a->p + a->len, b, n);
	a->len += n;
}

static void byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void le(struct aml *a, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		byte(a, (uint8_t)(v >> (8 * i)));
}

/* A NameString: optional root prefix, then one or more 4-character segments separated by
 * dots; short segments are padded with '_'. */
static void namestring(struct aml *a, const char *name)
{
	if (*name == '\\') {
		byte(a, '\\');
		name++;
	}
	const char *segs[4];
	size_t lens[4];
	int n = 0;
	while (*name && n < 4) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		segs[n] = name;
		lens[n++] = l;
		name += l + (dot ? 1 : 0);
		if (!dot)
			break;
	}
	if (n == 2)
		byte(a, 0x2E); /* DualNamePrefix */
	else if (n > 2) {
		byte(a, 0x2F); /* MultiNamePrefix */
		byte(a, (uint8_t)n);
	}
	for (int i = 0; i < n; i++) {
		char s[4] = { '_', '_', '_', '_' };
		memcpy(s, segs[i], lens[i] < 4 ? lens[i] : 4);
		aml_bytes(a, s, 4);
	}
}

void aml_name(struct aml *a, const char *name)
{
	byte(a, OP_NAME);
	namestring(a, name);
}

void aml_int(struct aml *a, uint64_t v)
{
	if (v == 0)
		byte(a, OP_ZERO);
	else if (v == 1)
		byte(a, OP_ONE);
	else if (v <= 0xFF) {
		byte(a, OP_BYTE);
		le(a, v, 1);
	} else if (v <= 0xFFFF) {
		byte(a, OP_WORD);
		le(a, v, 2);
	} else if (v <= 0xFFFFFFFFull) {
		byte(a, OP_DWORD);
		le(a, v, 4);
	} else {
		byte(a, OP_QWORD);
		le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	byte(a, OP_STRING);
	aml_bytes(a, s, strlen(s) + 1);
}

void aml_eisaid(struct aml *a, const char *id)
{
	/* three letters of 5 bits each, then four hex digits; stored big-endian */
	uint32_t v = (uint32_t)((id[0] - 0x40) & 0x1F) << 26 | (uint32_t)((id[1] - 0x40) & 0x1F) << 21 |
		     (uint32_t)((id[2] - 0x40) & 0x1F) << 16;
	for (int i = 3; i < 7; i++) {
		char c = id[i];
		unsigned d = c >= 'A' ? (unsigned)(c - 'A' + 10) : (unsigned)(c - '0');
		v |= (uint32_t)(d & 0xF) << (4 * (6 - i));
	}
	byte(a, OP_DWORD);
	byte(a, (uint8_t)(v >> 24));
	byte(a, (uint8_t)(v >> 16));
	byte(a, (uint8_t)(v >> 8));
	byte(a, (uint8_t)v);
}

/* Reserve room for a package length (up to 4 bytes) and remember where. */
static void open_pkg(struct aml *a)
{
	if (a->depth == AML_DEPTH) {
		a->bad = 1;
		return;
	}
	a->open[a->depth++] = a->len;
	le(a, 0, 4);
}

void aml_scope(struct aml *a, const char *name)
{
	byte(a, OP_SCOPE);
	open_pkg(a);
	namestring(a, name);
}

void aml_device(struct aml *a, const char *name)
{
	byte(a, OP_EXT);
	byte(a, OP_DEVICE);
	open_pkg(a);
	namestring(a, name);
}

void aml_package(struct aml *a, unsigned nelem)
{
	byte(a, OP_PACKAGE);
	open_pkg(a);
	byte(a, (uint8_t)nelem);
}

void aml_buffer(struct aml *a)
{
	byte(a, OP_BUFFER);
	open_pkg(a);
	/* the BufferSize: a DWordConst patched at close; 5 bytes */
	byte(a, OP_DWORD);
	le(a, 0, 4);
}

void aml_close(struct aml *a)
{
	if (a->bad || a->depth == 0) {
		a->bad = 1;
		return;
	}
	size_t at = a->open[--a->depth];
	size_t body = a->len - at - 4; /* bytes after the reserved length */
	/* A buffer's size operand counts the bytes after itself. */
	if (at + 9 <= a->len && a->p[at - 1] == OP_BUFFER) {
		uint32_t sz = (uint32_t)(body - 5);
		for (int i = 0; i < 4; i++)
			a->p[at + 5 + i] = (uint8_t)(sz >> (8 * i));
	}
	/* PkgLength counts itself: pick the encoding size n so that body + n fits. */
	size_t n = 1, total = body + 1;
	if (total > 63) {
		for (n = 2; n <= 4; n++) {
			total = body + n;
			if (total < (1ull << (4 + 8 * (n - 1))))
				break;
		}
		if (n > 4) {
			a->bad = 1;
			return;
		}
	}
	uint8_t enc[4];
	if (n == 1) {
		enc[0] = (uint8_t)total;
	} else {
		enc[0] = (uint8_t)(((n - 1) << 6) | (total & 0xF));
		for (size_t i = 1; i < n; i++)
			enc[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
	}
	memcpy(a->p + at, enc, n);
	memmove(a->p + at + n, a->p + at + 4, body);
	a->len -= 4 - n;
}

void aml_res_io(struct aml *a, uint16_t base, uint8_t len)
{
	uint8_t d[8] = { 0x47, 0x01, (uint8_t)base, (uint8_t)(base >> 8), (uint8_t)base,
			 (uint8_t)(base >> 8), 0x01, len };
	aml_bytes(a, d, sizeof(d));
}

void aml_res_irq(struct aml *a, unsigned irq)
{
	uint16_t mask = (uint16_t)(1u << irq);
	uint8_t d[3] = { 0x22, (uint8_t)mask, (uint8_t)(mask >> 8) };
	aml_bytes(a, d, sizeof(d));
}

/* Word address space descriptor: type 1 I/O or 2 bus number. */
static void word_space(struct aml *a, uint8_t type, uint8_t flags, uint16_t min, uint16_t max)
{
	uint16_t len = (uint16_t)(max - min + 1);
	uint8_t d[16] = { 0x88, 13, 0, type, 0x0C, flags, 0, 0,
			  (uint8_t)min, (uint8_t)(min >> 8), (uint8_t)max, (uint8_t)(max >> 8),
			  0, 0, (uint8_t)len, (uint8_t)(len >> 8) };
	aml_bytes(a, d, sizeof(d));
}

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	word_space(a, 2, 0, min, max);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max)
{
	word_space(a, 1, 3, min, max); /* entire range, positive decode */
}

void aml_res_dword_mem(struct aml *a, uint32_t min, uint32_t max)
{
	uint32_t len = max - min + 1;
	uint8_t d[26] = { 0x87, 23, 0, 0, 0x0C, 0x01 /* read-write, non-cacheable */ };
	uint32_t v[4] = { min, max, 0, len };
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 4; j++)
			d[10 + 4 * i + j] = (uint8_t)(v[i] >> (8 * j));
	aml_bytes(a, d, sizeof(d));
}

void aml_end_tag(struct aml *a)
{
	uint8_t d[2] = { 0x79, 0 };
	aml_bytes(a, d, sizeof(d));
}
