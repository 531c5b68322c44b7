#include "boot/aml.h"

#include <string.h>

#define OP_ZERO 0x00
#define OP_ONE 0x01
#define OP_NAME 0x08
#define OP_BYTE 0x0A
#define OP_WORD 0x0B
#define OP_DWORD 0x0C
#define OP_QWORD 0x0E
#define OP_SCOPE 0x10
#define OP_BUFFER 0x11
#define OP_PACKAGE 0x12
#define OP_ONES 0xFF
#define OP_EXT 0x5B
#define OP_EXT_DEVICE 0x82
#define PREFIX_DUAL 0x2E
#define PREFIX_MULTI 0x2F

void aml_init(struct aml *a, uint8_t *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->p = buf;
	a->cap = cap;
}

bool aml_ok(const struct aml *a)
{
	return !a->overflow && a->depth == 0;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->overflow || n > a->cap - a->len) {
		a->overflow = true;
		return;
	}
	memcpy(a->p + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void le(struct aml *a, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		aml_byte(a, (uint8_t)(v >> (8 * i)));
}

static void nameseg(struct aml *a, const char *s, size_t n)
{
	char seg[4] = { '_', '_', '_', '_' };
	memcpy(seg, s, n > 4 ? 4 : n);
	aml_bytes(a, seg, 4);
}

void aml_namestring(struct aml *a, const char *name)
{
	if (*name == '\\') {
		aml_byte(a, '\\');
		name++;
	}
	const char *segs[8];
	size_t lens[8];
	unsigned n = 0;
	while (*name && n < 8) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);
		segs[n] = name;
		lens[n++] = l;
		name += l + (dot ? 1 : 0);
	}
	if (n == 0) {
		aml_byte(a, 0); /* NullName: the root itself after '\' */
		return;
	}
	if (n == 2)
		aml_byte(a, PREFIX_DUAL);
	else if (n > 2) {
		aml_byte(a, PREFIX_MULTI);
		aml_byte(a, (uint8_t)n);
	}
	for (unsigned i = 0; i < n; i++)
		nameseg(a, segs[i], lens[i]);
}

void aml_int(struct aml *a, uint64_t v)
{
	if (v == 0)
		aml_byte(a, OP_ZERO);
	else if (v == 1)
		aml_byte(a, OP_ONE);
	else if (v <= 0xFF) {
		aml_byte(a, OP_BYTE);
		le(a, v, 1);
	} else if (v <= 0xFFFF) {
		aml_byte(a, OP_WORD);
		le(a, v, 2);
	} else if (v <= 0xFFFFFFFFu) {
		aml_byte(a, OP_DWORD);
		le(a, v, 4);
	} else {
		aml_byte(a, OP_QWORD);
		le(a, v, 8);
	}
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, OP_NAME);
	aml_namestring(a, name);
}

void aml_eisaid(struct aml *a, const char *id)
{
	/* Three letters in 5 bits each, then four hex digits, stored big-endian. */
	uint32_t v = 0;
	if (strlen(id) != 7) {
		a->overflow = true;
		return;
	}
	for (int i = 0; i < 3; i++)
		v = (v << 5) | ((uint32_t)(id[i] - 0x40) & 0x1F);
	for (int i = 3; i < 7; i++) {
		char c = id[i];
		uint32_t d = c >= 'A' ? (uint32_t)(c - 'A' + 10) : (uint32_t)(c - '0');
		v = (v << 4) | (d & 0xF);
	}
	aml_byte(a, OP_DWORD);
	aml_byte(a, (uint8_t)(v >> 24));
	aml_byte(a, (uint8_t)(v >> 16));
	aml_byte(a, (uint8_t)(v >> 8));
	aml_byte(a, (uint8_t)v);
}

static void open_pkg(struct aml *a)
{
	if (a->depth >= AML_MAX_DEPTH) {
		a->overflow = true;
		return;
	}
	a->open[a->depth++] = a->len;
}

void aml_close(struct aml *a)
{
	if (a->depth == 0) {
		a->overflow = true;
		return;
	}
	size_t start = a->open[--a->depth];
	if (a->overflow)
		return;
	size_t body = a->len - start;
	/* PkgLength counts its own bytes: 1 byte up to 63, else 2-4 bytes of 4+8k bits. */
	size_t n = body + 1 < 64 ? 1 : body + 2 < (1u << 12) ? 2 : body + 3 < (1u << 20) ? 3 : 4;
	size_t total = body + n;
	if (n > a->cap - a->len || total >= (1u << 28)) {
		a->overflow = true;
		return;
	}
	memmove(a->p + start + n, a->p + start, body);
	a->len += n;
	if (n == 1) {
		a->p[start] = (uint8_t)total;
		return;
	}
	a->p[start] = (uint8_t)(((n - 1) << 6) | (total & 0xF));
	for (size_t i = 1; i < n; i++)
		a->p[start + i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
}

void aml_open_scope(struct aml *a, const char *name)
{
	aml_byte(a, OP_SCOPE);
	open_pkg(a);
	aml_namestring(a, name);
}

void aml_open_device(struct aml *a, const char *name)
{
	aml_byte(a, OP_EXT);
	aml_byte(a, OP_EXT_DEVICE);
	open_pkg(a);
	aml_namestring(a, name);
}

void aml_open_package(struct aml *a, unsigned n)
{
	aml_byte(a, OP_PACKAGE);
	open_pkg(a);
	aml_byte(a, (uint8_t)n);
}

/* The buffer's size operand must precede its bytes, so the template is written after a
 * placeholder DWordPrefix size that aml_res_end() fills in. */
void aml_open_buffer(struct aml *a)
{
	aml_byte(a, OP_BUFFER);
	open_pkg(a);
	aml_byte(a, OP_DWORD);
	le(a, 0, 4);
}

void aml_res_end(struct aml *a)
{
	aml_byte(a, 0x79);
	aml_byte(a, 0x00); /* checksum 0: "treat as correct" */
	if (a->overflow || a->depth == 0)
		return;
	size_t start = a->open[a->depth - 1];
	uint32_t size = (uint32_t)(a->len - start - 5);
	for (int i = 0; i < 4; i++)
		a->p[start + 1 + i] = (uint8_t)(size >> (8 * i));
}

void aml_res_io(struct aml *a, uint16_t base, uint8_t len)
{
	aml_byte(a, 0x47); /* I/O port descriptor, 7 bytes */
	aml_byte(a, 0x01); /* 16-bit decode */
	le(a, base, 2);
	le(a, base, 2);
	aml_byte(a, 1);
	aml_byte(a, len);
}

void aml_res_irq(struct aml *a, unsigned irq)
{
	aml_byte(a, 0x22); /* IRQ descriptor, 2 bytes: edge, active high, exclusive */
	le(a, 1u << (irq & 15), 2);
}

/* Address space descriptors: producer, fixed min and max (general flags 0x0C). */
static void addr_space(struct aml *a, uint8_t tag, uint16_t len, uint8_t rtype,
		       uint8_t tflags, unsigned w, uint64_t min, uint64_t max)
{
	aml_byte(a, tag);
	le(a, len, 2);
	aml_byte(a, rtype);
	aml_byte(a, 0x0C);
	aml_byte(a, tflags);
	le(a, 0, w);             /* granularity */
	le(a, min, w);
	le(a, max, w);
	le(a, 0, w);             /* translation */
	le(a, max - min + 1, w); /* length */
}

void aml_res_bus(struct aml *a, uint16_t min, uint16_t max)
{
	addr_space(a, 0x88, 13, 2, 0, 2, min, max);
}

void aml_res_io_window(struct aml *a, uint32_t min, uint32_t max)
{
	addr_space(a, 0x87, 23, 1, 0x03, 4, min, max);
}

void aml_res_mem32_window(struct aml *a, uint32_t min, uint32_t max, bool prefetch)
{
	addr_space(a, 0x87, 23, 0, (uint8_t)(0x01 | (prefetch ? 0x06 : 0)), 4, min, max);
}

void aml_res_mem64_window(struct aml *a, uint64_t min, uint64_t max, bool prefetch)
{
	addr_space(a, 0x8A, 43, 0, (uint8_t)(0x01 | (prefetch ? 0x06 : 0)), 8, min, max);
}
