/*
 * rt_internal.h - runtime internals shared between its C files (not for guests).
 */
#ifndef RT_INTERNAL_H
#define RT_INTERNAL_H

#include "rt.h"

struct tss64 {
	u32 reserved0;
	u64 rsp0, rsp1, rsp2;
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __attribute__((packed));

/* At the low end of each CPU's kernel stack (found by masking %rsp). */
struct rt_percpu {
	u64 self;
	u64 kctx_rsp;   /* rt_run_user()'s saved kernel stack pointer */
	u64 ustack_top;
	u32 index;
	u32 apic_id;
	u8 pad[32];
	struct tss64 tss;
};
_Static_assert(__builtin_offsetof(struct rt_percpu, kctx_rsp) == PCPU_KCTX_RSP, "layout");
_Static_assert(__builtin_offsetof(struct rt_percpu, ustack_top) == PCPU_USTACK_TOP, "layout");
_Static_assert(__builtin_offsetof(struct rt_percpu, tss) == PCPU_TSS, "layout");

extern u8 rt_kstacks[RT_MAX_CPUS][RT_KSTACK_SIZE];
extern u64 rt_ap_stack;
extern u64 gdt[];
extern u64 pml4[];
extern const u8 rt_tramp_start[], rt_tramp_end[];
extern const u8 rt_user_exit[];

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (u64)hi << 32 | lo;
}
static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

/* entry.S */
void rt_user_resume(u64 kctx_rsp, u64 value) NORETURN;

/* cpu.c */
void rt_cpu_setup(unsigned index); /* GDT TSS, IDT, LAPIC for the calling CPU */
void rt_idt_init(void);
void rt_pic_init(void);
void rt_lapic_init(bool bsp);
struct rt_percpu *rt_this_cpu(void);

/* print.c */
void rt_serial_init(void);
void rt_printf_unlocked(const char *fmt, ...) PRINTF(1, 2);
int rt_vsnprintf(char *buf, size_t len, const char *fmt, va_list ap);

/* acpi.c */
void rt_acpi_init(void);

/* time.c: 0 until calibrated */
u64 rt_tsc_hz_cached(void);

/* main.c */
NORETURN void rt_halt_forever(void);

#endif
