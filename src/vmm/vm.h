/* A KVM virtual machine: guest RAM, the in-kernel irqchip and PIT, the port and MMIO buses, and
 * one thread per vCPU that runs KVM_RUN and dispatches exits on the calling thread.
 *
 * Life cycle: vm_create() → add devices to vm->pio / vm->mmio → vm_create_vcpus() →
 * vm_set_boot_entry() → vm_start() → vm_wait() returns why the guest stopped → vm_destroy().
 * Anything (a device, a signal handler thread) may call vm_request_stop(); the first request
 * wins, every vCPU is kicked out of KVM_RUN and vm_wait() returns. */
#ifndef DOMUS_VM_H
#define DOMUS_VM_H
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/boot_entry.h"
#include "vmm/bus.h"
#include "vmm/guest_mem.h"
#include "vmm/irq_routing.h"
#include "vmm/kvm_host.h"

enum vm_stop {
	VM_RUNNING = 0,
	VM_STOP_POWEROFF,     /* ACPI S5 or a power-off request */
	VM_STOP_RESET,        /* 0xCF9, i8042 reset, or a triple fault when asked */
	VM_STOP_TRIPLE_FAULT, /* a triple fault (KVM_EXIT_SHUTDOWN) */
	VM_STOP_EMULATION,    /* KVM could not emulate an instruction, nor could we */
	VM_STOP_KVM_ERROR,    /* another KVM failure (entry failure, unknown exit) */
	VM_STOP_PANIC,        /* the guest reported a panic */
	VM_STOP_SIGNAL,       /* SIGINT/SIGTERM/SIGHUP to the monitor */
	VM_STOP_QUIT,         /* the user quit from the console */
};

struct vm;

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int started;
	atomic_int tid; /* the thread's Linux thread ID once vm_start() returned; 0 before */
	uint64_t exits;
};

struct vm_config {
	uint64_t mem_bytes;
	unsigned nr_vcpus;
	int triple_fault_reset; /* a triple fault resets like a PC instead of ending the domain */
	int vga_hole; /* FV: 0xA0000-0xBFFFF is the VGA window (MMIO), not RAM */
	/* Host CPUs each vCPU thread may run on: affinity[i] for vCPU i when pinned[i]; both
	 * NULL (or pinned[i] false): no pinning. Copied by vm_create(). */
	const cpu_set_t *affinity;
	const bool *pinned;
};

/* What `vcpu-list` shows of one vCPU thread. */
struct vcpu_info {
	int tid;          /* 0: the thread does not run */
	int cpu;          /* host CPU it last ran on (/proc/self/task/TID/stat field 39); -1 */
	char state;       /* 'r' on a CPU now, 'b' asleep (halted in KVM_RUN, or parked), '-' */
	uint64_t cpu_ns;  /* CPU time so far */
	cpu_set_t affinity; /* the thread's affinity now (sched_getaffinity) */
};

struct vm {
	int kvm_fd, vm_fd;
	size_t run_size;
	struct host_info host;
	struct vm_config cfg;
	struct guest_mem mem;
	uint8_t *ram_low, *ram_high;
	uint64_t low_size, high_size;
	struct bus pio, mmio;
	struct vcpu *vcpus;
	unsigned nr_vcpus;
	cpu_set_t *affinity; /* cfg.nr_vcpus sets, used where pinned[i]; NULL: none pinned */
	bool *pinned;
	struct kvm_cpuid2 *cpuid; /* what KVM supports, before per-vCPU shaping */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum vm_stop stop;
	char stop_msg[512];
	int event_fd; /* readable once a stop was requested */
	struct irq_routing routing;
	int routing_up;
	atomic_int paused;
	int pause_req;          /* under lock: vCPUs park at the top of their loop */
	unsigned parked;        /* under lock: vCPUs parked now */
};

/* Open /dev/kvm and create the VM with its RAM, irqchip and PIT. 0, or -1 with err set. */
int vm_create(struct vm *vm, const struct vm_config *cfg, char *err, size_t errlen);
int vm_create_vcpus(struct vm *vm, char *err, size_t errlen);
/* Registers of the boot vCPU for a direct-boot entry. */
int vm_set_boot_entry(struct vm *vm, const struct boot_entry *e, char *err, size_t errlen);
int vm_start(struct vm *vm, char *err, size_t errlen);
/* Map size bytes at hva as read-only guest memory at gpa (firmware flash); guest writes there
 * become MMIO writes. Call before vm_start(). 0, or -1 with err set. */
int vm_add_rom(struct vm *vm, uint64_t gpa, void *hva, uint64_t size, char *err, size_t errlen);
/* Stop the guest: the first request wins; msg (may be NULL) is shown to the user. */
void vm_request_stop(struct vm *vm, enum vm_stop why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
enum vm_stop vm_stopped(struct vm *vm);
/* Join the vCPU threads after a stop; returns the reason. */
enum vm_stop vm_wait(struct vm *vm);
void vm_destroy(struct vm *vm);
/* Pause: kick every vCPU out of KVM_RUN and park it on vm->cond; returns once all running
 * vCPUs are parked (they use no CPU then), or at once if the VM stopped. vm_resume() lets
 * them run on. Both are for the monitor's control thread, never a vCPU thread. */
void vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
/* Pin vCPU i's running thread to the host CPUs in set (sched_setaffinity). 0, or -1 with err
 * set (no such vCPU, no thread, or the kernel refused the set). Not remembered across
 * vm_destroy(): machine_pc.h keeps run-time pinning in struct pc_persist. */
int vm_vcpu_pin(struct vm *vm, unsigned i, const cpu_set_t *set, char *err, size_t errlen);
/* Fill info for vCPU i (any thread may ask). 0, or -1 when there is no vCPU i. */
int vm_vcpu_info(struct vm *vm, unsigned i, struct vcpu_info *info);
/* CPU time consumed by vCPU i's thread so far, in ns (0 if it does not run). */
uint64_t vm_vcpu_cpu_ns(struct vm *vm, unsigned i);
/* struct irq_line callback: drive GSI gsi to level through KVM_IRQ_LINE. */
void vm_irq_set(void *vm, unsigned gsi, int level);
/* Legacy ISA interrupts go through the 8259 PIC only: on PVM hosts, or when
 * DOMUS_FORCE_PIC_ROUTING=1 (host_pic_routing()). */
int vm_isa_irqs_via_pic(const struct vm *vm);
/* What a vCPU exit that is not device I/O or an error (KVM_EXIT_HLT, _SHUTDOWN, _SYSTEM_EVENT
 * with event_type) means for the domain: VM_RUNNING (go on) or the stop reason. *what is set
 * when the stop is to be reported with the vCPU's rip (e.g. "triple fault"), else NULL. A
 * triple fault (KVM_EXIT_SHUTDOWN) is a reset with triple_fault_reset, else a crash. */
enum vm_stop vm_exit_stop(uint32_t exit_reason, uint32_t event_type, int triple_fault_reset,
			  const char **what);

#endif
