/* XSAVE and XRSTOR in emu_fpu.c against the host CPU (harness in emu_diff.h), for several
 * requested-feature bitmaps over all the state components this host's XCR0 enables (x87,
 * SSE, AVX, and AVX-512 where present), then the faults: #GP(0) for an operand not 64-byte
 * aligned, for reserved header bytes, for XSTATE_BV bits outside XCR0 and for reserved
 * MXCSR bits; #PF with CR2 and error code when the header lies on an unmapped page.
 *
 * Images are compared as the state they describe, not byte for byte: a component whose
 * XSTATE_BV bit is clear is in its initial configuration whatever its bytes say, and
 * whether XSAVE writes such a component (XINUSE) is the CPU's choice (SDM vol. 1, 13.6).
 * So both images have those components replaced by their initial values first, and the
 * XSTATE_BV bits are compared only for components that are not in the initial state. */
#include "emu_diff.h"

#define XS_SIZE 4096
#define HDR 512

static alignas(64) uint8_t host_xs[XS_SIZE], in_xs[XS_SIZE], out_xs[XS_SIZE];

struct comp {
	unsigned off, size;
};

/* Where component i is in the standard form (0 and 1 are in the legacy area). */
static struct comp comp_of(unsigned i)
{
	unsigned a, b, c, d;
	asm volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0xD), "c"(i));
	return (struct comp){ b, a };
}

static uint64_t xstate_bv(const uint8_t *xs)
{
	uint64_t v;
	memcpy(&v, xs + HDR, 8);
	return v;
}

/* Replace components with XSTATE_BV clear by their initial values (x87: FCW 0x037F, the
 * rest 0; MXCSR is not part of it: XSAVE stores it with SSE or AVX requested). */
static void normalize(uint8_t *xs, uint64_t xcr0)
{
	uint64_t bv = xstate_bv(xs);
	if (!(bv & 1)) {
		memset(xs, 0, 24);
		xs[0] = 0x7F, xs[1] = 0x03;
		memset(xs + 32, 0, 128);
	}
	if (!(bv & 2))
		memset(xs + 160, 0, 256);
	for (unsigned i = 2; i < 64; i++)
		if ((xcr0 >> i & 1) && !(bv >> i & 1)) {
			struct comp k = comp_of(i);
			memset(xs + k.off, 0, k.size);
		}
	/* bytes the SDM leaves undefined in the legacy area: as in test_emu_diff.c */
	xs[5] = 0;
	for (int r = 0; r < 8; r++)
		memset(xs + 32 + 16 * r + 10, 0, 6);
	memset(xs + 416, 0, 96);
}

/* Compare the state in two images, for the components in mask. */
static void check_same_state(const char *what, const uint8_t *a0, const uint8_t *b0,
			     uint64_t mask, uint64_t xcr0)
{
	static uint8_t a[XS_SIZE], b[XS_SIZE];
	memcpy(a, a0, XS_SIZE);
	memcpy(b, b0, XS_SIZE);
	normalize(a, xcr0);
	normalize(b, xcr0);
	uint64_t bad = 0;
	if ((mask & 1) && (memcmp(a, b, 24) || memcmp(a + 32, b + 32, 128)))
		bad |= 1;
	if ((mask & 6) && memcmp(a + 24, b + 24, 8))
		bad |= 2;
	if ((mask & 2) && memcmp(a + 160, b + 160, 256))
		bad |= 2;
	for (unsigned i = 2; i < 64; i++)
		if (mask >> i & 1) {
			struct comp k = comp_of(i);
			if (memcmp(a + k.off, b + k.off, k.size))
				bad |= 1ull << i;
		}
	/* XSTATE_BV: equal for the components whose state is not the initial one */
	static uint8_t init[XS_SIZE];
	memset(init, 0, sizeof(init));
	normalize(init, xcr0);
	uint64_t diff = (xstate_bv(a) ^ xstate_bv(b)) & mask;
	for (unsigned i = 0; i < 64; i++)
		if (diff >> i & 1) {
			struct comp k = i == 0 ? (struct comp){ 0, 24 } : i == 1 ? (struct comp){ 160, 256 }
								   : comp_of(i);
			if (memcmp(a + k.off, init + k.off, k.size))
				bad |= 1ull << i;
		}
	if (bad)
		fprintf(stderr, "%s: components 0x%llx differ\n", what, (unsigned long long)bad);
	CHECK_EQ(bad, 0);
}

typedef void (*xs_op)(const uint8_t *operand, uint64_t rfbm, const uint8_t **span);

/* Load in_xs (every enabled component), run insn with EDX:EAX = rfbm, read the state back
 * into out_xs, and put the host state back. */
#define XS_OP(name, insn)                                                                  \
	static void name(const uint8_t *operand, uint64_t rfbm, const uint8_t **span)      \
	{                                                                                  \
		asm volatile("lea 1f(%%rip), %%r8\n\t"                                     \
			     "lea 2f(%%rip), %%r9\n\t"                                     \
			     "mov %%r8, 0(%[sp])\n\t"                                      \
			     "mov %%r9, 8(%[sp])\n\t"                                      \
			     "mov $-1, %%eax\n\t"                                          \
			     "mov $-1, %%edx\n\t"                                          \
			     "xsave64 (%[host])\n\t"                                       \
			     "xrstor64 (%[in])\n\t"                                        \
			     "mov %[lo], %%eax\n\t"                                        \
			     "mov %[hi], %%edx\n\t"                                        \
			     "1: " insn "\n2:\n\t"                                         \
			     "mov $-1, %%eax\n\t"                                          \
			     "mov $-1, %%edx\n\t"                                          \
			     "xsave64 (%[out])\n\t"                                        \
			     "xrstor64 (%[host])"                                          \
			     :                                                             \
			     : "D"(operand), [host] "r"(host_xs), [in] "r"(in_xs),         \
			       [out] "r"(out_xs), [lo] "r"((uint32_t)rfbm),                \
			       [hi] "r"((uint32_t)(rfbm >> 32)), [sp] "r"(span)            \
			     : "rax", "rdx", "r8", "r9", "memory");                        \
	}

XS_OP(op_xsave, "xsave64 (%%rdi)")
XS_OP(op_xrstor, "xrstor64 (%%rdi)")

struct xs_run {
	xs_op op;
	const uint8_t *operand;
	uint64_t rfbm;
	const uint8_t *span[2];
};

static void xs_tramp(void *arg)
{
	struct xs_run *x = arg;
	x->op(x->operand, x->rfbm, x->span);
}

/* Every enabled component away from its initial state (but PKRU, which must stay 0 for this
 * process to reach its memory), read back as the CPU stores it. */
static void make_state(uint8_t *xs, uint64_t xcr0, uint8_t seed)
{
	memset(xs, 0, XS_SIZE);
	asm volatile("fxsave64 %0" : "=m"(*(uint8_t(*)[512])xs));
	uint16_t fcw = 0x027F, fsw = 2 << 11;
	memcpy(xs, &fcw, 2);
	memcpy(xs + 2, &fsw, 2);
	xs[4] = 0xC0;
	for (int i = 0; i < 16; i++)
		xs[32 + 16 * 6 + i % 10] = (uint8_t)(seed + i), xs[32 + 16 * 7 + i % 10] = 0x40;
	uint32_t mxcsr = 0x1F80 ^ (seed & 0x40) << 9; /* FZ in one of the two */
	memcpy(xs + 24, &mxcsr, 4);
	for (int i = 0; i < 256; i++)
		xs[160 + i] = (uint8_t)(seed + 3 * i);
	for (unsigned c = 2; c < 64; c++)
		if ((xcr0 >> c & 1) && c != 9) {
			struct comp k = comp_of(c);
			for (unsigned i = 0; i < k.size; i++)
				xs[k.off + i] = (uint8_t)(seed + c + i);
		}
	uint64_t bv = xcr0 & ~0x200ull;
	memcpy(xs + HDR, &bv, 8);
	/* as the CPU stores it */
	struct xs_run x = { op_xsave, in_xs, 0, { NULL, NULL } };
	struct native_fault f;
	memcpy(in_xs, xs, XS_SIZE);
	native_call(xs_tramp, &x, &f);
	CHECK_EQ(f.sig, 0);
	memcpy(xs, out_xs, XS_SIZE);
}

static alignas(64) uint8_t st_p[XS_SIZE], st_q[XS_SIZE];

/* One instruction both ways: prior state p, operand at offset off of both memories. */
static enum emu_result xs_diff(const char *what, xs_op op, const uint8_t *p, size_t off,
			       uint64_t rfbm, struct emu_cpu *c)
{
	uint64_t xcr0 = host_xcr0();
	struct xs_run x = { op, native + off, rfbm, { NULL, NULL } };
	struct native_fault f;
	memcpy(in_xs, p, XS_SIZE);
	memset(out_xs, 0, XS_SIZE);
	native_call(xs_tramp, &x, &f);

	guest64(c, xcr0);
	c->xsave_valid = 1;
	memcpy(c->xs, p, XS_SIZE);
	struct diff_regs r = { .rax = (uint32_t)rfbm, .rdx = rfbm >> 32, .rflags = 0x202,
			       .rdi = gaddr(native + off), .span = { x.span[0], x.span[1] } };
	enum emu_result res = emu_run(c, &r);
	if (!diff_same_end(what, f.sig != 0, res, c, &f))
		return res;
	if (op == op_xsave) /* the image in memory */
		check_same_state(what, guest + off, native + off, rfbm & xcr0, xcr0);
	else /* the state loaded */
		check_same_state(what, c->xs, out_xs, xcr0 & ~0x200ull, xcr0);
	return res;
}

static void test_xsave(void)
{
	struct emu_cpu c;
	native_map();
	uint64_t xcr0 = host_xcr0();
	make_state(st_p, xcr0, 0x11);
	make_state(st_q, xcr0, 0x52);
	uint64_t rfbms[] = { 1, 2, 3, 4, 7, xcr0 & ~0x200ull, ~0ull & ~0x200ull };
	for (size_t i = 0; i < sizeof(rfbms) / sizeof(rfbms[0]); i++) {
		/* over an image of the other state, so that what is not written shows */
		both_fill(st_q, 0, XS_SIZE);
		xs_diff("xsave", op_xsave, st_p, 0, rfbms[i], &c);
	}
	CHECK_EQ(xs_diff("xsave misaligned", op_xsave, st_p, 32, 7, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 13);
	/* the legacy area in page 1, the header on the unmapped page */
	CHECK_EQ(xs_diff("xsave header unmapped", op_xsave, st_p, 2 * PG - 512, 3, &c),
		 EMU_FAULT);
	CHECK_EQ(c.vector, 14);
}

static void test_xrstor(void)
{
	struct emu_cpu c;
	uint64_t xcr0 = host_xcr0();
	uint64_t rfbms[] = { 1, 2, 3, 4, 7, xcr0 & ~0x200ull };
	for (size_t i = 0; i < sizeof(rfbms) / sizeof(rfbms[0]); i++) {
		both_fill(st_q, 0, XS_SIZE);
		xs_diff("xrstor", op_xrstor, st_p, 0, rfbms[i], &c);
		/* with XSTATE_BV saying "initial" for SSE and AVX */
		uint64_t bv = xstate_bv(st_q) & ~6ull;
		both_fill(&bv, HDR, 8);
		xs_diff("xrstor init", op_xrstor, st_p, 0, rfbms[i], &c);
	}
	both_fill(st_q, 0, XS_SIZE);
	uint64_t bad = 1ull << 62;
	both_fill(&bad, HDR, 8);
	CHECK_EQ(xs_diff("xrstor bv outside xcr0", op_xrstor, st_p, 0, 7, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 13);
	both_fill(st_q, 0, XS_SIZE);
	uint8_t one = 1;
	both_fill(&one, HDR + 20, 1);
	CHECK_EQ(xs_diff("xrstor reserved header", op_xrstor, st_p, 0, 7, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 13);
	both_fill(st_q, 0, XS_SIZE);
	uint32_t mx = 0x1F80 | 1u << 20;
	both_fill(&mx, 24, 4);
	CHECK_EQ(xs_diff("xrstor reserved mxcsr", op_xrstor, st_p, 0, 7, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 13);
	CHECK_EQ(xs_diff("xrstor misaligned", op_xrstor, st_p, 16, 7, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 13);
	both_fill(st_q, 2 * PG - 512, 512);
	CHECK_EQ(xs_diff("xrstor header unmapped", op_xrstor, st_p, 2 * PG - 512, 3, &c),
		 EMU_FAULT);
	CHECK_EQ(c.vector, 14);
}

UNIT_MAIN(test_xsave, test_xrstor)
