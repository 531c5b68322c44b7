/* Completing instructions that KVM's emulator gives up on (PVM hosts run guest ring 0 in it):
 * 32-bit and 16-bit IRET (isolinux, pxelinux, iPXE), x87 state instructions (FNINIT, FNCLEX,
 * FNSTCW, FLDCW, FNSTSW, FNSTENV, FLDENV), FXSAVE/FXRSTOR, XSAVE/XRSTOR/XGETBV, STMXCSR/LDMXCSR
 * and CMPXCHG8B/16B, following the Intel SDM's operation sections.
 *
 * emu_execute() works on struct emu_cpu, a copy of the vCPU's state (KVM's register structs
 * and an XSAVE image) plus callbacks for linear-address memory access, so it runs the same in
 * unit tests and on a vCPU (vm.c fills it with KVM_GET_REGS/SREGS/XSAVE/FPU and KVM_TRANSLATE).
 * It either completes the instruction (state updated, RIP advanced, dirty says what to write
 * back), raises an exception the caller injects, or declines. */
#ifndef DOMUS_EMU_CPU_H
#define DOMUS_EMU_CPU_H
#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

#define EMU_XSAVE_SIZE 4096

struct emu_mem_ops {
	/* Access len bytes at a linear address with the guest's paging. 0, or -1 with the page
	 * fault's error code in *pf_err and the faulting address in *pf_addr. */
	int (*read)(void *ctx, uint64_t linear, void *buf, size_t len, uint32_t *pf_err,
		    uint64_t *pf_addr);
	int (*write)(void *ctx, uint64_t linear, const void *buf, size_t len, uint32_t *pf_err,
		     uint64_t *pf_addr);
};

#define EMU_DIRTY_REGS 1
#define EMU_DIRTY_SREGS 2
#define EMU_DIRTY_FPU 4 /* the XSAVE image (x87/SSE state and beyond) */

struct emu_cpu {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	/* XSAVE layout, standard (non-compacted) form: bytes 0-511 are the FXSAVE image, 512-575
	 * the header. With xsave_valid clear only the FXSAVE part is meaningful (no XSAVE). */
	uint8_t xs[EMU_XSAVE_SIZE];
	int xsave_valid;
	uint64_t xcr0;
	const struct emu_mem_ops *mem;
	void *mem_ctx;
	/* results */
	unsigned dirty;
	uint8_t vector; /* the exception to inject for EMU_FAULT */
	int has_error;
	uint32_t error;
	uint64_t cr2; /* for #PF */
	const char *name; /* mnemonic, for messages */
};

enum emu_result { EMU_DONE, EMU_FAULT, EMU_DECLINED };

enum emu_result emu_execute(struct emu_cpu *c, const uint8_t *insn, size_t n);

/* x87/SSE/XSAVE instructions (emu_fpu.c), called by emu_execute with the decoded operand. */
struct emu_insn {
	unsigned len;     /* bytes, prefixes included */
	int opsize;       /* 2, 4 or 8 */
	int addrsize;     /* 2, 4 or 8 */
	int rex_w;
	int seg;          /* segment of the memory operand: 0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS */
	int has_mem;
	uint64_t ea;      /* effective address (offset in seg) */
	unsigned reg;     /* ModRM reg field */
	int long64;       /* 64-bit mode */
};
enum emu_result emu_fpu_exec(struct emu_cpu *c, const uint8_t *op, const struct emu_insn *d);
/* Memory through segment seg (limit-checked outside 64-bit mode); EMU_DONE or EMU_FAULT. */
enum emu_result emu_read(struct emu_cpu *c, int seg, uint64_t off, void *buf, size_t len);
enum emu_result emu_write(struct emu_cpu *c, int seg, uint64_t off, const void *buf, size_t len);
/* Whether the linear address of off in seg is not a multiple of align (a power of two): the
 * alignment checks of FXSAVE, XSAVE and CMPXCHG16B are on the linear address. */
int emu_misaligned(struct emu_cpu *c, int seg, uint64_t off, unsigned align);
enum emu_result emu_fault(struct emu_cpu *c, uint8_t vector, int has_error, uint32_t error);

#endif
