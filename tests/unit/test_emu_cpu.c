#include "le_bytes.h"
#include "unit.h"

#include "vmm/emu_cpu.h"

/* Guest memory for the tests: linear = physical, 64 KiB; beyond it, a not-present fault. */
static uint8_t mem[0x10000];

static int mread(void *ctx, uint64_t lin, void *buf, size_t len, uint32_t *err, uint64_t *addr)
{
	(void)ctx;
	if (lin >= sizeof(mem) || len > sizeof(mem) - lin) {
		*err = 0;
		*addr = lin;
		return -1;
	}
	memcpy(buf, mem + lin, len);
	return 0;
}

static int mwrite(void *ctx, uint64_t lin, const void *buf, size_t len, uint32_t *err,
		  uint64_t *addr)
{
	(void)ctx;
	if (lin >= sizeof(mem) || len > sizeof(mem) - lin) {
		*err = 2;
		*addr = lin;
		return -1;
	}
	memcpy(mem + lin, buf, len);
	return 0;
}

static const struct emu_mem_ops ops = { mread, mwrite };

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static struct kvm_segment flat(uint16_t sel, uint8_t type, uint8_t dpl)
{
	return (struct kvm_segment){ .base = 0, .limit = 0xFFFFFFFF, .selector = sel, .type = type,
				     .present = 1, .dpl = dpl, .db = 1, .s = 1, .g = 1 };
}

/* 32-bit protected mode, CPL 0, flat segments, a GDT at 0x1000:
 * 0x08 code DPL0, 0x10 data DPL0, 0x1B code DPL3, 0x23 data DPL3, 0x28 16-bit code DPL0. */
static void pm32(struct emu_cpu *c)
{
	memset(c, 0, sizeof(*c));
	memset(mem, 0, sizeof(mem));
	c->mem = &ops;
	c->sregs.cr0 = 0x11;
	c->sregs.cs = flat(0x08, 0xB, 0);
	c->sregs.ds = c->sregs.es = c->sregs.ss = c->sregs.fs = c->sregs.gs = flat(0x10, 0x3, 0);
	c->sregs.gdt.base = 0x1000;
	c->sregs.gdt.limit = 6 * 8 - 1;
	uint64_t gdt[6] = { 0, 0x00CF9A000000FFFFull, 0x00CF92000000FFFFull, 0x00CFFA000000FFFFull,
			    0x00CFF2000000FFFFull, 0x00009A000000FFFFull };
	memcpy(mem + 0x1000, gdt, sizeof(gdt));
	c->regs.rflags = 0x2;
	c->regs.rsp = 0x8000;
	c->regs.rip = 0x5000;
}

static void test_iret32_same_privilege(void)
{
	struct emu_cpu c;
	pm32(&c);
	put32(mem + 0x8000, 0x12345678);
	put32(mem + 0x8004, 0x08);
	put32(mem + 0x8008, 0x246 | 0x3000); /* IF, ZF, PF, IOPL 3 */
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xCF }, 1), EMU_DONE);
	CHECK_STR(c.name, "iretd");
	CHECK_EQ(c.regs.rip, 0x12345678);
	CHECK_EQ(c.regs.rsp, 0x800C);
	CHECK_EQ(c.regs.rflags, 0x3246);
	CHECK_EQ(c.sregs.cs.selector, 0x08);
	CHECK_EQ(c.sregs.cs.db, 1);
	CHECK(c.dirty & EMU_DIRTY_SREGS);
	/* to a 16-bit code segment with a 16-bit IRET (66 CF) */
	pm32(&c);
	mem[0x8000] = 0x34, mem[0x8001] = 0x12;
	mem[0x8002] = 0x28;
	mem[0x8004] = 0x02;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x66, 0xCF }, 2), EMU_DONE);
	CHECK_EQ(c.regs.rip, 0x1234);
	CHECK_EQ(c.regs.rsp, 0x8006);
	CHECK_EQ(c.sregs.cs.db, 0);
	CHECK_EQ(c.sregs.cs.limit, 0xFFFF);
}

static void test_iret32_outer_privilege(void)
{
	struct emu_cpu c;
	pm32(&c);
	put32(mem + 0x8000, 0x400000);
	put32(mem + 0x8004, 0x1B);
	put32(mem + 0x8008, 0x202 | 0x3000);
	put32(mem + 0x800C, 0x7000);
	put32(mem + 0x8010, 0x23);
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xCF }, 1), EMU_DONE);
	CHECK_EQ(c.regs.rip, 0x400000);
	CHECK_EQ(c.sregs.cs.selector, 0x1B);
	CHECK_EQ(c.sregs.cs.dpl, 3);
	CHECK_EQ(c.sregs.ss.selector, 0x23);
	CHECK_EQ(c.regs.rsp, 0x7000);
	CHECK_EQ(c.sregs.ds.unusable, 1); /* DPL 0 data is not for ring 3 */
	/* at CPL 3, IOPL 0: IF and IOPL cannot change */
	c.regs.rflags = 0x2;
	c.regs.rsp = 0x8000;
	put32(mem + 0x8000, 0x1000);
	put32(mem + 0x8004, 0x1B);
	put32(mem + 0x8008, 0x3202 | 0x1);
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xCF }, 1), EMU_DONE);
	CHECK_EQ(c.regs.rflags, 0x3);
	/* back to ring 0 from ring 3: #GP with the selector */
	c.regs.rsp = 0x8000;
	put32(mem + 0x8004, 0x08);
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xCF }, 1), EMU_FAULT);
	CHECK_EQ(c.vector, 13);
	CHECK_EQ(c.error, 0x08);
}

static void test_iret_faults(void)
{
	struct emu_cpu c;
	pm32(&c);
	put32(mem + 0x8004, 0); /* null CS */
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xCF }, 1), EMU_FAULT);
	CHECK_EQ(c.vector, 13);
	pm32(&c);
	put32(mem + 0x8004, 0x40); /* beyond the GDT limit */
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xCF }, 1), EMU_FAULT);
	CHECK_EQ(c.error, 0x40);
	pm32(&c);
	put32(mem + 0x8004, 0x10); /* a data segment */
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xCF }, 1), EMU_FAULT);
	pm32(&c);
	c.regs.rsp = 0xFFFC; /* the stack runs off mapped memory: #PF at the fault address */
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xCF }, 1), EMU_FAULT);
	CHECK_EQ(c.vector, 14);
	CHECK_EQ(c.cr2, 0x10000);
	pm32(&c);
	c.regs.rflags |= 0x4000; /* NT: a task return is not ours to do */
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xCF }, 1), EMU_DECLINED);
}

static void test_iret_real_mode(void)
{
	struct emu_cpu c;
	pm32(&c);
	c.sregs.cr0 = 0x10;
	c.sregs.cs = (struct kvm_segment){ .base = 0xF0000, .limit = 0xFFFF, .selector = 0xF000,
					   .type = 0xB, .present = 1, .s = 1 };
	c.sregs.ss = (struct kvm_segment){ .base = 0, .limit = 0xFFFF, .type = 3, .present = 1, .s = 1 };
	c.regs.rsp = 0x7FFA;
	mem[0x7FFA] = 0x00, mem[0x7FFB] = 0x7C; /* IP */
	mem[0x7FFC] = 0x00, mem[0x7FFD] = 0x00; /* CS */
	mem[0x7FFE] = 0x02, mem[0x7FFF] = 0x02; /* FLAGS: IF */
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xCF }, 1), EMU_DONE);
	CHECK_STR(c.name, "iret");
	CHECK_EQ(c.regs.rip, 0x7C00);
	CHECK_EQ(c.sregs.cs.base, 0);
	CHECK_EQ(c.regs.rsp, 0x8000);
	CHECK_EQ(c.regs.rflags, 0x202);
	/* 32-bit IRET in real mode (66 CF) */
	c.regs.rsp = 0x7FF0;
	put32(mem + 0x7FF0, 0x1234);
	put32(mem + 0x7FF4, 0x2000);
	put32(mem + 0x7FF8, 0x46);
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x66, 0xCF }, 2), EMU_DONE);
	CHECK_EQ(c.regs.rip, 0x1234);
	CHECK_EQ(c.sregs.cs.base, 0x20000);
	CHECK_EQ(c.regs.rsp, 0x7FFC);
	CHECK_EQ(c.regs.rflags, 0x46);
}

static void test_x87_state(void)
{
	struct emu_cpu c;
	pm32(&c);
	c.xs[0] = 0x7F; /* some FCW */
	c.xs[2] = 0xFF; /* FSW with exception bits */
	c.xs[3] = 0x80; /* busy */
	c.xs[4] = 0xFF; /* all registers valid */
	c.regs.rip = 0x100;
	/* fnclex clears the exception flags and busy, keeps TOP and condition codes */
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xDB, 0xE2 }, 2), EMU_DONE);
	CHECK_EQ(get16(c.xs + 2), 0x0000);
	CHECK_EQ(c.regs.rip, 0x102);
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xDB, 0xE3 }, 2), EMU_DONE);
	CHECK_STR(c.name, "fninit");
	CHECK_EQ(get16(c.xs), 0x037F);
	CHECK_EQ(c.xs[4], 0);
	CHECK(c.dirty & EMU_DIRTY_FPU);
	/* fnstcw [0x3000]; fldcw [bx+si+0x10] (16-bit addressing under a 0x67 prefix) */
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xD9, 0x3D, 0x00, 0x30, 0, 0 }, 6), EMU_DONE);
	CHECK_EQ(get16(mem + 0x3000), 0x037F);
	c.regs.rbx = 0x3000;
	c.regs.rsi = 0x10;
	mem[0x3020] = 0x72, mem[0x3021] = 0x02;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x67, 0xD9, 0x68, 0x10 }, 4), EMU_DONE);
	CHECK_STR(c.name, "fldcw");
	CHECK_EQ(get16(c.xs), 0x0272);
	CHECK_EQ(c.regs.rip, 0x102 + 2 + 6 + 4);
	/* fnstsw ax; fnstsw [eax] */
	c.xs[2] = 0x00, c.xs[3] = 0x38; /* TOP = 7 */
	c.regs.rax = 0xAAAA5555;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xDF, 0xE0 }, 2), EMU_DONE);
	CHECK_EQ(c.regs.rax, 0xAAAA3800);
	c.regs.rax = 0x3100;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xDD, 0x38 }, 2), EMU_DONE);
	CHECK_EQ(get16(mem + 0x3100), 0x3800);
	/* fnstenv: 28 bytes, all tags empty after fninit, exceptions masked afterwards */
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xDB, 0xE3 }, 2), EMU_DONE);
	c.xs[0] = 0x40;
	c.regs.rax = 0x3200;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xD9, 0x30 }, 2), EMU_DONE);
	CHECK_EQ(get16(mem + 0x3208), 0xFFFF);
	CHECK_EQ(get16(c.xs) & 0x3F, 0x3F);
	/* a store to unmapped memory is a #PF with the write bit */
	c.regs.rax = 0xFFFF0;
	c.sregs.ds.limit = 0xFFFFFFFF;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xD9, 0x38 }, 2), EMU_FAULT);
	CHECK_EQ(c.vector, 14);
	CHECK_EQ(c.error, 2);
	/* with CR0.TS set the x87 raises #NM */
	c.sregs.cr0 |= 8;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xDB, 0xE3 }, 2), EMU_FAULT);
	CHECK_EQ(c.vector, 7);
}

static void test_cmpxchg8b(void)
{
	struct emu_cpu c;
	pm32(&c);
	put32(mem + 0x4000, 0x11111111);
	put32(mem + 0x4004, 0x22222222);
	c.regs.rsi = 0x4000;
	c.regs.rax = 0x11111111, c.regs.rdx = 0x22222222;
	c.regs.rbx = 0x33333333, c.regs.rcx = 0x44444444;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xF0, 0x0F, 0xC7, 0x0E }, 4), EMU_DONE);
	CHECK_STR(c.name, "cmpxchg8b");
	CHECK(c.regs.rflags & 0x40);
	CHECK_EQ(mem[0x4000], 0x33);
	CHECK_EQ(mem[0x4007], 0x44);
	CHECK_EQ(c.regs.rip, 0x5004);
	/* mismatch: EDX:EAX get the memory value, ZF clear */
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x0F, 0xC7, 0x0E }, 3), EMU_DONE);
	CHECK(!(c.regs.rflags & 0x40));
	CHECK_EQ(c.regs.rax, 0x33333333);
	CHECK_EQ(c.regs.rdx, 0x44444444);
}

static void test_cmpxchg16b(void)
{
	struct emu_cpu c;
	pm32(&c);
	/* 64-bit mode */
	c.sregs.efer = 0x500;
	c.sregs.cs.l = 1;
	c.sregs.cs.db = 0;
	memset(mem + 0x4000, 0xAB, 16);
	c.regs.rdi = 0x4000;
	c.regs.rax = c.regs.rdx = 0xABABABABABABABABull;
	c.regs.rbx = 1, c.regs.rcx = 2;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xF0, 0x48, 0x0F, 0xC7, 0x0F }, 5), EMU_DONE);
	CHECK_STR(c.name, "cmpxchg16b");
	CHECK_EQ(mem[0x4000], 1);
	CHECK_EQ(mem[0x4008], 2);
	CHECK(c.regs.rflags & 0x40);
	/* misaligned: #GP(0) */
	c.regs.rdi = 0x4008;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x48, 0x0F, 0xC7, 0x0F }, 4), EMU_FAULT);
	CHECK_EQ(c.vector, 13);
	/* RIP-relative operand: [rip + 0x18] after an 8-byte instruction at 0x5000 */
	memset(mem + 0x5020, 0, 16);
	c.regs.rip = 0x5000;
	c.regs.rax = c.regs.rdx = 0;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x48, 0x0F, 0xC7, 0x0D, 0x18, 0, 0, 0 }, 8),
		 EMU_DONE);
	CHECK_EQ(mem[0x5020], 1);
	CHECK_EQ(c.regs.rip, 0x5008);
}

static void test_fxsave_xsave(void)
{
	struct emu_cpu c;
	pm32(&c);
	c.sregs.cr4 = 0x40200; /* OSFXSR, OSXSAVE */
	c.xsave_valid = 1;
	c.xcr0 = 7;
	c.xs[0] = 0x7F, c.xs[1] = 0x03;
	c.xs[24] = 0x80, c.xs[25] = 0x1F; /* MXCSR */
	memset(c.xs + 160, 0x5A, 128);    /* XMM0-7 */
	memset(c.xs + 576, 0x77, 256);    /* AVX upper halves */
	c.xs[512] = 7;
	/* fxsave [0x2000]; a misaligned fxsave faults */
	c.regs.rax = 0x2000;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x0F, 0xAE, 0x00 }, 3), EMU_DONE);
	CHECK_EQ(get16(mem + 0x2000), 0x037F);
	CHECK_EQ(mem[0x2000 + 160], 0x5A);
	c.regs.rax = 0x2008;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x0F, 0xAE, 0x00 }, 3), EMU_FAULT);
	/* xgetbv */
	c.regs.rcx = 0;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x0F, 0x01, 0xD0 }, 3), EMU_DONE);
	CHECK_EQ(c.regs.rax, 7);
	CHECK_EQ(c.regs.rdx, 0);
	/* xsave [0x4000] of x87|SSE|AVX */
	c.regs.rcx = 0x4000;
	c.regs.rax = 7, c.regs.rdx = 0;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x0F, 0xAE, 0x21 }, 3), EMU_DONE);
	CHECK_STR(c.name, "xsave");
	CHECK_EQ(mem[0x4000 + 512], 7);
	CHECK_EQ(mem[0x4000 + 576], 0x77);
	CHECK_EQ(mem[0x4000 + 160], 0x5A);
	/* change the state, then xrstor with XSTATE_BV = x87 only: SSE and AVX go to init */
	memset(c.xs + 160, 0, 128);
	mem[0x4000 + 512] = 1;
	c.xs[0] = 0;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x0F, 0xAE, 0x29 }, 3), EMU_DONE);
	CHECK_STR(c.name, "xrstor");
	CHECK_EQ(get16(c.xs), 0x037F);
	CHECK_EQ(c.xs[160], 0);
	CHECK_EQ(c.xs[576], 0);
	CHECK_EQ(c.xs[512], 1);
	CHECK(c.dirty & EMU_DIRTY_FPU);
	/* xrstor of a compacted image is declined; a reserved header byte is #GP */
	mem[0x4000 + 512 + 15] = 0x80;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x0F, 0xAE, 0x29 }, 3), EMU_DECLINED);
	mem[0x4000 + 512 + 15] = 0;
	mem[0x4000 + 512 + 20] = 1;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x0F, 0xAE, 0x29 }, 3), EMU_FAULT);
	/* without CR4.OSXSAVE: #UD */
	c.sregs.cr4 = 0x200;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x0F, 0xAE, 0x21 }, 3), EMU_FAULT);
	CHECK_EQ(c.vector, 6);
	/* stmxcsr / ldmxcsr with a reserved bit */
	c.regs.rax = 0x3000;
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x0F, 0xAE, 0x18 }, 3), EMU_DONE);
	CHECK_EQ(get16(mem + 0x3000), 0x1F80);
	put32(mem + 0x3000, 0x10000);
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x0F, 0xAE, 0x10 }, 3), EMU_FAULT);
}

static void test_declines_the_rest(void)
{
	struct emu_cpu c;
	pm32(&c);
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x90 }, 1), EMU_DECLINED);
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0x0F, 0xAE, 0xE8 }, 3), EMU_DECLINED); /* lfence */
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xD9 }, 1), EMU_DECLINED); /* truncated */
	CHECK_EQ(emu_execute(&c, (const uint8_t[]){ 0xD8, 0xC1 }, 2), EMU_DECLINED); /* fadd */
}

UNIT_MAIN(test_iret32_same_privilege, test_iret32_outer_privilege, test_iret_faults,
	  test_iret_real_mode, test_x87_state, test_cmpxchg8b, test_cmpxchg16b, test_fxsave_xsave,
	  test_declines_the_rest)
