/* Instructions KVM's emulator could not run (KVM_EXIT_INTERNAL_ERROR, suberror EMULATION).
 *
 * On PVM hosts a guest's ring-0 code runs in KVM's instruction emulator, which fails on some
 * instructions (docs/pvm-host.md). emu_classify() decides from the instruction
 * bytes what Domus does: complete it (int3: advance RIP and inject #BP; fwait: skip it), or give
 * up and name the instruction for the report. Pure: testable without KVM. */
#ifndef DOMUS_EMULATE_H
#define DOMUS_EMULATE_H
#include <stddef.h>
#include <stdint.h>

enum emu_action {
	EMU_UNHANDLED,
	EMU_SKIP,      /* advance RIP by len */
	EMU_INJECT_BP, /* advance RIP by len, then inject #BP (a trap: it reports the next RIP) */
};

struct emu_fix {
	enum emu_action action;
	unsigned len;
	const char *name; /* mnemonic when recognised, else NULL */
};

void emu_classify(const uint8_t *insn, size_t n, int long_mode, struct emu_fix *out);
/* "cc 0f 1f ..." for messages. */
void emu_format_bytes(const uint8_t *insn, size_t n, char *buf, size_t len);

#endif
