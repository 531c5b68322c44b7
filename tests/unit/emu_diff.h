/* Shared by the differential tests of emu_cpu.c (test_emu_diff*.c): run one instruction on
 * the host CPU in user mode and the same bytes through emu_execute() on a fake guest that
 * looks like this process (64-bit mode, CPL 3, Linux's user segments), then compare.
 *
 * Memory: three pages each side, the first two usable and the third not (PROT_NONE natively,
 * a not-present page for the emulator), so an operand can straddle into a page fault. A
 * native fault is caught with its trap number, error code and CR2 from the signal frame,
 * which is what the emulator must report for the same access. */
#ifndef DOMUS_EMU_DIFF_H
#define DOMUS_EMU_DIFF_H
#include <setjmp.h>
#include <signal.h>
#include <stdalign.h>
#include <stdint.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "unit.h"
#include "vmm/emu_cpu.h"

#define PG 4096
/* The guest's linear address of page 0 is the native one, so that values that are addresses
 * (a stack pointer in an IRET frame, CR2) are the same on both sides. */
#define GBASE ((uint64_t)(uintptr_t)native)
#define U_CS64 0x33
#define U_CS32 0x23
#define U_DS 0x2B
#define K_CS 0x10

static uint8_t *native; /* three pages, the third PROT_NONE */

/* ---- the fake guest ---- */

static uint8_t guest[3 * PG];

/* Like vm.c's emu_access: P (bit 0) clear for a page that is not there, W (bit 1) for a
 * write; the emulator adds U (bit 2) from the CPL. CR2 is the first byte not mapped. */
static int gaccess(uint64_t lin, size_t len, int write, uint32_t *err, uint64_t *addr)
{
	for (uint64_t a = lin; a < lin + len; a = (a | (PG - 1)) + 1)
		if (a < GBASE || a >= GBASE + 2 * PG) {
			*err = write ? 2 : 0;
			*addr = a;
			return -1;
		}
	return 0;
}

static int gread(void *ctx, uint64_t lin, void *buf, size_t len, uint32_t *err, uint64_t *addr)
{
	(void)ctx;
	if (gaccess(lin, len, 0, err, addr))
		return -1;
	memcpy(buf, guest + (lin - GBASE), len);
	return 0;
}

static int gwrite(void *ctx, uint64_t lin, const void *buf, size_t len, uint32_t *err,
		  uint64_t *addr)
{
	(void)ctx;
	if (gaccess(lin, len, 1, err, addr))
		return -1;
	memcpy(guest + (lin - GBASE), buf, len);
	return 0;
}

static const struct emu_mem_ops gops = { gread, gwrite };

/* Linux x86-64's GDT entries for user space (and its 64-bit kernel CS, for a #GP case),
 * placed in guest page 1 at offset 0xF00. */
#define GDT_OFF (PG + 0xF00)
static inline void guest_gdt(struct emu_cpu *c)
{
	uint64_t gdt[7] = { 0, 0, 0x00AF9B000000FFFFull /* 0x10 */, 0,
			    0x00CFFB000000FFFFull /* 0x23 */, 0x00CFF3000000FFFFull /* 0x2B */,
			    0x00AFFB000000FFFFull /* 0x33 */ };
	memcpy(guest + GDT_OFF, gdt, sizeof(gdt));
	c->sregs.gdt.base = GBASE + GDT_OFF;
	c->sregs.gdt.limit = sizeof(gdt) - 1;
}

static inline uint64_t host_xcr0(void)
{
	uint32_t lo, hi;
	asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

/* A vCPU in 64-bit mode at CPL 3, with OSFXSR and OSXSAVE and the host's XCR0. */
static inline void native_map(void);
static inline void guest64(struct emu_cpu *c, uint64_t xcr0)
{
	native_map();
	memset(c, 0, sizeof(*c));
	c->mem = &gops;
	c->sregs.cr0 = 0x80050033; /* PG WP NE ET MP PE */
	c->sregs.cr4 = 0x40620;    /* OSXSAVE OSXMMEXCPT OSFXSR PAE */
	c->sregs.efer = 0xD01;     /* NXE LMA LME SCE */
	c->sregs.cs = (struct kvm_segment){ .selector = U_CS64, .type = 0xB, .present = 1,
					    .dpl = 3, .s = 1, .l = 1, .g = 1, .limit = ~0u };
	c->sregs.ss = (struct kvm_segment){ .selector = U_DS, .type = 0x3, .present = 1,
					    .dpl = 3, .s = 1, .db = 1, .g = 1, .limit = ~0u };
	c->sregs.ds = c->sregs.es = c->sregs.fs = c->sregs.gs = c->sregs.ss;
	c->regs.rip = 0x401000;
	c->regs.rflags = 0x202;
	c->xcr0 = xcr0;
	guest_gdt(c);
}

/* ---- the native side ---- */

static inline void native_map(void)
{
	if (native)
		return;
	native = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (native == MAP_FAILED || mprotect(native + 2 * PG, PG, PROT_NONE)) {
		perror("emu_diff: mmap");
		exit(2);
	}
}

/* Both memories hold the same bytes at the same offsets. */
static inline void both_fill(const void *src, size_t off, size_t len)
{
	memcpy(native + off, src, len);
	memcpy(guest + off, src, len);
}

/* What a native run ended with: sig 0 if the instruction completed, otherwise the signal
 * and the exception as the kernel saw it. */
struct native_fault {
	int sig;
	uint64_t trapno, err, cr2, rip, rsp, rflags;
	uint16_t cs, ss;
};

static sigjmp_buf native_jb;
static struct native_fault *native_out;
static alignas(64) uint8_t native_host_fx[512];

static void native_sig(int sig, siginfo_t *si, void *uc_)
{
	const ucontext_t *uc = uc_;
	const greg_t *g = uc->uc_mcontext.gregs;
	(void)si;
	*native_out = (struct native_fault){
		.sig = sig, .trapno = (uint64_t)g[REG_TRAPNO], .err = (uint64_t)g[REG_ERR],
		.cr2 = (uint64_t)g[REG_CR2], .rip = (uint64_t)g[REG_RIP],
		.rsp = (uint64_t)g[REG_RSP], .rflags = (uint64_t)g[REG_EFL],
		.cs = (uint16_t)g[REG_CSGSFS], .ss = (uint16_t)((uint64_t)g[REG_CSGSFS] >> 48) };
	siglongjmp(native_jb, 1);
}

/* Call fn(arg), catching the fault it may raise. The x87/SSE state is saved before and put
 * back after, so the instruction under test cannot disturb the test program. */
static inline void native_call(void (*fn)(void *), void *arg, struct native_fault *f)
{
	static alignas(16) uint8_t altstack[65536];
	static int ready;
	if (!ready) {
		stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
		struct sigaction sa = { .sa_sigaction = native_sig,
					.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER };
		sigaltstack(&ss, NULL);
		sigaction(SIGSEGV, &sa, NULL);
		sigaction(SIGBUS, &sa, NULL);
		sigaction(SIGILL, &sa, NULL);
		sigaction(SIGFPE, &sa, NULL);
		ready = 1;
	}
	memset(f, 0, sizeof(*f));
	native_out = f;
	asm volatile("fxsave64 %0" : "=m"(native_host_fx));
	if (sigsetjmp(native_jb, 1) == 0)
		fn(arg);
	/* A signal handler left by siglongjmp keeps the flags of the interrupted code, so NT (or ID)
	 * from a test frame would stay set (and make the next IRET #GP(0)): clear NT, DF and ID. */
	asm volatile("fxrstor64 %0\n\t"
		     "sub $128, %%rsp\n\t"
		     "pushfq\n\t"
		     "andq $~0x204400, (%%rsp)\n\t"
		     "popfq\n\t"
		     "add $128, %%rsp"
		     :
		     : "m"(native_host_fx)
		     : "cc");
}

/* The registers an instruction under test reads and leaves, and where its bytes are. */
struct diff_regs {
	uint64_t rax, rbx, rcx, rdx, rdi, rflags;
	const uint8_t *span[2];
};

/* Run insn natively (AT&T syntax; its memory operand is (%rdi)) with the x87/SSE state from
 * the FXSAVE image in and the registers in *r; out receives the state afterwards. The bytes
 * between labels 1 and 2 are what the emulator is given. 128 bytes of red zone are skipped
 * before the flags are pushed. */
#define NATIVE_FX(insn, r, in, out)                                                        \
	asm volatile("lea 1f(%%rip), %%r8\n\t"                                             \
		     "lea 2f(%%rip), %%r9\n\t"                                             \
		     "mov %%r8, 0(%[sp])\n\t"                                              \
		     "mov %%r9, 8(%[sp])\n\t"                                              \
		     "fxrstor64 (%[in])\n\t"                                               \
		     "sub $128, %%rsp\n\t"                                                 \
		     "pushq %[fl]\n\t"                                                     \
		     "popfq\n\t"                                                           \
		     "1: " insn "\n2:\n\t"                                                 \
		     "pushfq\n\t"                                                          \
		     "popq %[fl]\n\t"                                                      \
		     "add $128, %%rsp\n\t"                                                 \
		     "cld\n\t"                                                             \
		     "fxsave64 (%[out])"                                                   \
		     : "+a"((r)->rax), "+b"((r)->rbx), "+c"((r)->rcx), "+d"((r)->rdx),     \
		       [fl] "+r"((r)->rflags)                                              \
		     : "D"((r)->rdi), [in] "r"(in), [out] "r"(out), [sp] "r"((r)->span)    \
		     : "r8", "r9", "memory", "cc")

/* The emulator on the same bytes; rdi is the guest's address of the native operand. */
static inline enum emu_result emu_run(struct emu_cpu *c, const struct diff_regs *r)
{
	c->regs.rax = r->rax;
	c->regs.rbx = r->rbx;
	c->regs.rcx = r->rcx;
	c->regs.rdx = r->rdx;
	c->regs.rdi = r->rdi;
	c->regs.rflags = r->rflags;
	uint64_t rip = c->regs.rip;
	size_t n = (size_t)(r->span[1] - r->span[0]);
	enum emu_result res = emu_execute(c, r->span[0], n);
	if (res == EMU_DONE)
		CHECK_EQ(c->regs.rip, rip + n);
	return res;
}

/* The guest address of a native pointer into the three pages. */
static inline uint64_t gaddr(const void *p)
{
	return GBASE + (uint64_t)((const uint8_t *)p - native);
}

/* A native fault and the emulator's must be the same exception: vector, error code and,
 * for #PF, CR2 (translated to the guest's addresses) in the same page. Which byte of a
 * multi-byte access CR2 names is the CPU's choice (this host's AMD CPU names the last one
 * on the faulting page, the emulator the first): the SDM only says it is the address that
 * faulted, and the guest's handler works on the page. */
#define CHECK_SAME_FAULT(c, f)                                                             \
	do {                                                                               \
		CHECK((f)->sig != 0);                                                      \
		CHECK_EQ((c)->vector, (f)->trapno);                                        \
		if ((c)->vector == 14 || (c)->vector == 13 || (c)->vector == 12)           \
			CHECK_EQ((c)->error, (f)->err);                                    \
		if ((c)->vector == 14)                                                     \
			CHECK_EQ((c)->cr2 / PG,                                            \
				 gaddr((const uint8_t *)(uintptr_t)(f)->cr2) / PG);         \
	} while (0)


/* How a run ended on both sides: when the native one faulted (faulted), the emulator must
 * have raised the same exception (fault f); otherwise it must have completed too. Returns
 * whether the native run completed: the caller then compares what the instruction left. */
static inline int diff_same_end(const char *what, int faulted, enum emu_result res,
				const struct emu_cpu *c, const struct native_fault *f)
{
	if (faulted) {
		if (res != EMU_FAULT)
			fprintf(stderr, "%s: the CPU raised %llu, the emulator did not (%d)\n", what,
				(unsigned long long)f->trapno, res);
		CHECK_EQ(res, EMU_FAULT);
		if (res == EMU_FAULT)
			CHECK_SAME_FAULT(c, f);
		return 0;
	}
	if (res != EMU_DONE)
		fprintf(stderr, "%s: the CPU completed it, the emulator did not (%d, vector %u)\n",
			what, res, c->vector);
	CHECK_EQ(res, EMU_DONE);
	return 1;
}

/* The general registers of struct diff_regs and RFLAGS after both runs. */
static inline void diff_same_regs(const struct emu_cpu *c, const struct diff_regs *r)
{
	CHECK_EQ(c->regs.rax, r->rax);
	CHECK_EQ(c->regs.rbx, r->rbx);
	CHECK_EQ(c->regs.rcx, r->rcx);
	CHECK_EQ(c->regs.rdx, r->rdx);
	CHECK_EQ(c->regs.rflags, r->rflags);
}

#endif
