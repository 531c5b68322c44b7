/* Differential test of CMPXCHG8B and CMPXCHG16B in emu_cpu.c against the host CPU (harness in
 * emu_diff.h): the equal and the not-equal case, with and without LOCK, with registers whose
 * upper halves and RFLAGS bits would show any stray write; then the faults: #GP(0) for a
 * CMPXCHG16B operand that is not 16-byte aligned (also when only the segment base makes it
 * so), #GP(0) for a non-canonical address, #PF with CR2 and error code for an operand on or
 * running into an unmapped page, #UD for a register operand. */
#include <asm/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emu_diff.h"

typedef void (*cx_op)(struct diff_regs *r, const uint8_t *in, uint8_t *out);
#define CX_OP(name, insn)                                                                  \
	static void name(struct diff_regs *r, const uint8_t *in, uint8_t *out)             \
	{                                                                                  \
		NATIVE_FX(insn, r, in, out);                                               \
	}

CX_OP(op_8b, "cmpxchg8b (%%rdi)")
CX_OP(op_lock_8b, "lock cmpxchg8b (%%rdi)")
CX_OP(op_16b, "cmpxchg16b (%%rdi)")
CX_OP(op_lock_16b, "lock cmpxchg16b (%%rdi)")
CX_OP(op_gs_16b, "lock cmpxchg16b %%gs:(%%rdi)")
CX_OP(op_8b_reg, ".byte 0x0F, 0xC7, 0xC8") /* cmpxchg8b with ModRM 11 001 000 */
CX_OP(op_lock_8b_reg, ".byte 0xF0, 0x0F, 0xC7, 0xC8")

static alignas(16) uint8_t fx_in[512], fx_out[512];

struct cx_run {
	cx_op op;
	struct diff_regs *r;
};

static void cx_tramp(void *arg)
{
	struct cx_run *x = arg;
	x->op(x->r, fx_in, fx_out);
}

/* Run op on the operand at offset off of both memories (len bytes compared afterwards).
 * raw: rdi is used as given on both sides (an address outside the test pages). gs: the
 * GS base, as an offset into the pages, for %gs: forms (0: none). */
static enum emu_result cx_diff(const char *what, cx_op op, const struct diff_regs *r0,
			       size_t off, size_t len, int raw, size_t gs, struct emu_cpu *c)
{
	struct diff_regs r = *r0;
	struct native_fault f;
	struct cx_run x = { op, &r };
	if (!raw)
		r.rdi = (uint64_t)(uintptr_t)(native + off);
	if (gs)
		syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)(native + gs));
	native_call(cx_tramp, &x, &f);
	if (gs)
		syscall(SYS_arch_prctl, ARCH_SET_GS, 0ul);

	guest64(c, host_xcr0());
	struct diff_regs re = *r0;
	re.span[0] = r.span[0], re.span[1] = r.span[1];
	if (!raw)
		re.rdi = gaddr(native + off);
	if (gs)
		c->sregs.gs.base = gaddr(native + gs);
	enum emu_result res = emu_run(c, &re);
	if (!diff_same_end(what, f.sig != 0, res, c, &f))
		return res;
	diff_same_regs(c, &r);
	if (len && memcmp(guest + off, native + off, len)) {
		fprintf(stderr, "%s: memory differs\n", what);
		CHECK(0);
	}
	return res;
}

static void set_mem(size_t off, uint64_t lo, uint64_t hi)
{
	both_fill(&lo, off, 8);
	both_fill(&hi, off + 8, 8);
}

/* Upper halves in every register, and all arithmetic flags but ZF set (then all clear but
 * ZF), so that CMPXCHG8B's 32-bit results and the flags it must not touch are visible. */
static const uint64_t RAX = 0xAAAAAAAA11111111ull, RDX = 0xBBBBBBBB22222222ull;
static const uint64_t RBX = 0xCCCCCCCC33333333ull, RCX = 0xDDDDDDDD44444444ull;

static void test_cmpxchg8b(void)
{
	struct emu_cpu c;
	native_map();
	asm volatile("fxsave64 %0" : "=m"(fx_in));
	cx_op ops[2] = { op_8b, op_lock_8b };
	uint64_t flags[2] = { 0x202 | 0x895, 0x202 | 0x40 };
	for (int i = 0; i < 2; i++)
		for (int fl = 0; fl < 2; fl++) {
			struct diff_regs r = { .rax = RAX, .rbx = RBX, .rcx = RCX, .rdx = RDX,
					       .rflags = flags[fl] };
			set_mem(0x100, 0x2222222211111111ull, 0x5555555555555555ull);
			CHECK_EQ(cx_diff("8b equal", ops[i], &r, 0x100, 16, 0, 0, &c), EMU_DONE);
			CHECK(c.regs.rflags & 0x40);
			set_mem(0x100, 0x2222222211111112ull, 0x5555555555555555ull);
			CHECK_EQ(cx_diff("8b not equal", ops[i], &r, 0x100, 16, 0, 0, &c),
				 EMU_DONE);
			CHECK(!(c.regs.rflags & 0x40));
			CHECK_EQ(c.regs.rax, 0x11111112); /* zero-extended in 64-bit mode */
		}
	/* no alignment needed: an operand at offset 4 works */
	struct diff_regs r = { .rax = RAX, .rbx = RBX, .rcx = RCX, .rdx = RDX, .rflags = 0x202 };
	set_mem(0x104, 0x2222222211111111ull, 0);
	cx_diff("8b unaligned", op_lock_8b, &r, 0x104, 8, 0, 0, &c);
	/* half of it on the unmapped page */
	set_mem(2 * PG - 16, 0x2222222211111111ull, 0x2222222211111111ull);
	CHECK_EQ(cx_diff("8b straddle", op_lock_8b, &r, 2 * PG - 4, 4, 0, 0, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 14);
	CHECK_EQ(c.cr2, GBASE + 2 * PG);
	/* a register operand: #UD, with or without LOCK */
	CHECK_EQ(cx_diff("8b reg", op_8b_reg, &r, 0, 0, 0, 0, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 6);
	CHECK_EQ(cx_diff("lock 8b reg", op_lock_8b_reg, &r, 0, 0, 0, 0, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 6);
	/* a non-canonical address: #GP(0), not a page fault */
	r.rdi = 0x8000000000000000ull;
	CHECK_EQ(cx_diff("8b non-canonical", op_8b, &r, 0, 0, 1, 0, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 13);
}

static void test_cmpxchg16b(void)
{
	struct emu_cpu c;
	native_map();
	asm volatile("fxsave64 %0" : "=m"(fx_in));
	cx_op ops[2] = { op_16b, op_lock_16b };
	for (int i = 0; i < 2; i++) {
		struct diff_regs r = { .rax = RAX, .rbx = RBX, .rcx = RCX, .rdx = RDX,
				       .rflags = 0x202 | 0x8D5 };
		set_mem(0x200, RAX, RDX);
		CHECK_EQ(cx_diff("16b equal", ops[i], &r, 0x200, 16, 0, 0, &c), EMU_DONE);
		CHECK(c.regs.rflags & 0x40);
		set_mem(0x200, RAX, RDX + 1);
		CHECK_EQ(cx_diff("16b not equal", ops[i], &r, 0x200, 16, 0, 0, &c), EMU_DONE);
		CHECK_EQ(c.regs.rdx, RDX + 1);
	}
	struct diff_regs r = { .rax = RAX, .rbx = RBX, .rcx = RCX, .rdx = RDX, .rflags = 0x202 };
	CHECK_EQ(cx_diff("16b misaligned", op_lock_16b, &r, 0x208, 0, 0, 0, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 13);
	/* aligned offset, misaligned GS base: the alignment is the linear address's */
	r.rdi = 0x100;
	CHECK_EQ(cx_diff("16b gs misaligned", op_gs_16b, &r, 0, 0, 1, 8, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 13);
	/* and with an aligned GS base it works */
	set_mem(0x210, RAX, RDX);
	CHECK_EQ(cx_diff("16b gs", op_gs_16b, &r, 0x210, 16, 1, 0x110, &c), EMU_DONE);
	r.rdi = 0x0000800000000000ull;
	CHECK_EQ(cx_diff("16b non-canonical", op_16b, &r, 0, 0, 1, 0, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 13);
	CHECK_EQ(cx_diff("16b unmapped", op_lock_16b, &r, 2 * PG + 16, 0, 0, 0, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 14);
}

UNIT_MAIN(test_cmpxchg8b, test_cmpxchg16b)
