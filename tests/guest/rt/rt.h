/*
 * rt.h - runtime of the tiny test guests (PVH ELF kernels, long mode, identity mapped).
 *
 * A guest defines `const char guest_name[]` and `void guest_main(void)`. The runtime
 * prints "START <name>", sets up paging, GDT/IDT/TSS, PIC, LAPIC and ACPI, then calls
 * guest_main() at ring 0. When it returns the runtime prints "PASS <name>" (unless a
 * verdict was already printed), "DONE", and powers off through ACPI S5.
 *
 * Ring 0 is emulated instruction by instruction on PVM hosts: keep loops at CPL3 with
 * rt_run_user(). Functions marked [any] work at CPL3 too (IOPL=3 allows port I/O).
 */
#ifndef RT_H
#define RT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "layout.h"

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NORETURN __attribute__((noreturn))
#define PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ---- provided by each guest ---- */
extern const char guest_name[];
void guest_main(void);

/* ---- verdicts and the end of a run [any] ---- */
/* Print "PASS <guest>" once. */
void rt_pass(void);
/* Print "FAIL <guest> <why>", then "DONE", then power off. */
NORETURN void rt_fail(const char *fmt, ...) PRINTF(1, 2);
/* Print "DONE" and power off (verdict lines are the caller's business). */
NORETURN void rt_done(void);

/* ---- console: COM1 16550 at 0x3f8 [any] ---- */
/* printf subset: %s %c %d %u %x %p %% with l/ll, width and '0' flag. Serialized by a lock. */
void rt_printf(const char *fmt, ...) PRINTF(1, 2);
void rt_vprintf(const char *fmt, va_list ap);
int rt_snprintf(char *buf, size_t len, const char *fmt, ...) PRINTF(3, 4);
void rt_serial_putc(char c); /* raw, no lock, no \n -> \r\n */

/* ---- port I/O and MMIO [any] ---- */
static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u16 inw(u16 port) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u8 mmio_read8(u64 a) { return *(volatile u8 *)a; }
static inline u16 mmio_read16(u64 a) { return *(volatile u16 *)a; }
static inline u32 mmio_read32(u64 a) { return *(volatile u32 *)a; }
static inline u64 mmio_read64(u64 a) { return *(volatile u64 *)a; }
static inline void mmio_write8(u64 a, u8 v) { *(volatile u8 *)a = v; }
static inline void mmio_write16(u64 a, u16 v) { *(volatile u16 *)a = v; }
static inline void mmio_write32(u64 a, u32 v) { *(volatile u32 *)a = v; }
static inline void mmio_write64(u64 a, u64 v) { *(volatile u64 *)a = v; }

/* Pointer to a physical address (identity mapped); hides constants from GCC's bounds checks. */
static inline void *rt_phys(u64 pa)
{
	__asm__("" : "+r"(pa));
	return (void *)pa;
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}
static inline void cpuid(u32 leaf, u32 sub, u32 r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
/* Ring 0 only. */
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline int rt_cpl(void) { u16 cs; __asm__ volatile("mov %%cs, %0" : "=r"(cs)); return cs & 3; }

/* ---- boot information (copied from hvm_start_info at entry) [any] ---- */
struct rt_memmap_entry {
	u64 addr, size;
	u32 type, reserved;
};
#define E820_RAM 1
/* Memory map entries from the start info; *n receives the count. */
const struct rt_memmap_entry *rt_memmap(unsigned *n);
const char *rt_cmdline(void);
/* Value of "key=value" on the cmdline into buf (NUL-terminated); false if absent. */
bool rt_cmdline_str(const char *key, char *buf, size_t len);
/* Numeric value (decimal or 0x hex) of key, or def if absent or malformed. */
u64 rt_cmdline_u64(const char *key, u64 def);
u64 rt_rsdp_from_start_info(void);

/* ---- CPU, interrupts, CPL3 ---- */
struct rt_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rdi, rsi, rbp, rbx, rdx, rcx, rax;
	u64 vector, error, rip, cs, rflags, rsp, ss;
};
typedef void (*rt_handler_t)(struct rt_frame *f);
/* Install a handler for a vector. The runtime sends the EOI for PIC (0x20-0x2f) and
 * LAPIC (other >= 0x30) vectors after the handler returns. Exceptions (< 32) without a
 * handler end the run with "FAIL <guest> exception N rip=...". */
void rt_set_handler(u8 vector, rt_handler_t fn);
/* Run fn(arg) at CPL3 with IOPL=3 and IF=1 on this CPU's user stack; returns its
 * value. Interrupts taken meanwhile run their ring-0 handlers. Not reentrant. */
u64 rt_run_user(u64 (*fn)(u64), u64 arg);
/* Index of the calling CPU (0 = BSP) [ring 0 only: uses the kernel stack]. */
unsigned rt_cpu_index(void);
/* Identity-map [phys, phys+size) with 2 MiB pages (first 4 GiB are always mapped).
 * 0 on success, -1 when the page-table pool is exhausted. Ring 0. */
int rt_map_identity(u64 phys, u64 size);

/* ---- 8259 PIC (remapped to 0x20/0x28, all masked at boot) [any] ---- */
void rt_pic_unmask(unsigned irq);
void rt_pic_mask(unsigned irq);

/* ---- local APIC (xAPIC MMIO at 0xfee00000) [any] ---- */
#define LAPIC_BASE 0xfee00000u
#define LAPIC_ID 0x20
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0
static inline u32 lapic_read(u32 reg) { return mmio_read32(LAPIC_BASE + reg); }
static inline void lapic_write(u32 reg, u32 v) { mmio_write32(LAPIC_BASE + reg, v); }
static inline u32 rt_lapic_id(void) { return lapic_read(LAPIC_ID) >> 24; }
/* Start the LAPIC timer on VEC_LAPIC_TIMER, divide by 16; count 0 stops it. */
void rt_lapic_timer(u32 count, bool periodic);
/* Send an IPI (ICR low = icr, destination APIC ID dest); waits for delivery. */
void rt_lapic_ipi(u32 dest, u32 icr);

/* ---- SMP ---- */
/* APIC IDs of the enabled CPUs from the MADT (or the MP table if there is no MADT),
 * up to max; returns the count and sets *source to "madt", "mp" or "none". */
int rt_cpu_list(u32 *ids, int max, const char **source);
/* Boot the CPU with this APIC ID (INIT-SIPI-SIPI via the trampoline at 0x8000); it
 * runs fn(cpu index) at ring 0 with its own GDT/TSS/LAPIC setup and then halts.
 * Returns the cpu index (>0), or -1 when it did not check in within a second. */
int rt_start_ap(u32 apic_id, void (*fn)(unsigned cpu));

/* ---- time [any] ---- */
#define PMTIMER_HZ 3579545u
#define PIT_HZ 1193182u
/* ACPI PM timer port (from the FADT, else 0x608); 0 when there is none. */
u16 rt_pmtimer_port(void);
static inline u32 rt_pmtimer(void) { return inl(rt_pmtimer_port()) & 0xffffff; }
/* TSC frequency, calibrated on first use against the PM timer (or PIT channel 0). */
u64 rt_tsc_hz(void);
const char *rt_tsc_source(void);
void rt_udelay(u64 us);

/* ---- CMOS [any] ---- */
static inline u8 rt_cmos_read(u8 reg) { outb(0x70, reg & 0x7f); return inb(0x71); }
static inline void rt_cmos_write(u8 reg, u8 v) { outb(0x70, reg & 0x7f); outb(0x71, v); }

/* ---- ACPI ---- */
struct rt_gas {
	u8 space; /* 0 = memory, 1 = I/O */
	u8 bit_width, bit_offset, access_size;
	u64 addr;
} __attribute__((packed));
struct rt_acpi {
	u64 rsdp;            /* 0 when no RSDP was found */
	const u8 *fadt, *dsdt, *madt;
	u16 pm1a_cnt, pm1b_cnt, pm_tmr;
	bool have_s5;
	u8 s5_typ;           /* SLP_TYPa for S5 from the DSDT's \_S5 */
	bool have_reset;
	struct rt_gas reset_reg;
	u8 reset_value;
	bool have_sleep_ctl; /* hardware-reduced ACPI (e.g. QEMU microvm) */
	struct rt_gas sleep_ctl;
};
const struct rt_acpi *rt_acpi(void);
/* Table with this signature from the XSDT/RSDT, or NULL. */
const u8 *rt_acpi_find(const char *sig);
/* S5: SLP_TYP|SLP_EN to PM1a_CNT (or the sleep control register). Never returns. */
NORETURN void rt_poweroff(void);
/* how = "cf9", "kbd", "acpi" (FADT reset register) or "triple". Ring 0 for "triple". */
void rt_reset(const char *how);

/* ---- small libc ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* Parse decimal or 0x-hex; *end (optional) gets the first unparsed char. */
u64 rt_strtou64(const char *s, const char **end);

#endif
