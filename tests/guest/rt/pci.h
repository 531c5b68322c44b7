/*
 * pci.h - PCI configuration mechanism #1 on bus 0, for test guests [any].
 */
#ifndef RT_PCI_H
#define RT_PCI_H

#include "rt.h"

#define RT_PCI_DEVFN(slot, fn) (((slot) << 3) | (fn))

u32 rt_pci_read(unsigned devfn, unsigned off, unsigned size);
void rt_pci_write(unsigned devfn, unsigned off, unsigned size, u32 val);
/* First function at or after devfn `from` with this vendor (and device, unless 0xffff);
 * -1 when none. */
int rt_pci_find(u16 vendor, u16 device, int from);
/* Address of BAR idx (64-bit BARs combined), 0 when unassigned; *is_io when it is I/O. */
u64 rt_pci_bar(unsigned devfn, unsigned idx, bool *is_io);
/* Size of BAR idx by the sizing protocol (decoding off meanwhile), 0 when unused. */
u64 rt_pci_bar_size(unsigned devfn, unsigned idx);
/* Config offset of the first capability with this id at or after the one at `from` (0 =
 * the start of the list); 0 when none. */
unsigned rt_pci_find_cap(unsigned devfn, u8 id, unsigned from);

#endif
