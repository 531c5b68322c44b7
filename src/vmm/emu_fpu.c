/* x87, SSE control and XSAVE-family instructions for emu_cpu.c, on the FXSAVE/XSAVE image in
 * struct emu_cpu (Intel SDM vol. 1 ch. 8 and 13, vol. 2 instruction pages). */
#include <cpuid.h>
#include <pthread.h>
#include <string.h>

#include "vmm/emu_cpu.h"

#define FX_FCW 0
#define FX_FSW 2
#define FX_FTW 4
#define FX_FOP 6
#define FX_FIP 8
#define FX_FDP 16
#define FX_MXCSR 24
#define FX_MXCSR_MASK 28
#define FX_ST 32
#define FX_XMM 160
#define XS_HEADER 512
#define FCW_INIT 0x037F
#define MXCSR_MASK_DEFAULT 0xFFBF /* no DAZ on old parts; modern CPUs report 0xFFFF */
#define VEC_GP 13
#define VEC_UD 6
#define VEC_NM 7
#define VEC_MF 16
#define VEC_PF 14
#define CR0_NE 0x20
#define FSW_ES 0x0080
#define FSW_B 0x8000
#define CR0_EM 0x4
#define CR0_TS 0x8
#define CR4_OSFXSR 0x200
#define CR4_OSXSAVE 0x40000

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

/* Standard-form XSAVE component offsets and sizes. They are the CPU's (CPUID leaf 0xD,
 * sub-leaf i: EAX size, EBX offset), and they differ between CPUs: an AMD Zen 4 without MPX
 * puts the AVX-512 components at 832/896/1408 where Intel's are at 1088/1152/1664. KVM's
 * XSAVE image and the guest's CPUID leaf 0xD (passed through by Domus) both follow the
 * host's layout, so the host's CPUID is the reference; the table is the Intel layout, for a
 * component the CPU does not describe (XCR0 cannot enable those). */
static struct xcomp { unsigned bit, off, size; } xcomp[] = {
	{ 2, 576, 256 },  { 3, 960, 64 },    { 4, 1024, 64 }, { 5, 1088, 64 },
	{ 6, 1152, 512 }, { 7, 1664, 1024 }, { 9, 2688, 8 },
};
static pthread_once_t xcomp_once = PTHREAD_ONCE_INIT;

static void xcomp_from_cpuid(void)
{
	unsigned a, b, c, d;
	if (__get_cpuid_max(0, NULL) < 0xD)
		return;
	for (size_t i = 0; i < sizeof(xcomp) / sizeof(xcomp[0]); i++) {
		__cpuid_count(0xD, xcomp[i].bit, a, b, c, d);
		if (a && a + b <= EMU_XSAVE_SIZE && b >= 576) {
			xcomp[i].size = a;
			xcomp[i].off = b;
		}
	}
}

#define XCOMP_KNOWN 0x2FFull /* bits 0-7 and 9 */

static void touched(struct emu_cpu *c, uint64_t bits)
{
	if (c->xsave_valid)
		put64(c->xs + XS_HEADER, get64(c->xs + XS_HEADER) | bits);
	c->dirty |= EMU_DIRTY_FPU;
}

/* The image keeps the registers in stack order (ST(0) first), so a new TOP moves the
 * physical registers' contents to other slots. FNINIT and FLDENV change TOP without changing
 * the registers; without this rotation the guest would find its registers renumbered. */
static void x87_set_top(uint8_t *xs, unsigned top)
{
	unsigned old = (get16(xs + FX_FSW) >> 11) & 7;
	uint8_t st[128];
	for (unsigned i = 0; i < 8; i++)
		memcpy(st + 16 * i, xs + FX_ST + 16 * ((top + i - old) & 7), 16);
	memcpy(xs + FX_ST, st, sizeof(st));
	put16(xs + FX_FSW, (uint16_t)((get16(xs + FX_FSW) & ~0x3800u) | top << 11));
}

/* What the CPU makes of a loaded FCW and FSW: FCW bits 7 and 13-15 read as 0 and bit 6 as 1;
 * FSW.ES (and B, its 8087-era copy) is set exactly when an exception flag is unmasked. A
 * CPU stores them this way after FLDCW, FLDENV, FXRSTOR and after FNSTENV masks everything. */
static void x87_normalize(uint8_t *xs)
{
	uint16_t fcw = (uint16_t)((get16(xs + FX_FCW) & 0x1F3F) | 0x40);
	uint16_t fsw = get16(xs + FX_FSW) & (uint16_t)~(FSW_ES | FSW_B);
	if (fsw & ~fcw & 0x3F)
		fsw |= FSW_ES | FSW_B;
	put16(xs + FX_FCW, fcw);
	put16(xs + FX_FSW, fsw);
}

static void x87_init(uint8_t *xs)
{
	x87_set_top(xs, 0);
	put16(xs + FX_FCW, FCW_INIT);
	put16(xs + FX_FSW, 0);
	xs[FX_FTW] = 0;
	put16(xs + FX_FOP, 0);
	put64(xs + FX_FIP, 0);
	put64(xs + FX_FDP, 0);
}

/* Full 2-bit tags from the abridged FXSAVE tag byte and the register contents. */
static uint16_t full_tags(const uint8_t *xs)
{
	unsigned top = (get16(xs + FX_FSW) >> 11) & 7;
	uint16_t tw = 0;
	for (unsigned phys = 0; phys < 8; phys++) {
		unsigned tag = 3;
		if (xs[FX_FTW] & (1u << phys)) {
			const uint8_t *r = xs + FX_ST + 16 * ((phys - top) & 7);
			uint64_t mant = get64(r);
			unsigned exp = get16(r + 8) & 0x7FFF;
			if (exp == 0 && mant == 0)
				tag = 1;
			else if (exp == 0x7FFF || exp == 0 || !(mant >> 63))
				tag = 2;
			else
				tag = 0;
		}
		tw |= (uint16_t)(tag << (2 * phys));
	}
	return tw;
}

static uint8_t abridged_tags(uint16_t tw)
{
	uint8_t t = 0;
	for (unsigned i = 0; i < 8; i++)
		if (((tw >> (2 * i)) & 3) != 3)
			t |= (uint8_t)(1u << i);
	return t;
}

/* FNSTENV / FLDENV: the 28-byte (32-bit operand size) or 14-byte (16-bit) environment. The
 * instruction and operand pointers are kept in their protected-mode form. */
static enum emu_result fnstenv(struct emu_cpu *c, const struct emu_insn *d)
{
	uint8_t env[28];
	const uint8_t *xs = c->xs;
	memset(env, 0, sizeof(env));
	int wide = d->opsize != 2;
	int step = wide ? 4 : 2;
	put16(env, get16(xs + FX_FCW));
	put16(env + step, get16(xs + FX_FSW));
	put16(env + 2 * step, full_tags(xs));
	if (wide) {
		put32(env + 12, get32(xs + FX_FIP));
		put32(env + 16, (uint32_t)(get16(xs + FX_FOP) & 0x7FF) << 16);
		put32(env + 20, get32(xs + FX_FDP));
	} else {
		put16(env + 6, get16(xs + FX_FIP));
		put16(env + 10, get16(xs + FX_FDP));
	}
	if (emu_write(c, d->seg, d->ea, env, wide ? 28 : 14) != EMU_DONE)
		return EMU_FAULT;
	/* FNSTENV then masks all floating-point exceptions. */
	put16(c->xs + FX_FCW, get16(c->xs + FX_FCW) | 0x3F);
	x87_normalize(c->xs);
	touched(c, 1);
	return EMU_DONE;
}

static enum emu_result fldenv(struct emu_cpu *c, const struct emu_insn *d)
{
	uint8_t env[28];
	int wide = d->opsize != 2;
	int step = wide ? 4 : 2;
	if (emu_read(c, d->seg, d->ea, env, wide ? 28 : 14) != EMU_DONE)
		return EMU_FAULT;
	x87_set_top(c->xs, (get16(env + step) >> 11) & 7);
	put16(c->xs + FX_FCW, get16(env));
	put16(c->xs + FX_FSW, get16(env + step));
	x87_normalize(c->xs);
	c->xs[FX_FTW] = abridged_tags(get16(env + 2 * step));
	if (wide) {
		put64(c->xs + FX_FIP, get32(env + 12));
		put16(c->xs + FX_FOP, (uint16_t)((get32(env + 16) >> 16) & 0x7FF));
		put64(c->xs + FX_FDP, get32(env + 20));
	}
	touched(c, 1);
	return EMU_DONE;
}

/* FLDCW and FLDENV are waiting instructions: with an unmasked exception pending (FSW.ES) the
 * CPU raises #MF before executing them. With CR0.NE clear the PC reports it through FERR# and
 * IRQ 13 instead, which is not ours to model: declined. */
static enum emu_result x87_pending(struct emu_cpu *c)
{
	if (!(get16(c->xs + FX_FSW) & FSW_ES))
		return EMU_DONE;
	if (!(c->sregs.cr0 & CR0_NE))
		return EMU_DECLINED;
	return emu_fault(c, VEC_MF, 0, 0);
}

static enum emu_result x87(struct emu_cpu *c, const uint8_t *op, const struct emu_insn *d)
{
	uint8_t b0 = op[0], m = op[1];
	if (c->sregs.cr0 & (CR0_EM | CR0_TS))
		return emu_fault(c, VEC_NM, 0, 0);
	if (!d->has_mem) {
		if (b0 == 0xDB && m == 0xE3) {
			c->name = "fninit";
			x87_init(c->xs);
			touched(c, 1);
			return EMU_DONE;
		}
		if (b0 == 0xDB && m == 0xE2) {
			c->name = "fnclex";
			put16(c->xs + FX_FSW, get16(c->xs + FX_FSW) & 0x7F00);
			touched(c, 1);
			return EMU_DONE;
		}
		if (b0 == 0xDF && m == 0xE0) {
			c->name = "fnstsw ax";
			c->regs.rax = (c->regs.rax & ~0xFFFFull) | get16(c->xs + FX_FSW);
			return EMU_DONE;
		}
		return EMU_DECLINED;
	}
	uint8_t v[2];
	if (b0 == 0xD9 && d->reg == 7) {
		c->name = "fnstcw";
		put16(v, get16(c->xs + FX_FCW));
		return emu_write(c, d->seg, d->ea, v, 2);
	}
	if (b0 == 0xDD && d->reg == 7) {
		c->name = "fnstsw";
		put16(v, get16(c->xs + FX_FSW));
		return emu_write(c, d->seg, d->ea, v, 2);
	}
	if (b0 == 0xD9 && d->reg == 5) {
		c->name = "fldcw";
		enum emu_result r = x87_pending(c);
		if (r != EMU_DONE)
			return r;
		if (emu_read(c, d->seg, d->ea, v, 2) != EMU_DONE)
			return EMU_FAULT;
		put16(c->xs + FX_FCW, get16(v));
		x87_normalize(c->xs);
		touched(c, 1);
		return EMU_DONE;
	}
	if (b0 == 0xD9 && d->reg == 6) {
		c->name = "fnstenv";
		return fnstenv(c, d);
	}
	if (b0 == 0xD9 && d->reg == 4) {
		c->name = "fldenv";
		enum emu_result r = x87_pending(c);
		return r != EMU_DONE ? r : fldenv(c, d);
	}
	return EMU_DECLINED;
}

static unsigned xmm_bytes(const struct emu_insn *d)
{
	return d->long64 ? 256 : 128; /* XMM0-15 in 64-bit mode, XMM0-7 otherwise */
}

static enum emu_result check_mxcsr(struct emu_cpu *c, uint32_t mxcsr)
{
	uint32_t mask = get32(c->xs + FX_MXCSR_MASK);
	if (!mask)
		mask = MXCSR_MASK_DEFAULT;
	if (mxcsr & ~mask)
		return emu_fault(c, VEC_GP, 1, 0);
	return EMU_DONE;
}

static enum emu_result fxsave(struct emu_cpu *c, const struct emu_insn *d)
{
	if (emu_misaligned(c, d->seg, d->ea, 16))
		return emu_fault(c, VEC_GP, 1, 0);
	uint8_t img[416];
	memcpy(img, c->xs, sizeof(img));
	if (!get32(img + FX_MXCSR_MASK))
		put32(img + FX_MXCSR_MASK, MXCSR_MASK_DEFAULT);
	return emu_write(c, d->seg, d->ea, img, FX_XMM + xmm_bytes(d));
}

static enum emu_result fxrstor(struct emu_cpu *c, const struct emu_insn *d)
{
	if (emu_misaligned(c, d->seg, d->ea, 16))
		return emu_fault(c, VEC_GP, 1, 0);
	uint8_t img[416];
	size_t len = FX_XMM + xmm_bytes(d);
	if (emu_read(c, d->seg, d->ea, img, len) != EMU_DONE)
		return EMU_FAULT;
	if (check_mxcsr(c, get32(img + FX_MXCSR)) != EMU_DONE)
		return EMU_FAULT;
	memcpy(c->xs, img, FX_MXCSR_MASK); /* x87 state and MXCSR; the mask is read-only */
	memcpy(c->xs + FX_ST, img + FX_ST, len - FX_ST);
	x87_normalize(c->xs);
	touched(c, 3);
	return EMU_DONE;
}

/* What XSAVE and XRSTOR check first: the requested-feature bitmap (XCR0 & EDX:EAX), and
 * the #UD, #GP and unsupported-component cases (SDM vol. 1, 13.7 and 13.8). */
static enum emu_result xsave_rfbm(struct emu_cpu *c, const struct emu_insn *d, uint64_t *rfbm)
{
	pthread_once(&xcomp_once, xcomp_from_cpuid);
	*rfbm = c->xcr0 & ((c->regs.rdx & 0xFFFFFFFFull) << 32 | (uint32_t)c->regs.rax);
	if (!(c->sregs.cr4 & CR4_OSXSAVE))
		return emu_fault(c, VEC_UD, 0, 0);
	if (emu_misaligned(c, d->seg, d->ea, 64))
		return emu_fault(c, VEC_GP, 1, 0);
	if (*rfbm & ~XCOMP_KNOWN)
		return EMU_DECLINED;
	return EMU_DONE;
}

static enum emu_result xsave(struct emu_cpu *c, const struct emu_insn *d)
{
	uint64_t rfbm;
	enum emu_result r = xsave_rfbm(c, d, &rfbm);
	if (r != EMU_DONE)
		return r;
	uint8_t hdr[8];
	if (emu_read(c, d->seg, d->ea + XS_HEADER, hdr, 8) != EMU_DONE) {
		/* XSAVE updates XSTATE_BV in place, a write access: a #PF on reading it has W
		 * set, as the host CPU reports (test_emu_diff_xsave.c). */
		if (c->vector == VEC_PF)
			c->error |= 2;
		return EMU_FAULT;
	}
	uint64_t inuse = get64(c->xs + XS_HEADER) | 3;
	uint64_t bv = (get64(hdr) & ~rfbm) | (inuse & rfbm);
	if (rfbm & 1) {
		if (emu_write(c, d->seg, d->ea, c->xs, FX_MXCSR) != EMU_DONE ||
		    emu_write(c, d->seg, d->ea + FX_ST, c->xs + FX_ST, 128) != EMU_DONE)
			return EMU_FAULT;
	}
	if (rfbm & 6) {
		if (emu_write(c, d->seg, d->ea + FX_MXCSR, c->xs + FX_MXCSR, 8) != EMU_DONE)
			return EMU_FAULT;
	}
	if ((rfbm & 2) &&
	    emu_write(c, d->seg, d->ea + FX_XMM, c->xs + FX_XMM, xmm_bytes(d)) != EMU_DONE)
		return EMU_FAULT;
	for (size_t i = 0; i < sizeof(xcomp) / sizeof(xcomp[0]); i++) {
		uint64_t bit = 1ull << xcomp[i].bit;
		if ((rfbm & bit) && (inuse & bit) &&
		    emu_write(c, d->seg, d->ea + xcomp[i].off, c->xs + xcomp[i].off,
			      xcomp[i].size) != EMU_DONE)
			return EMU_FAULT;
	}
	put64(hdr, bv);
	return emu_write(c, d->seg, d->ea + XS_HEADER, hdr, 8);
}

static enum emu_result xrstor(struct emu_cpu *c, const struct emu_insn *d)
{
	uint64_t rfbm;
	enum emu_result r = xsave_rfbm(c, d, &rfbm);
	if (r != EMU_DONE)
		return r;
	uint8_t hdr[64];
	if (emu_read(c, d->seg, d->ea + XS_HEADER, hdr, sizeof(hdr)) != EMU_DONE)
		return EMU_FAULT;
	uint64_t bv = get64(hdr), comp = get64(hdr + 8);
	if (comp & (1ull << 63))
		return EMU_DECLINED; /* the compacted form (XSAVEC/XSAVES) */
	/* Reserved header bytes, or state the OS did not enable: #GP (SDM XRSTOR). */
	for (int i = 8; i < 24; i++)
		if (hdr[i])
			return emu_fault(c, VEC_GP, 1, 0);
	if (bv & ~c->xcr0)
		return emu_fault(c, VEC_GP, 1, 0);
	uint8_t *xs = c->xs;
	uint8_t tmp[1024];
	if (rfbm & 6) {
		if (emu_read(c, d->seg, d->ea + FX_MXCSR, tmp, 4) != EMU_DONE ||
		    check_mxcsr(c, get32(tmp)) != EMU_DONE)
			return EMU_FAULT;
	}
	if (rfbm & 1) {
		if (bv & 1) {
			if (emu_read(c, d->seg, d->ea, tmp, FX_MXCSR) != EMU_DONE ||
			    emu_read(c, d->seg, d->ea + FX_ST, tmp + FX_ST, 128) != EMU_DONE)
				return EMU_FAULT;
			memcpy(xs, tmp, FX_MXCSR);
			memcpy(xs + FX_ST, tmp + FX_ST, 128);
			x87_normalize(xs);
		} else {
			x87_init(xs);
			memset(xs + FX_ST, 0, 128);
		}
	}
	if (rfbm & 6) {
		emu_read(c, d->seg, d->ea + FX_MXCSR, tmp, 4);
		put32(xs + FX_MXCSR, get32(tmp));
	}
	if (rfbm & 2) {
		if (bv & 2) {
			if (emu_read(c, d->seg, d->ea + FX_XMM, tmp, xmm_bytes(d)) != EMU_DONE)
				return EMU_FAULT;
			memcpy(xs + FX_XMM, tmp, xmm_bytes(d));
		} else {
			memset(xs + FX_XMM, 0, xmm_bytes(d));
		}
	}
	for (size_t i = 0; i < sizeof(xcomp) / sizeof(xcomp[0]); i++) {
		uint64_t bit = 1ull << xcomp[i].bit;
		if (!(rfbm & bit))
			continue;
		if (bv & bit) {
			if (emu_read(c, d->seg, d->ea + xcomp[i].off, tmp, xcomp[i].size) !=
			    EMU_DONE)
				return EMU_FAULT;
			memcpy(xs + xcomp[i].off, tmp, xcomp[i].size);
		} else {
			memset(xs + xcomp[i].off, 0, xcomp[i].size);
		}
	}
	uint64_t inuse = get64(xs + XS_HEADER);
	put64(xs + XS_HEADER, (inuse & ~rfbm) | (bv & rfbm));
	put64(xs + XS_HEADER + 8, 0);
	c->dirty |= EMU_DIRTY_FPU;
	return EMU_DONE;
}

/* XGETBV with ECX = 1 exists where CPUID.(EAX=0xD,ECX=1):EAX bit 2 says so; the guest's
 * CPUID leaf 0xD is the host's (passed through), so the host's answer is the guest's. */
static int xgetbv1(void)
{
	unsigned a, b, c, d;
	if (__get_cpuid_max(0, NULL) < 0xD)
		return 0;
	__cpuid_count(0xD, 1, a, b, c, d);
	return (a >> 2) & 1;
}

enum emu_result emu_fpu_exec(struct emu_cpu *c, const uint8_t *op, const struct emu_insn *d)
{
	if (op[0] >= 0xD8 && op[0] <= 0xDF)
		return x87(c, op, d);
	if (op[0] != 0x0F)
		return EMU_DECLINED;
	if (op[1] == 0x01) {
		c->name = "xgetbv";
		if (!(c->sregs.cr4 & CR4_OSXSAVE))
			return emu_fault(c, VEC_UD, 0, 0);
		uint64_t v = c->xcr0;
		if ((uint32_t)c->regs.rcx == 1 && xgetbv1()) {
			/* XINUSE, which the host CPU answers (test_emu_diff.c): what the guest's
			 * state image says is not in its initial configuration. Without the
			 * image that is unknown. */
			if (!c->xsave_valid)
				return EMU_DECLINED;
			v = get64(c->xs + XS_HEADER) & c->xcr0;
		} else if ((uint32_t)c->regs.rcx != 0) {
			return emu_fault(c, VEC_GP, 1, 0);
		}
		c->regs.rax = (uint32_t)v;
		c->regs.rdx = (uint32_t)(v >> 32);
		return EMU_DONE;
	}
	if (op[1] != 0xAE || !d->has_mem)
		return EMU_DECLINED;
	if (d->reg <= 3 && !(c->sregs.cr4 & CR4_OSFXSR) && d->reg >= 2)
		return emu_fault(c, VEC_UD, 0, 0);
	if (c->sregs.cr0 & CR0_TS)
		return emu_fault(c, VEC_NM, 0, 0);
	uint8_t v[4];
	switch (d->reg) {
	case 0:
		c->name = "fxsave";
		return fxsave(c, d);
	case 1:
		c->name = "fxrstor";
		return fxrstor(c, d);
	case 2:
		c->name = "ldmxcsr";
		if (emu_read(c, d->seg, d->ea, v, 4) != EMU_DONE ||
		    check_mxcsr(c, get32(v)) != EMU_DONE)
			return EMU_FAULT;
		put32(c->xs + FX_MXCSR, get32(v));
		touched(c, 2);
		return EMU_DONE;
	case 3:
		c->name = "stmxcsr";
		put32(v, get32(c->xs + FX_MXCSR));
		return emu_write(c, d->seg, d->ea, v, 4);
	case 4:
		c->name = "xsave";
		if (!c->xsave_valid)
			return EMU_DECLINED;
		return xsave(c, d);
	case 5:
		c->name = "xrstor";
		if (!c->xsave_valid)
			return EMU_DECLINED;
		return xrstor(c, d);
	default:
		return EMU_DECLINED;
	}
}
