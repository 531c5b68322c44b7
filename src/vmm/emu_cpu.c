#include "vmm/emu_cpu.h"

#include <string.h>

#define SEG_ES 0
#define SEG_CS 1
#define SEG_SS 2
#define SEG_DS 3
#define SEG_FS 4
#define SEG_GS 5
#define EFLAGS_CF 0x1u
#define EFLAGS_ZF 0x40u
#define EFLAGS_IF 0x200u
#define EFLAGS_IOPL 0x3000u
#define EFLAGS_NT 0x4000u
#define EFLAGS_VM 0x20000u
#define EFLAGS_VIF 0x80000u
#define EFLAGS_VIP 0x100000u
#define EFER_LMA 0x400u
#define CR0_PE 0x1u
#define CR4_LA57 0x1000u
#define VEC_GP 13
#define VEC_SS 12
#define VEC_NP 11
#define VEC_PF 14
#define VEC_UD 6

static struct kvm_segment *segp(struct emu_cpu *c, int s)
{
	struct kvm_segment *t[6] = { &c->sregs.es, &c->sregs.cs, &c->sregs.ss,
				     &c->sregs.ds, &c->sregs.fs, &c->sregs.gs };
	return t[s];
}

static int long64(const struct emu_cpu *c)
{
	return (c->sregs.efer & EFER_LMA) && c->sregs.cs.l;
}

static int real_or_v86(const struct emu_cpu *c)
{
	return !(c->sregs.cr0 & CR0_PE) || (c->regs.rflags & EFLAGS_VM);
}

static unsigned cpl(const struct emu_cpu *c)
{
	if (!(c->sregs.cr0 & CR0_PE))
		return 0;
	if (c->regs.rflags & EFLAGS_VM)
		return 3;
	return c->sregs.cs.selector & 3;
}

enum emu_result emu_fault(struct emu_cpu *c, uint8_t vector, int has_error, uint32_t error)
{
	c->vector = vector;
	c->has_error = has_error;
	c->error = error;
	return EMU_FAULT;
}

/* Linear address of off in segment s, with the limit check of non-64-bit modes (expand-up
 * segments; expand-down data segments are not used by the code that reaches us). */
static int canonical(const struct emu_cpu *c, uint64_t a)
{
	int bits = (c->sregs.cr4 & CR4_LA57) ? 57 : 48;
	return (uint64_t)((int64_t)(a << (64 - bits)) >> (64 - bits)) == a;
}

static enum emu_result linear(struct emu_cpu *c, int s, uint64_t off, size_t len, uint64_t *lin)
{
	struct kvm_segment *sg = segp(c, s);
	if (long64(c)) {
		*lin = (s == SEG_FS || s == SEG_GS) ? sg->base + off : off;
		/* A non-canonical address is #GP(0) (#SS(0) through SS), never a page walk:
		 * handed to the page walk it came out as a #PF. */
		if (!canonical(c, *lin) || (len && !canonical(c, *lin + len - 1)))
			return emu_fault(c, s == SEG_SS ? VEC_SS : VEC_GP, 1, 0);
		return EMU_DONE;
	}
	if (len && (off > sg->limit || len - 1 > sg->limit - off))
		return emu_fault(c, s == SEG_SS ? VEC_SS : VEC_GP, 1, 0);
	*lin = (uint32_t)(sg->base + off);
	return EMU_DONE;
}

/* A guest memory access through a segment; a failed page walk becomes #PF with CR2 set. */
static enum emu_result access_mem(struct emu_cpu *c, int seg, uint64_t off, void *rbuf,
				  const void *wbuf, size_t len)
{
	uint64_t lin;
	uint32_t pf_err = 0;
	uint64_t pf_addr = 0;
	if (linear(c, seg, off, len, &lin) != EMU_DONE)
		return EMU_FAULT;
	int r = wbuf ? c->mem->write(c->mem_ctx, lin, wbuf, len, &pf_err, &pf_addr)
		     : c->mem->read(c->mem_ctx, lin, rbuf, len, &pf_err, &pf_addr);
	if (r < 0) {
		c->cr2 = pf_addr;
		/* The page walk knows P and W; whether the access was a user one is the CPL's
		 * (descriptor-table reads, which are always supervisor accesses, do not come
		 * here). A CPL-3 fault without U would send the guest kernel's fault handler
		 * down its kernel-address path. */
		if (cpl(c) == 3)
			pf_err |= 4;
		return emu_fault(c, VEC_PF, 1, pf_err);
	}
	return EMU_DONE;
}

int emu_misaligned(struct emu_cpu *c, int seg, uint64_t off, unsigned align)
{
	const struct kvm_segment *sg = segp(c, seg);
	uint64_t lin = off;
	if (!long64(c))
		lin = (uint32_t)(sg->base + off);
	else if (seg == SEG_FS || seg == SEG_GS)
		lin = sg->base + off;
	return (lin & (align - 1)) != 0;
}

enum emu_result emu_read(struct emu_cpu *c, int seg, uint64_t off, void *buf, size_t len)
{
	return access_mem(c, seg, off, buf, NULL, len);
}

enum emu_result emu_write(struct emu_cpu *c, int seg, uint64_t off, const void *buf, size_t len)
{
	return access_mem(c, seg, off, NULL, buf, len);
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* ---- decoding ---- */

static const uint8_t gpr16_base[8][2] = {
	/* BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP, BX (register numbers, 8 = none) */
	{ 3, 6 }, { 3, 7 }, { 5, 6 }, { 5, 7 }, { 6, 8 }, { 7, 8 }, { 5, 8 }, { 3, 8 },
};

static __u64 *gpr(struct emu_cpu *c, unsigned r)
{
	__u64 *t[16] = { &c->regs.rax, &c->regs.rcx, &c->regs.rdx, &c->regs.rbx,
			    &c->regs.rsp, &c->regs.rbp, &c->regs.rsi, &c->regs.rdi,
			    &c->regs.r8,  &c->regs.r9,  &c->regs.r10, &c->regs.r11,
			    &c->regs.r12, &c->regs.r13, &c->regs.r14, &c->regs.r15 };
	return t[r & 15];
}

/* ModRM at p[*i] (and SIB, displacement); fills d->has_mem/ea/reg/seg. -1 if truncated. */
static int modrm(struct emu_cpu *c, const uint8_t *p, size_t n, size_t *i, struct emu_insn *d,
		 int rex_b, int rex_x, int seg_override)
{
	if (*i >= n)
		return -1;
	uint8_t m = p[(*i)++];
	unsigned mod = m >> 6, rm = m & 7;
	d->reg = (m >> 3) & 7;
	if (mod == 3) {
		d->has_mem = 0;
		return 0;
	}
	d->has_mem = 1;
	int seg = SEG_DS, rip_rel = 0;
	uint64_t ea = 0;
	if (d->addrsize == 2) {
		if (mod == 0 && rm == 6) {
			if (*i + 2 > n)
				return -1;
			ea = le(p + *i, 2);
			*i += 2;
		} else {
			unsigned a = gpr16_base[rm][0], b = gpr16_base[rm][1];
			ea = *gpr(c, a) + (b < 8 ? *gpr(c, b) : 0);
			if (a == 5)
				seg = SEG_SS;
			if (mod == 1) {
				if (*i + 1 > n)
					return -1;
				ea += (uint64_t)(int64_t)(int8_t)p[(*i)++];
			} else if (mod == 2) {
				if (*i + 2 > n)
					return -1;
				ea += (uint64_t)(int64_t)(int16_t)le(p + *i, 2);
				*i += 2;
			}
		}
		ea &= 0xFFFF;
	} else {
		if (rm == 4) {
			if (*i >= n)
				return -1;
			uint8_t sib = p[(*i)++];
			unsigned scale = sib >> 6, index = ((sib >> 3) & 7) | (rex_x << 3);
			unsigned base = (sib & 7) | (rex_b << 3);
			if ((sib & 7) == 5 && mod == 0) {
				if (*i + 4 > n)
					return -1;
				ea = (uint64_t)(int64_t)(int32_t)le(p + *i, 4);
				*i += 4;
			} else {
				ea = *gpr(c, base);
				if ((base & 7) == 4 || (base & 7) == 5)
					seg = SEG_SS;
			}
			if (index != 4)
				ea += *gpr(c, index) << scale;
		} else if (rm == 5 && mod == 0) {
			if (*i + 4 > n)
				return -1;
			ea = (uint64_t)(int64_t)(int32_t)le(p + *i, 4);
			*i += 4;
			rip_rel = d->long64;
		} else {
			unsigned r = rm | (rex_b << 3);
			ea = *gpr(c, r);
			if (rm == 5)
				seg = SEG_SS;
		}
		if (mod == 1) {
			if (*i + 1 > n)
				return -1;
			ea += (uint64_t)(int64_t)(int8_t)p[(*i)++];
		} else if (mod == 2) {
			if (*i + 4 > n)
				return -1;
			ea += (uint64_t)(int64_t)(int32_t)le(p + *i, 4);
			*i += 4;
		}
		if (d->addrsize == 4)
			ea &= 0xFFFFFFFFull;
	}
	d->ea = ea;
	d->seg = seg_override >= 0 ? seg_override : seg;
	return rip_rel; /* the caller adds the next RIP once the length is known */
}

/* ---- IRET ---- */

struct desc {
	uint64_t base;
	uint32_t limit;
	uint8_t type, s, dpl, present, avl, l, db, g;
};

static enum emu_result read_desc(struct emu_cpu *c, uint16_t sel, struct desc *o)
{
	uint64_t tbase;
	uint32_t tlimit;
	if (sel & 4) {
		tbase = c->sregs.ldt.base;
		tlimit = c->sregs.ldt.limit;
		if (c->sregs.ldt.unusable || !c->sregs.ldt.present)
			return emu_fault(c, VEC_GP, 1, sel & 0xFFFC);
	} else {
		tbase = c->sregs.gdt.base;
		tlimit = c->sregs.gdt.limit;
	}
	uint32_t off = sel & 0xFFF8u;
	if (off + 7 > tlimit)
		return emu_fault(c, VEC_GP, 1, sel & 0xFFFC);
	uint8_t d[8];
	uint32_t pf_err = 0;
	uint64_t pf_addr = 0;
	if (c->mem->read(c->mem_ctx, tbase + off, d, 8, &pf_err, &pf_addr) < 0) {
		c->cr2 = pf_addr;
		return emu_fault(c, VEC_PF, 1, pf_err);
	}
	o->limit = (uint32_t)(d[0] | d[1] << 8 | (d[6] & 0xF) << 16);
	o->base = (uint64_t)d[2] | (uint64_t)d[3] << 8 | (uint64_t)d[4] << 16 |
		  (uint64_t)d[7] << 24;
	o->type = d[5] & 0xF;
	o->s = (d[5] >> 4) & 1;
	o->dpl = (d[5] >> 5) & 3;
	o->present = d[5] >> 7;
	o->avl = (d[6] >> 4) & 1;
	o->l = (d[6] >> 5) & 1;
	o->db = (d[6] >> 6) & 1;
	o->g = d[6] >> 7;
	if (o->g)
		o->limit = o->limit << 12 | 0xFFF;
	return EMU_DONE;
}

static void set_seg(struct kvm_segment *s, uint16_t sel, const struct desc *d)
{
	*s = (struct kvm_segment){ .base = d->base, .limit = d->limit, .selector = sel,
				   .type = d->type | 1 /* accessed */, .present = d->present,
				   .dpl = d->dpl, .db = d->db, .s = d->s, .l = d->l, .g = d->g,
				   .avl = d->avl };
}

static enum emu_result pop(struct emu_cpu *c, uint64_t *sp, int size, int sp_size, uint64_t *v)
{
	uint8_t b[8];
	if (emu_read(c, SEG_SS, *sp, b, (size_t)size) != EMU_DONE)
		return EMU_FAULT;
	*v = le(b, size);
	*sp += (uint64_t)size;
	if (sp_size == 2)
		*sp &= 0xFFFF;
	else if (sp_size == 4)
		*sp &= 0xFFFFFFFFull;
	return EMU_DONE;
}

static void set_sp(struct emu_cpu *c, uint64_t sp, int sp_size)
{
	if (sp_size == 2)
		c->regs.rsp = (c->regs.rsp & ~0xFFFFull) | (sp & 0xFFFF);
	else
		c->regs.rsp = sp;
}

static enum emu_result iret(struct emu_cpu *c, int opsize)
{
	int sp_size = long64(c) ? 8 : c->sregs.ss.db ? 4 : 2;
	uint64_t sp = c->regs.rsp;
	if (sp_size == 4)
		sp &= 0xFFFFFFFFull;
	else if (sp_size == 2)
		sp &= 0xFFFF;
	/* IA-32e mode has no task return: NT set is #GP(0) before anything is popped. */
	if ((c->regs.rflags & EFLAGS_NT) && (c->sregs.efer & EFER_LMA) && !real_or_v86(c))
		return emu_fault(c, VEC_GP, 1, 0);
	uint64_t ip, cs, fl;
	if (pop(c, &sp, opsize, sp_size, &ip) || pop(c, &sp, opsize, sp_size, &cs) ||
	    pop(c, &sp, opsize, sp_size, &fl))
		return EMU_FAULT;
	uint64_t old = c->regs.rflags;

	if (real_or_v86(c)) {
		if (c->regs.rflags & EFLAGS_VM)
			return EMU_DECLINED; /* virtual-8086 IRET depends on IOPL and VME */
		if (ip > c->sregs.cs.limit && opsize == 4)
			return emu_fault(c, VEC_GP, 1, 0);
		c->sregs.cs.selector = (uint16_t)cs;
		c->sregs.cs.base = (cs & 0xFFFF) << 4;
		c->regs.rip = ip;
		if (opsize == 2)
			c->regs.rflags = (old & ~0xFFFFull) | (fl & 0xFFFF);
		else /* VM, VIF, VIP keep their values in real mode */
			c->regs.rflags = (fl & 0x257FD5u) | (old & 0x1A0000u);
		c->regs.rflags |= 2;
		set_sp(c, sp, sp_size);
		c->dirty |= EMU_DIRTY_REGS | EMU_DIRTY_SREGS;
		return EMU_DONE;
	}
	if (old & EFLAGS_NT)
		return EMU_DECLINED; /* task return */
	unsigned cur = cpl(c);
	uint16_t sel = (uint16_t)cs;
	unsigned rpl = sel & 3;
	if (!long64(c) && (fl & EFLAGS_VM) && cur == 0)
		return EMU_DECLINED; /* return to virtual-8086 mode */
	if ((sel & 0xFFFC) == 0 || rpl < cur)
		return emu_fault(c, VEC_GP, 1, sel & 0xFFFC);
	struct desc d;
	if (read_desc(c, sel, &d) != EMU_DONE)
		return EMU_FAULT;
	if (!d.s || !(d.type & 8))
		return emu_fault(c, VEC_GP, 1, sel & 0xFFFC);
	if ((d.type & 4) ? d.dpl > rpl : d.dpl != rpl)
		return emu_fault(c, VEC_GP, 1, sel & 0xFFFC);
	if (!d.present)
		return emu_fault(c, VEC_NP, 1, sel & 0xFFFC);
	int outer = rpl > cur || long64(c);
	uint64_t new_sp = 0, ss = 0;
	struct desc sd = { 0 };
	if (outer) {
		if (pop(c, &sp, opsize, sp_size, &new_sp) || pop(c, &sp, opsize, sp_size, &ss))
			return EMU_FAULT;
		uint16_t ssel = (uint16_t)ss;
		int null_ss_ok = long64(c) && rpl < 3 && d.l;
		if ((ssel & 0xFFFC) == 0) {
			if (!null_ss_ok)
				return emu_fault(c, VEC_GP, 1, 0);
		} else {
			if ((ssel & 3) != rpl)
				return emu_fault(c, VEC_GP, 1, ssel & 0xFFFC);
			if (read_desc(c, ssel, &sd) != EMU_DONE)
				return EMU_FAULT;
			if (!sd.s || (sd.type & 8) || !(sd.type & 2) || sd.dpl != rpl)
				return emu_fault(c, VEC_GP, 1, ssel & 0xFFFC);
			if (!sd.present)
				return emu_fault(c, VEC_SS, 1, ssel & 0xFFFC);
		}
	}
	/* The new RIP: in a 64-bit code segment it must be canonical, elsewhere within CS's
	 * limit, or #GP(0) before anything changes (SDM IRET; the host CPU agrees,
	 * test_emu_diff_iret.c). Loading it unchecked made the guest fault at the target with
	 * the new state instead of at the IRET. */
	uint64_t new_ip = opsize == 2 ? (ip & 0xFFFF) : opsize == 4 ? (ip & 0xFFFFFFFFull) : ip;
	if ((c->sregs.efer & EFER_LMA) && d.l ? !canonical(c, new_ip) : new_ip > d.limit)
		return emu_fault(c, VEC_GP, 1, 0);
	/* Which flags the new value may change (SDM IRET, "EFLAGS" per CPL and IOPL). */
	uint64_t mask = 0x254DD5u; /* CF PF AF ZF SF TF DF OF NT RF AC ID */
	if (cur == 0)
		mask |= EFLAGS_IF | EFLAGS_IOPL | EFLAGS_VIF | EFLAGS_VIP;
	else if (cur <= ((old & EFLAGS_IOPL) >> 12))
		mask |= EFLAGS_IF;
	if (opsize == 2)
		mask &= 0xFFFF;
	c->regs.rflags = ((old & ~mask) | (fl & mask) | 2) & ~(uint64_t)EFLAGS_VM;
	set_seg(&c->sregs.cs, sel, &d);
	c->regs.rip = new_ip;
	if (outer) {
		uint16_t ssel = (uint16_t)ss;
		if ((ssel & 0xFFFC) == 0) {
			c->sregs.ss = (struct kvm_segment){ .selector = ssel, .unusable = 1,
							    .dpl = (uint8_t)rpl };
		} else {
			set_seg(&c->sregs.ss, ssel, &sd);
		}
		/* In 64-bit mode RSP takes the popped value whatever the operand size (a 16-bit
		 * IRETQ zero-extends it, as the host CPU does); elsewhere a 16-bit IRET loads SP. */
		c->regs.rsp = opsize == 2 && !long64(c)
				      ? (c->regs.rsp & ~0xFFFFull) | (new_sp & 0xFFFF)
				      : new_sp;
		if (!long64(c) && !d.l && opsize == 4 && !sd.db)
			c->regs.rsp = (c->regs.rsp & ~0xFFFFull) | (new_sp & 0xFFFF);
		/* Data segments the new, less privileged code may not use become null. */
		if (rpl > cur) {
			int segs[4] = { SEG_ES, SEG_DS, SEG_FS, SEG_GS };
			for (int i = 0; i < 4; i++) {
				struct kvm_segment *s = segp(c, segs[i]);
				int conforming_code = (s->type & 0xC) == 0xC;
				if (s->dpl < rpl && !conforming_code)
					*s = (struct kvm_segment){ .unusable = 1 };
			}
		}
	} else {
		set_sp(c, sp, sp_size);
	}
	c->dirty |= EMU_DIRTY_REGS | EMU_DIRTY_SREGS;
	return EMU_DONE;
}

/* ---- CMPXCHG8B / CMPXCHG16B ---- */

static enum emu_result cmpxchg8b16b(struct emu_cpu *c, const struct emu_insn *d)
{
	int wide = d->rex_w;
	size_t sz = wide ? 16 : 8;
	if (!d->has_mem)
		return emu_fault(c, VEC_UD, 0, 0);
	if (wide && emu_misaligned(c, d->seg, d->ea, 16))
		return emu_fault(c, VEC_GP, 1, 0);
	uint8_t m[16];
	if (emu_read(c, d->seg, d->ea, m, sz) != EMU_DONE) {
		/* The CPU accesses the operand as a write even when it fails to compare (it
		 * writes the old value back), so a #PF on the read has W set, as the host CPU
		 * reports it (test_emu_diff_cmpxchg.c). */
		if (c->vector == VEC_PF)
			c->error |= 2;
		return EMU_FAULT;
	}
	uint64_t lo = le(m, (int)sz / 2), hi = le(m + sz / 2, (int)sz / 2);
	uint64_t mask = wide ? ~0ull : 0xFFFFFFFFull;
	uint64_t a = c->regs.rax & mask, dd = c->regs.rdx & mask;
	if (lo == a && hi == dd) {
		uint64_t b = c->regs.rbx & mask, cc = c->regs.rcx & mask;
		memcpy(m, &b, sz / 2);
		memcpy(m + sz / 2, &cc, sz / 2);
		if (emu_write(c, d->seg, d->ea, m, sz) != EMU_DONE)
			return EMU_FAULT;
		c->regs.rflags |= EFLAGS_ZF;
	} else {
		/* The processor writes the old value back (a locked read-modify-write). */
		if (emu_write(c, d->seg, d->ea, m, sz) != EMU_DONE)
			return EMU_FAULT;
		c->regs.rflags &= ~(uint64_t)EFLAGS_ZF;
		c->regs.rax = wide ? lo : lo & 0xFFFFFFFFull; /* 32-bit writes zero-extend */
		c->regs.rdx = wide ? hi : hi & 0xFFFFFFFFull;
		if (!wide && !d->long64) {
			c->regs.rax = (c->regs.rax & ~0xFFFFFFFFull) | lo;
			c->regs.rdx = (c->regs.rdx & ~0xFFFFFFFFull) | hi;
		}
	}
	c->dirty |= EMU_DIRTY_REGS;
	return EMU_DONE;
}

/* ---- dispatch ---- */

enum emu_result emu_execute(struct emu_cpu *c, const uint8_t *p, size_t n)
{
	struct emu_insn d = { 0 };
	size_t i = 0;
	int seg_override = -1, osz_prefix = 0, asz_prefix = 0, rex = 0, lock = 0;
	c->dirty = 0;
	c->name = NULL;
	d.long64 = long64(c);
	int def32 = d.long64 || (!real_or_v86(c) && c->sregs.cs.db);
	for (; i < n && i < 14; i++) {
		uint8_t b = p[i];
		if (b == 0x66)
			osz_prefix = 1;
		else if (b == 0x67)
			asz_prefix = 1;
		else if (b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E)
			seg_override = (b >> 3) & 3;
		else if (b == 0x64 || b == 0x65)
			seg_override = b - 0x64 + SEG_FS;
		else if (b == 0xF0)
			lock = 1;
		else if (b == 0xF2 || b == 0xF3)
			continue;
		else
			break;
	}
	if (d.long64 && i < n && (p[i] & 0xF0) == 0x40)
		rex = p[i++];
	if (i >= n)
		return EMU_DECLINED;
	d.rex_w = (rex & 8) != 0;
	d.opsize = d.rex_w ? 8 : (def32 ^ osz_prefix) ? 4 : 2;
	d.addrsize = d.long64 ? (asz_prefix ? 4 : 8) : (def32 ^ asz_prefix) ? 4 : 2;
	d.seg = -1;
	const uint8_t *op = p + i;
	size_t opi = i;
	uint8_t b0 = p[i++];
	uint8_t b1 = i < n ? p[i] : 0;
	enum emu_result r;

	if (b0 == 0xCF) {
		c->name = d.opsize == 8 ? "iretq" : d.opsize == 4 ? "iretd" : "iret";
		if (lock)
			return emu_fault(c, VEC_UD, 0, 0);
		r = iret(c, d.opsize);
		return r;
	}
	int is_fpu = b0 >= 0xD8 && b0 <= 0xDF;
	int is_0f = b0 == 0x0F && (b1 == 0xAE || b1 == 0xC7 || b1 == 0x01);
	if (!is_fpu && !is_0f)
		return EMU_DECLINED;
	/* LOCK is #UD on every instruction here but CMPXCHG8B/16B with a memory operand (which
	 * cmpxchg8b16b checks itself). Ignoring it would complete what the CPU refuses. */
	if (lock && !(is_0f && b1 == 0xC7))
		return emu_fault(c, VEC_UD, 0, 0);
	if (is_0f)
		i++;
	if (is_0f && b1 == 0x01) { /* only XGETBV (0F 01 D0) */
		if (i >= n || p[i] != 0xD0)
			return EMU_DECLINED;
		i++;
		d.len = (unsigned)i;
		r = emu_fpu_exec(c, op, &d);
		goto advance;
	}
	int rip_rel = modrm(c, p, n, &i, &d, (rex & 1) != 0, (rex & 2) != 0, seg_override);
	if (rip_rel < 0)
		return EMU_DECLINED;
	d.len = (unsigned)i;
	if (rip_rel)
		d.ea += c->regs.rip + d.len;
	(void)opi;
	if (is_0f && b1 == 0xC7) {
		if (d.reg != 1)
			return EMU_DECLINED;
		c->name = d.rex_w ? "cmpxchg16b" : "cmpxchg8b";
		r = cmpxchg8b16b(c, &d);
	} else {
		r = emu_fpu_exec(c, op, &d);
	}
advance:
	if (r == EMU_DONE) {
		c->regs.rip += d.len;
		if (!d.long64)
			c->regs.rip &= def32 ? 0xFFFFFFFFull : 0xFFFF;
		c->dirty |= EMU_DIRTY_REGS;
	}
	return r;
}
