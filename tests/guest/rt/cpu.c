/*
 * cpu.c - per-CPU setup (TSS, IDT), trap dispatch, PIC, LAPIC, SMP start, page tables.
 */
#include "rt_internal.h"

u8 rt_kstacks[RT_MAX_CPUS][RT_KSTACK_SIZE] __attribute__((aligned(RT_KSTACK_SIZE), section(".bss.noinit")));
static u8 ustacks[RT_MAX_CPUS][RT_USTACK_SIZE] __attribute__((aligned(4096), section(".bss.noinit")));
static u64 idt[512] __attribute__((aligned(4096), section(".bss.noinit")));
#define PT_POOL_PAGES 32
static u64 pt_pool[PT_POOL_PAGES][512] __attribute__((aligned(4096), section(".bss.noinit")));
static unsigned pt_pool_used;

static rt_handler_t handlers[256];
u64 rt_ap_stack;
static void (*volatile ap_fn)(unsigned cpu);
static volatile unsigned ap_index;
static volatile unsigned ap_checked_in;
static unsigned ncpus = 1;

extern const u8 rt_trap_stubs[];
void rt_ap_main(void);
/*
 * A PVM host runs CPL3 natively with the host's IOPL (0), not the guest's, so the port I/O
 * our CPL3 loops do with IOPL=3 raises #GP there. Do it here at ring 0 instead, as a PVM-aware
 * kernel would: IN/OUT with an imm8 or DX port, 8/16/32 bits (0x66 for 16). 1 when done.
 */
static int user_port_io(struct rt_frame *f)
{
	const u8 *ip = (const u8 *)f->rip;
	unsigned n = 0, size = 4;
	if (ip[n] == 0x66) {
		size = 2;
		n++;
	}
	u8 op = ip[n++];
	u16 port;
	if (op >= 0xe4 && op <= 0xe7)
		port = ip[n++];
	else if (op >= 0xec && op <= 0xef)
		port = (u16)f->rdx;
	else
		return 0;
	if (!(op & 1))
		size = 1;
	int out = op & 2;
	if (out) {
		if (size == 1)
			outb(port, (u8)f->rax);
		else if (size == 2)
			outw(port, (u16)f->rax);
		else
			outl(port, (u32)f->rax);
	} else if (size == 1) {
		f->rax = (f->rax & ~0xffull) | inb(port);
	} else if (size == 2) {
		f->rax = (f->rax & ~0xffffull) | inw(port);
	} else {
		f->rax = inl(port); /* a 32-bit write zero-extends */
	}
	f->rip += n;
	return 1;
}

void rt_trap(struct rt_frame *f);

struct rt_percpu *rt_this_cpu(void)
{
	u64 rsp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(rsp));
	return (struct rt_percpu *)(rsp & ~(u64)(RT_KSTACK_SIZE - 1));
}

unsigned rt_cpu_index(void) { return rt_this_cpu()->index; }

void rt_idt_init(void)
{
	for (unsigned v = 0; v < 256; v++) {
		u64 a = (u64)rt_trap_stubs + 16 * v;
		u64 dpl = v == VEC_USER_EXIT ? 3 : 0;
		/* 64-bit interrupt gate: present, DPL, type 0xe, selector SEL_CODE64 */
		idt[2 * v] = (a & 0xffff) | ((u64)SEL_CODE64 << 16) | ((0x8eull | dpl << 5) << 40) |
			     ((a >> 16 & 0xffff) << 48);
		idt[2 * v + 1] = a >> 32;
	}
}

void rt_cpu_setup(unsigned index)
{
	struct rt_percpu *pc = (struct rt_percpu *)rt_kstacks[index];
	struct {
		u16 limit;
		u64 base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (u64)idt };

	memset(pc, 0, sizeof(*pc));
	pc->self = (u64)pc;
	pc->index = index;
	pc->apic_id = rt_lapic_id();
	pc->ustack_top = (u64)ustacks[index + 1];
	pc->tss.rsp0 = (u64)rt_kstacks[index + 1];
	pc->tss.iomap_base = sizeof(struct tss64); /* no bitmap: IOPL=3 grants the ports */

	u64 base = (u64)&pc->tss, limit = sizeof(struct tss64) - 1;
	u64 *d = &gdt[GDT_FIXED + 2 * index];
	d[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) | ((limit >> 16 & 0xf) << 48) |
	       ((base >> 24 & 0xff) << 56);
	d[1] = base >> 32;
	u16 sel = (u16)(SEL_TSS0 + 16 * index);
	__asm__ volatile("lidt %0" ::"m"(idtr));
	__asm__ volatile("ltr %0" ::"r"(sel));
}

void rt_set_handler(u8 vector, rt_handler_t fn) { handlers[vector] = fn; }

static const char *const exc_names[32] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS", "#NP",
	"#SS", "#GP", "#PF", "15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void rt_trap(struct rt_frame *f)
{
	unsigned v = (unsigned)f->vector;
	bool from_user = (f->cs & 3) == 3;

	/* End of rt_run_user(): int $0x80, or the #UD (PVM hosts) or #GP a host may raise
	 * for it instead, or the #UD of the ud2 behind it. */
	if (from_user && (v == VEC_USER_EXIT || ((v == 6 || v == 13) && f->rip >= (u64)rt_user_exit &&
						 f->rip < (u64)rt_user_exit + 6)))
		rt_user_resume(rt_this_cpu()->kctx_rsp, f->rdi);

	if (v == 13 && from_user && user_port_io(f))
		return;
	if (handlers[v]) {
		handlers[v](f);
	} else if (v < 32) {
		u64 cr2;
		__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
		rt_printf_unlocked("FAIL %s exception %u %s rip=0x%lx cs=0x%lx err=0x%lx cr2=0x%lx rsp=0x%lx cpu=%u\n",
				   guest_name, v, exc_names[v] ? exc_names[v] : "", f->rip, f->cs, f->error, cr2,
				   f->rsp, rt_cpu_index());
		rt_printf_unlocked("DONE\n");
		rt_poweroff();
	}

	if (v >= VEC_PIC_BASE && v < VEC_PIC_BASE + 16) {
		unsigned irq = v - VEC_PIC_BASE;
		if (irq == 7 || irq == 15) { /* spurious unless the ISR bit is set */
			u16 port = irq == 7 ? 0x20 : 0xa0;
			outb(port, 0x0b);
			if (!(inb(port) & 0x80)) {
				if (irq == 15)
					outb(0x20, 0x20);
				return;
			}
		}
		if (irq >= 8)
			outb(0xa0, 0x20);
		outb(0x20, 0x20);
	} else if (v >= 0x30 && v != VEC_SPURIOUS && v != VEC_USER_EXIT) {
		lapic_write(LAPIC_EOI, 0);
	}
}

/* ---- 8259 PIC ---- */
static u16 pic_mask = 0xffff;

void rt_pic_init(void)
{
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 */
	outb(0xa0, 0x11);
	outb(0x21, VEC_PIC_BASE);
	outb(0xa1, VEC_PIC_BASE + 8);
	outb(0x21, 0x04); /* slave on IRQ 2 */
	outb(0xa1, 0x02);
	outb(0x21, 0x01); /* 8086 mode */
	outb(0xa1, 0x01);
	pic_mask = 0xfffb; /* cascade open, the rest masked */
	outb(0x21, (u8)pic_mask);
	outb(0xa1, (u8)(pic_mask >> 8));
}

void rt_pic_unmask(unsigned irq)
{
	pic_mask &= (u16)~(1u << irq);
	if (irq < 8)
		outb(0x21, (u8)pic_mask);
	else
		outb(0xa1, (u8)(pic_mask >> 8));
}

void rt_pic_mask(unsigned irq)
{
	pic_mask |= (u16)(1u << irq);
	if (irq < 8)
		outb(0x21, (u8)pic_mask);
	else
		outb(0xa1, (u8)(pic_mask >> 8));
}

/* ---- local APIC ---- */
void rt_lapic_init(bool bsp)
{
	/* xAPIC mode at 0xfee00000: leave x2APIC (only via disabled) and enable globally. */
	u64 base = rdmsr(0x1b);
	if (base & (1u << 10)) {
		base &= ~(3ull << 10);
		wrmsr(0x1b, base);
	}
	if (!(base & (1u << 11)) || (base & ~0xfffull) != LAPIC_BASE)
		wrmsr(0x1b, (base & 0xfff) | LAPIC_BASE | 1u << 11);
	lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
	lapic_write(LAPIC_LVT_TIMER, 0x10000 | VEC_LAPIC_TIMER);
	/* The BSP takes the PIC's output as ExtINT on LINT0 (virtual wire mode). */
	lapic_write(LAPIC_LVT_LINT0, bsp ? 0x700 : 0x10700);
	lapic_write(LAPIC_LVT_LINT1, bsp ? 0x400 : 0x10400);
}

void rt_lapic_timer(u32 count, bool periodic)
{
	lapic_write(LAPIC_TIMER_DIV, 0x3); /* divide by 16 */
	lapic_write(LAPIC_LVT_TIMER, (periodic ? 0x20000u : 0) | (count ? 0 : 0x10000u) | VEC_LAPIC_TIMER);
	lapic_write(LAPIC_TIMER_INIT, count);
}

void rt_lapic_ipi(u32 dest, u32 icr)
{
	lapic_write(LAPIC_ICR_HI, dest << 24);
	lapic_write(LAPIC_ICR_LO, icr);
	for (int i = 0; i < 100000 && (lapic_read(LAPIC_ICR_LO) & 0x1000); i++)
		;
}

/* ---- SMP ---- */
void rt_ap_main(void)
{
	unsigned index = ap_index;

	rt_cpu_setup(index);
	rt_lapic_init(false);
	__atomic_store_n(&ap_checked_in, index, __ATOMIC_RELEASE);
	if (ap_fn)
		ap_fn(index);
	rt_halt_forever();
}

int rt_start_ap(u32 apic_id, void (*fn)(unsigned cpu))
{
	if (ncpus >= RT_MAX_CPUS)
		return -1;
	memcpy(rt_phys(TRAMP_BASE), rt_tramp_start, (size_t)(rt_tramp_end - rt_tramp_start));
	ap_index = ncpus;
	ap_fn = fn;
	rt_ap_stack = (u64)rt_kstacks[ncpus + 1];
	ap_checked_in = 0;
	barrier();

	rt_lapic_ipi(apic_id, 0x4500); /* INIT, level assert */
	rt_udelay(10000);
	for (int i = 0; i < 2 && !ap_checked_in; i++) {
		rt_lapic_ipi(apic_id, 0x4600 | (TRAMP_BASE >> 12)); /* STARTUP */
		rt_udelay(200);
	}
	for (int i = 0; i < 1000 && !ap_checked_in; i++)
		rt_udelay(1000);
	if (!ap_checked_in)
		return -1;
	return (int)ncpus++;
}

/* ---- page tables: 2 MiB identity pages above the static first 4 GiB ---- */
static u64 *table_next(u64 *entry)
{
	if (!(*entry & 1)) {
		if (pt_pool_used == PT_POOL_PAGES)
			return NULL;
		u64 *t = pt_pool[pt_pool_used++];
		memset(t, 0, 4096);
		*entry = (u64)t | 0x7;
	}
	return (u64 *)(*entry & 0x000ffffffffff000ull);
}

int rt_map_identity(u64 phys, u64 size)
{
	u64 end = phys + size;

	for (u64 a = phys & ~0x1fffffull; a < end; a += 0x200000) {
		if (a < 0x100000000ull)
			continue;
		u64 *pdpt = table_next(&pml4[a >> 39 & 511]);
		u64 *pd = pdpt ? table_next(&pdpt[a >> 30 & 511]) : NULL;
		if (!pd)
			return -1;
		pd[a >> 21 & 511] = a | 0x87;
	}
	u64 cr3;
	__asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3)::"memory");
	return 0;
}
