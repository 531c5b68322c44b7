/* pvpanic: a one-byte I/O port (0x505, ACPI _HID "QEMU0001", the interface QEMU defined and
 * Linux's pvpanic driver speaks) through which a guest kernel reports that it panicked.
 * Reading returns the events the device supports; writing PANICKED calls panicked(). */
#ifndef DOMUS_PVPANIC_H
#define DOMUS_PVPANIC_H
#include "vmm/bus.h"

#define PVPANIC_PORT 0x505
#define PVPANIC_PANICKED 0x01
#define PVPANIC_CRASH_LOADED 0x02

struct pvpanic {
	void (*panicked)(void *ctx, unsigned events);
	void *ctx;
};

extern const struct io_ops pvpanic_ops;

#endif
