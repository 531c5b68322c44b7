/* The vCPU exit → stop-reason decision (vm_exit_stop, used by vm.c's vCPU loop): a triple
 * fault (KVM_EXIT_SHUTDOWN) ends the domain as a crash, or resets it with --triple-fault-reset;
 * system events map to reset / power-off / panic. Runs without KVM, so CI covers the triple
 * fault path even where the functional triple-fault tests are skipped (tools/kvmhost). */
#include "unit.h"

#include "vmm/vm.h"

static void test_triple_fault(void)
{
	const char *what = "x";
	CHECK_EQ(vm_exit_stop(KVM_EXIT_SHUTDOWN, 0, 0, &what), VM_STOP_TRIPLE_FAULT);
	CHECK_STR(what, "triple fault"); /* reported with the rip; the functional test greps it */
	what = "x";
	CHECK_EQ(vm_exit_stop(KVM_EXIT_SHUTDOWN, 0, 1, &what), VM_STOP_RESET);
	CHECK(what == NULL);
	/* The event type of a shutdown exit is meaningless: it must not matter. */
	CHECK_EQ(vm_exit_stop(KVM_EXIT_SHUTDOWN, KVM_SYSTEM_EVENT_RESET, 0, &what),
		 VM_STOP_TRIPLE_FAULT);
}

static void test_system_events(void)
{
	const char *what = "x";
	CHECK_EQ(vm_exit_stop(KVM_EXIT_SYSTEM_EVENT, KVM_SYSTEM_EVENT_RESET, 0, &what),
		 VM_STOP_RESET);
	CHECK(what == NULL);
	CHECK_EQ(vm_exit_stop(KVM_EXIT_SYSTEM_EVENT, KVM_SYSTEM_EVENT_SHUTDOWN, 1, &what),
		 VM_STOP_POWEROFF);
	CHECK(what == NULL);
	CHECK_EQ(vm_exit_stop(KVM_EXIT_SYSTEM_EVENT, KVM_SYSTEM_EVENT_CRASH, 0, &what),
		 VM_STOP_PANIC);
	CHECK(what != NULL);
	/* triple_fault_reset only concerns triple faults. */
	CHECK_EQ(vm_exit_stop(KVM_EXIT_SYSTEM_EVENT, KVM_SYSTEM_EVENT_CRASH, 1, &what),
		 VM_STOP_PANIC);
}

static void test_other_exits(void)
{
	const char *what = "x";
	CHECK_EQ(vm_exit_stop(KVM_EXIT_HLT, 0, 0, &what), VM_RUNNING);
	CHECK(what == NULL);
	CHECK_EQ(vm_exit_stop(KVM_EXIT_DEBUG, 0, 0, &what), VM_STOP_KVM_ERROR);
	CHECK_STR(what, "unexpected KVM exit");
	CHECK_EQ(vm_exit_stop(0xFFFF, 0, 1, &what), VM_STOP_KVM_ERROR);
}

UNIT_MAIN(test_triple_fault, test_system_events, test_other_exits)
