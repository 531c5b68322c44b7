/* IRET in emu_cpu.c against the host CPU, for the forms user mode can run: IRETQ, IRETD and
 * IRET (16-bit) from CPL 3 to CPL 3, to 64-bit and to compatibility-mode code. The native
 * IRET goes to an address that is not mapped, and the fetch fault's signal frame gives the
 * state it left (RIP, RSP, RFLAGS, CS, SS). Faults compared the same way: a frame running
 * into an unmapped page (#PF), a non-canonical stack (#SS(0)), a return to CPL 0 (#GP(sel)),
 * a bad SS (#GP), a non-canonical RIP (#GP(0)), LOCK (#UD).
 * The forms user mode cannot run (from CPL 0, with a privilege change, 32-bit protected mode
 * stack-limit faults) are checked against results worked out by hand from the SDM's IRET
 * operation section, below the differential part. */
#include "emu_diff.h"

/* Run insn with RSP at frame and RFLAGS fl; it never comes back but through the signal
 * handler. */
#define IRET_OP(name, insn)                                                                \
	static void name(uint64_t frame, uint64_t fl, const uint8_t **span)                \
	{                                                                                  \
		asm volatile("lea 1f(%%rip), %%r8\n\t"                                     \
			     "lea 2f(%%rip), %%r9\n\t"                                     \
			     "mov %%r8, 0(%[sp])\n\t"                                      \
			     "mov %%r9, 8(%[sp])\n\t"                                      \
			     "pushq %[fl]\n\t"                                              \
			     "popfq\n\t"                                                    \
			     "mov %[f], %%rsp\n\t"                                         \
			     "1: " insn "\n2:\n\t"                                         \
			     "ud2"                                                         \
			     :                                                             \
			     : [f] "r"(frame), [fl] "r"(fl), [sp] "r"(span)                \
			     : "r8", "r9", "memory");                                      \
	}

IRET_OP(op_iretq, "iretq")
IRET_OP(op_iretd, "iretl")
IRET_OP(op_iretw, "iretw")
IRET_OP(op_lock_iretq, ".byte 0xF0, 0x48, 0xCF")

struct iret_run {
	void (*op)(uint64_t frame, uint64_t fl, const uint8_t **span);
	uint64_t frame, fl;
	const uint8_t *span[2];
};

static void iret_tramp(void *arg)
{
	struct iret_run *x = arg;
	x->op(x->frame, x->fl, x->span);
}

/* A frame of five size-byte values (RIP, CS, RFLAGS, RSP, SS) at offset off of both
 * memories; returns its address. */
static uint64_t frame(size_t off, int size, uint64_t ip, uint64_t cs, uint64_t fl, uint64_t sp,
		      uint64_t ss)
{
	uint64_t v[5] = { ip, cs, fl, sp, ss };
	for (int i = 0; i < 5; i++)
		if (off + (size_t)(i + 1) * (size_t)size <= 2 * PG)
			both_fill(&v[i], off + (size_t)i * (size_t)size, (size_t)size);
	return (uint64_t)(uintptr_t)(native + off);
}

/* Bits of RFLAGS the comparison leaves out: RF, which the CPU sets in the image it saves
 * for the fault that stops the native run, not IRET's doing. */
#define RFLAGS_RF 0x10000ull

typedef void (*iret_op)(uint64_t frame, uint64_t fl, const uint8_t **span);

/* IRET both ways from RSP rsp and RFLAGS old_fl. */
static enum emu_result iret_diff(const char *what, iret_op op,
				 uint64_t rsp, uint64_t old_fl, struct emu_cpu *c)
{
	struct iret_run x = { op, rsp, old_fl, { NULL, NULL } };
	struct native_fault f;
	native_call(iret_tramp, &x, &f);
	CHECK(f.sig != 0); /* it always ends in a signal */

	guest64(c, host_xcr0());
	c->regs.rsp = rsp;
	c->regs.rflags = old_fl;
	size_t n = (size_t)(x.span[1] - x.span[0]);
	enum emu_result res = emu_execute(c, x.span[0], n);
	int native_faulted_at_iret = f.rip == (uint64_t)(uintptr_t)x.span[0];
	if (!diff_same_end(what, native_faulted_at_iret, res, c, &f))
		return res;
	CHECK_EQ(c->regs.rip, f.rip);
	CHECK_EQ(c->regs.rsp, f.rsp);
	CHECK_EQ(c->regs.rflags & ~RFLAGS_RF, f.rflags & ~RFLAGS_RF);
	CHECK_EQ(c->sregs.cs.selector, f.cs);
	CHECK_EQ(c->sregs.ss.selector, f.ss);
	return res;
}

/* Popped flags: CF PF AF ZF SF DF OF, NT, ID, and at CPL 3 ineffective IOPL 3, VIF, VIP,
 * with IF clear (it stays set: IOPL 0 < CPL). */
#define FL_POPPED (0xCD5ull | 0x4000 | 0x200000 | 0x3000 | 0x180000)

static void test_iret_user(void)
{
	struct emu_cpu c;
	native_map();
	uint64_t nowhere = (uint64_t)(uintptr_t)(native + 2 * PG); /* PROT_NONE */
	uint64_t sp = (uint64_t)(uintptr_t)(native + 0x1230);
	uint64_t f = frame(0x800, 8, nowhere + 0x10, U_CS64, FL_POPPED, sp, U_DS);
	iret_diff("iretq", op_iretq, f, 0x202, &c);
	CHECK_EQ(c.sregs.cs.l, 1);
	/* IRETD in 64-bit mode: 32-bit pops, still SS:ESP; RIP zero-extended */
	f = frame(0x800, 4, 0x1000, U_CS64, FL_POPPED, 0x12345670, U_DS);
	iret_diff("iretd to 64-bit", op_iretd, f, 0x202, &c);
	f = frame(0x800, 4, 0x1000, U_CS32, FL_POPPED, 0x12345670, U_DS);
	iret_diff("iretd to compatibility mode", op_iretd, f, 0x202, &c);
	CHECK_EQ(c.sregs.cs.l, 0);
	CHECK_EQ(c.sregs.cs.db, 1);
	/* 16-bit: FLAGS only, SP's low half */
	f = frame(0x800, 2, 0x1234, U_CS64, FL_POPPED & 0xFFFF, 0x5670, U_DS);
	iret_diff("iret16", op_iretw, f, 0x202, &c);
}

static void test_iret_user_faults(void)
{
	struct emu_cpu c;
	native_map();
	uint64_t nowhere = (uint64_t)(uintptr_t)(native + 2 * PG);
	uint64_t f = frame(0x800, 8, nowhere, K_CS, 0x202, 0x1000, 0);
	CHECK_EQ(iret_diff("iretq to CPL 0", op_iretq, f, 0x202, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 13);
	CHECK_EQ(c.error, K_CS);
	f = frame(0x800, 8, nowhere, U_CS64, 0x202, 0x1000, 0x18);
	CHECK_EQ(iret_diff("iretq SS RPL 0", op_iretq, f, 0x202, &c), EMU_FAULT);
	CHECK_EQ(c.error, 0x18);
	f = frame(0x800, 8, nowhere, U_CS64, 0x202, 0x1000, 0);
	CHECK_EQ(iret_diff("iretq null SS to CPL 3", op_iretq, f, 0x202, &c), EMU_FAULT);
	CHECK_EQ(c.error, 0);
	f = frame(0x800, 8, 0x0000800000000000ull, U_CS64, 0x202, 0x1000, U_DS);
	CHECK_EQ(iret_diff("iretq non-canonical RIP", op_iretq, f, 0x202, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 13);
	/* RFLAGS, RSP and SS on the unmapped page */
	f = frame(2 * PG - 16, 8, nowhere, U_CS64, 0x202, 0x1000, U_DS);
	CHECK_EQ(iret_diff("iretq frame straddle", op_iretq, f, 0x202, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 14);
	CHECK_EQ(c.error, 4); /* not present, read, user */
	CHECK_EQ(iret_diff("iretq non-canonical stack", op_iretq, 0x0000800000000000ull, 0x202, &c),
		 EMU_FAULT);
	CHECK_EQ(c.vector, 12);
	/* NT set: no task return in IA-32e mode, #GP(0) */
	f = frame(0x800, 8, nowhere, U_CS64, 0x202, 0x1000, U_DS);
	CHECK_EQ(iret_diff("iretq with NT", op_iretq, f, 0x4202, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 13);
	CHECK_EQ(iret_diff("lock iretq", op_lock_iretq, f, 0x202, &c), EMU_FAULT);
	CHECK_EQ(c.vector, 6);
}

/* ---- hand-computed from the SDM (not runnable in user mode) ---- */

static void put64(size_t off, uint64_t v)
{
	memcpy(guest + off, &v, 8);
}

/* IRETQ at CPL 0 in 64-bit mode to CPL 3: CS and SS from the frame, RSP from the frame, IF
 * and IOPL from the frame (CPL 0 may change them; VIF and VIP too), and DS/ES, whose DPL 0
 * data descriptors CPL 3 may not use, become null (SDM IRET, RETURN-TO-OUTER-PRIVILEGE-LEVEL). */
static void test_iretq_to_user(void)
{
	struct emu_cpu c;
	guest64(&c, 7);
	c.sregs.cs = (struct kvm_segment){ .selector = K_CS, .type = 0xB, .present = 1, .s = 1,
					   .l = 1, .g = 1, .limit = ~0u };
	c.sregs.ss.selector = 0x18, c.sregs.ss.dpl = 0;
	c.sregs.ds.selector = c.sregs.es.selector = 0x18;
	c.sregs.ds.dpl = c.sregs.es.dpl = 0;
	c.regs.rsp = GBASE + 0x800;
	c.regs.rflags = 0x2;
	put64(0x800, 0x401000);
	put64(0x808, U_CS64);
	put64(0x810, 0x3202 | 0x80000 | 0x1);
	put64(0x818, 0x7FFFFFFFE000ull);
	put64(0x820, U_DS);
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x48, 0xCF }, 2), EMU_DONE);
	CHECK_EQ(c.regs.rip, 0x401000);
	CHECK_EQ(c.regs.rsp, 0x7FFFFFFFE000ull);
	CHECK_EQ(c.regs.rflags, 0x3202 | 0x80000 | 0x1 | 0x2);
	CHECK_EQ(c.sregs.cs.selector, U_CS64);
	CHECK_EQ(c.sregs.cs.dpl, 3);
	CHECK_EQ(c.sregs.ss.selector, U_DS);
	CHECK_EQ(c.sregs.ds.unusable, 1);
	CHECK_EQ(c.sregs.es.unusable, 1);
	/* to CPL 0 with a null SS: allowed in 64-bit mode for CPL < 3 */
	guest64(&c, 7);
	c.sregs.cs = (struct kvm_segment){ .selector = K_CS, .type = 0xB, .present = 1, .s = 1,
					   .l = 1, .g = 1, .limit = ~0u };
	c.regs.rsp = GBASE + 0x800;
	put64(0x808, K_CS);
	put64(0x820, 0);
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x48, 0xCF }, 2), EMU_DONE);
	CHECK_EQ(c.sregs.ss.selector, 0);
	CHECK_EQ(c.sregs.ss.unusable, 1);
}

/* 32-bit protected mode, CPL 0: popping past SS's limit is #SS(0) (SDM IRET, "#SS(0) If the
 * return instruction pointer, CS or EFLAGS cannot be popped within the stack limits"). */
static void test_iret32_stack_limit(void)
{
	struct emu_cpu c;
	guest64(&c, 7);
	c.sregs.efer = 0;
	c.sregs.cr0 = 0x11;
	c.sregs.cs = (struct kvm_segment){ .selector = 0x08, .type = 0xB, .present = 1, .s = 1,
					   .db = 1, .limit = ~0u, .g = 1 };
	c.sregs.ss = (struct kvm_segment){ .selector = 0x10, .type = 0x3, .present = 1, .s = 1,
					   .db = 1, .limit = 0x0801 };
	c.regs.rsp = 0x800; /* EIP, at 0x800-0x803, does not fit */
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xCF }, 1), EMU_FAULT);
	CHECK_EQ(c.vector, 12);
	CHECK_EQ(c.has_error, 1);
	CHECK_EQ(c.error, 0);
	CHECK_EQ(c.regs.rsp, 0x800); /* a fault leaves the state as it was */
}

UNIT_MAIN(test_iret_user, test_iret_user_faults, test_iretq_to_user, test_iret32_stack_limit)
