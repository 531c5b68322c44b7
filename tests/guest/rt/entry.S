/*
 * entry.S - PVH entry, long-mode switch, trap stubs, CPL3 switch and the AP trampoline.
 *
 * Only instructions that KVM's emulator handles run here at ring 0 (no int3, int n,
 * SSE, 32-bit iret): on PVM hosts all guest ring-0 code is emulated.
 */
#include "layout.h"

/* ---- Xen PVH ELF note: XEN_ELFNOTE_PHYS32_ENTRY (18), 4-byte entry address ---- */
	.section .note.xen, "a", @note
	.p2align 2
	.long 4			/* namesz: "Xen\0" */
	.long 4			/* descsz */
	.long 18		/* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_entry

/* ---- 32-bit entry: %ebx = struct hvm_start_info, paging off, no stack ---- */
	.section .text.entry, "ax"
	.code32
	.globl pvh_entry
pvh_entry:
	cli
	cld
	movl %ebx, %edi			/* start info, becomes rt_start()'s argument */
	lgdt gdt_ptr
	ljmp $SEL_CODE32, $1f
1:	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movl $pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	andl $~0x300000, %eax		/* no SMEP/SMAP: every page is user-accessible */
	orl $0x20, %eax			/* PAE */
	movl %eax, %cr4
	movl $0xc0000080, %ecx		/* EFER.LME */
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax		/* PG | PE */
	movl %eax, %cr0
	ljmp $SEL_CODE64, $long_entry

	.code64
long_entry:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movq $(rt_kstacks + RT_KSTACK_SIZE), %rsp
	movl %edi, %ebx			/* zero-extend the start info address */
	/* The loader zeroes .bss; do it again so a warm reset never sees stale state. */
	movq $__bss_start, %rdi
	movq $__bss_end, %rcx
	subq %rdi, %rcx
	shrq $3, %rcx
	xorl %eax, %eax
	rep stosq
	movq %rbx, %rdi
	call rt_start
2:	cli
	hlt
	jmp 2b

/* AP: arrives from the trampoline in 64-bit mode; rt_ap_stack set by the BSP. */
	.globl rt_ap_entry64
rt_ap_entry64:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movq rt_ap_stack(%rip), %rsp
	call rt_ap_main
3:	cli
	hlt
	jmp 3b

/* ---- trap stubs: 16 bytes each, vector v at rt_trap_stubs + 16*v ---- */
	.text
	.p2align 4
	.globl rt_trap_stubs
rt_trap_stubs:
	.set vec, 0
	.rept 256
	.p2align 4
	.if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0			/* no CPU error code: push a dummy */
	.endif
	pushq $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

trap_common:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rbx
	pushq %rbp
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	call rt_trap
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rbp
	popq %rbx
	popq %rdx
	popq %rcx
	popq %rax
	addq $16, %rsp			/* vector, error code */
	iretq

/*
 * u64 rt_run_user(u64 (*fn)(u64), u64 arg): run fn(arg) at CPL3 with IOPL=3, IF=1.
 * The kernel context is saved on this CPU's kernel stack, TSS.RSP0 points just below
 * it, and iretq enters user_entry. fn's return goes to user_exit, which traps back to
 * ring 0 (int $0x80, or #UD on ud2 where int n is refused); rt_trap then calls
 * rt_user_resume() to unwind to here.
 */
	.globl rt_run_user
rt_run_user:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushfq
	movq %rsp, %rax
	andq $~(RT_KSTACK_SIZE - 1), %rax	/* per-CPU block */
	movq %rsp, PCPU_KCTX_RSP(%rax)
	movq %rsp, PCPU_TSS_RSP0(%rax)
	movq PCPU_USTACK_TOP(%rax), %rcx
	pushq $SEL_UDATA		/* ss */
	pushq %rcx			/* rsp */
	pushq $USER_RFLAGS		/* rflags */
	pushq $SEL_UCODE		/* cs */
	leaq user_entry(%rip), %rcx
	pushq %rcx			/* rip */
	movq %rdi, %rax
	movq %rsi, %rdi
	iretq

	.globl rt_user_exit
user_entry:				/* CPL3 */
	call *%rax
	movq %rax, %rdi
rt_user_exit:
	int $VEC_USER_EXIT
	ud2
	ud2

/* void rt_user_resume(u64 kctx_rsp, u64 value): back into rt_run_user's frame. */
	.globl rt_user_resume
rt_user_resume:
	movq %rdi, %rsp
	movq %rsi, %rax
	popfq
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

/* ---- real-mode AP trampoline, copied to TRAMP_BASE; position-free by construction ---- */
#define T(x) (TRAMP_BASE + (x) - rt_tramp_start)
	.section .rodata.tramp, "a"
	.globl rt_tramp_start, rt_tramp_end
	.code16
rt_tramp_start:
	cli
	cld
	movw %cs, %ax
	movw %ax, %ds
	lgdtl (tramp_gdtr - rt_tramp_start)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $SEL_CODE32, $T(tramp32)
	.code32
tramp32:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl $pml4, %eax
	movl %eax, %cr3
	movl %cr4, %eax
	andl $~0x300000, %eax
	orl $0x20, %eax
	movl %eax, %cr4
	movl $0xc0000080, %ecx
	rdmsr
	orl $0x100, %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80000001, %eax
	movl %eax, %cr0
	ljmp $SEL_CODE64, $T(tramp64)
	.code64
tramp64:
	movabsq $rt_ap_entry64, %rax
	jmp *%rax
	.p2align 3
tramp_gdtr:
	.word gdt_end - gdt - 1
	.long gdt
rt_tramp_end:

/* ---- GDT and identity page tables (first 4 GiB, 2 MiB pages, user-accessible) ---- */
	.data
	.p2align 4
	.globl gdt, gdt_ptr
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08 code32 */
	.quad 0x00cf92000000ffff	/* 0x10 data */
	.quad 0x00af9a000000ffff	/* 0x18 code64 */
	.quad 0x00cff2000000ffff	/* 0x20 user data, DPL 3 */
	.quad 0x00affa000000ffff	/* 0x28 user code64, DPL 3 */
	.fill 2 * RT_MAX_CPUS, 8, 0	/* 0x30.. one 16-byte TSS descriptor per CPU */
gdt_end:
	.p2align 3
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt			/* a 32-bit lgdt reads only the low 4 bytes */

	.section .data.pagetables, "aw"
	.p2align 12
	.globl pml4, pdpt0, pd0
pml4:
	.quad pdpt0 + 0x7		/* P | RW | US */
	.fill 511, 8, 0
pdpt0:
	.quad pd0 + 0x7
	.quad pd0 + 0x1000 + 0x7
	.quad pd0 + 0x2000 + 0x7
	.quad pd0 + 0x3000 + 0x7
	.fill 508, 8, 0
pd0:
	.set pg, 0
	.rept 2048
	.if pg >= 1536			/* 3..4 GiB: MMIO hole, uncached (PCD | PWT) */
	.quad (pg << 21) | 0x9f
	.else
	.quad (pg << 21) | 0x87		/* P | RW | US | PS */
	.endif
	.set pg, pg + 1
	.endr

	.section .note.GNU-stack, "", @progbits
