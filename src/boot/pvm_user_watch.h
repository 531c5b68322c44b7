/* Recognising, from a guest kernel's console, that its user space cannot run on a PVM host.
 *
 * On a PVM host, SYSCALL from guest CPL3 jumps to LSTAR but stays at CPL3, so an unmodified
 * Linux kernel takes an instruction-fetch page fault at its own entry_SYSCALL_64 on the first
 * system call of /init and kills it: "init[1]: segfault at A ip A sp ... error 15". The VMM
 * sees nothing of this (the fault is delivered inside the guest), only the kernel's log line,
 * so the console output is watched for exactly that line: PID 1, fault address equal to the
 * instruction pointer, in the kernel half, from user mode. Pure: fed bytes, no I/O. */
#ifndef DOMUS_PVM_USER_WATCH_H
#define DOMUS_PVM_USER_WATCH_H
#include <stddef.h>
#include <stdint.h>

struct pvm_user_watch {
	char line[256];
	size_t len;
	int overflow; /* the current line was longer than line[]: ignore it */
	int fired;
	uint64_t addr; /* the faulting address, once fired */
};

void pvm_user_watch_init(struct pvm_user_watch *w);
/* Feed console bytes; returns 1 the first time the signature line completes, else 0. */
int pvm_user_watch_feed(struct pvm_user_watch *w, const uint8_t *buf, size_t len);
/* The test itself, on one line (without its newline). */
int pvm_user_watch_line(const char *line, uint64_t *addr);

#endif
