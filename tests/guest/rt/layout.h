/*
 * layout.h - constants shared by the runtime's assembly and C code.
 * Selectors, vector numbers, per-CPU block offsets and stack sizes.
 */
#ifndef RT_LAYOUT_H
#define RT_LAYOUT_H

#define RT_MAX_CPUS      16
#define RT_KSTACK_SIZE   16384 /* per CPU; the per-CPU block sits at its low end */
#define RT_USTACK_SIZE   16384

/* GDT selectors (see gdt in entry.S). */
#define SEL_CODE32       0x08
#define SEL_DATA         0x10
#define SEL_CODE64       0x18
#define SEL_UDATA        0x23 /* 0x20 | RPL 3 */
#define SEL_UCODE        0x2b /* 0x28 | RPL 3 */
#define SEL_TSS0         0x30 /* 16 bytes per CPU */
#define GDT_FIXED        6    /* descriptors before the TSS ones */

/* Interrupt vectors. */
#define VEC_PIC_BASE     0x20 /* IRQ 0..15 -> 0x20..0x2f */
#define VEC_USER_EXIT    0x80 /* DPL-3 gate that ends rt_run_user() */
#define VEC_LAPIC_TIMER  0xef
#define VEC_SPURIOUS     0xff

/* Offsets in struct rt_percpu (checked by _Static_assert in rt_internal.h). */
#define PCPU_KCTX_RSP    8
#define PCPU_USTACK_TOP  16
#define PCPU_TSS         64
#define PCPU_TSS_RSP0    (PCPU_TSS + 4)

/* Real-mode AP trampoline: copied to this address, SIPI vector = address >> 12. */
#define TRAMP_BASE       0x8000

/* RFLAGS for CPL3: bit 1, IF, IOPL=3 (in/out/cli/sti allowed at CPL3). */
#define USER_RFLAGS      0x3202

#endif
