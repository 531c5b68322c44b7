/* PCI bus 0: configuration space, BARs and INTx for emulated PCI functions.
 *
 * A device embeds struct pci_device, fills it with pci_device_init(), declares its BARs with
 * pci_add_bar() and capabilities with pci_add_cap(), then joins a bus with pci_bus_add(). The
 * layer keeps the 256-byte configuration space (with per-byte write masks, so read-only fields
 * stay read-only), answers BAR sizing, and maps each BAR on the port or MMIO bus while the
 * command register enables decoding and the BAR holds an address (remapping when the guest
 * moves it). Guests that boot without firmware (PV/PVH) find their BARs already assigned by
 * pci_bus_assign(), as a BIOS would leave them.
 *
 * Config accesses arrive through pci_cfg_read()/pci_cfg_write() (from the host bridge, on
 * vCPU threads); pci_bus's lock serializes them. Device hooks run under that lock. */
#ifndef DOMUS_PCI_H
#define DOMUS_PCI_H
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/irq.h"

#define PCI_CFG_SIZE 256
#define PCI_MAX_DEVFN 256
#define PCI_DEVFN(slot, fn) ((uint8_t)(((slot) << 3) | (fn)))

/* Configuration header registers (PCI Local Bus 3.0, 6.1). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_HEADER_TYPE 0x0E
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2C
#define PCI_SUBSYSTEM_ID 0x2E
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3C
#define PCI_INTERRUPT_PIN 0x3D

#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_CAP_LIST 0x0010

#define PCI_BAR_SPACE_IO 0x1
#define PCI_BAR_MEM_TYPE_64 0x4
#define PCI_BAR_MEM_PREFETCH 0x8

#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

enum pci_bar_type { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_device;

struct pci_bar {
	enum pci_bar_type type;
	bool prefetch;
	bool upper;               /* the high half of the 64-bit BAR below */
	uint64_t size;            /* power of two; 0 = unused */
	const struct io_ops *ops; /* accesses, offsets relative to the BAR */
	void *ctx;
	bool mapped;
	uint64_t mapped_at;
};

/* Hooks a device may set; all optional, all called with the bus lock held. */
struct pci_device_ops {
	/* After a config write has been applied to cfg[] (e.g. to watch a capability). */
	void (*cfg_written)(struct pci_device *d, unsigned off, unsigned size, uint32_t val);
	/* A BAR was mapped (mapped=true, at addr) or unmapped: e.g. (re)place ioeventfds. */
	void (*bar_moved)(struct pci_device *d, int bar, bool mapped, uint64_t addr);
};

struct pci_bus;

struct pci_device {
	const char *name;
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE]; /* bits the guest may write */
	uint8_t w1c[PCI_CFG_SIZE];   /* bits the guest clears by writing 1 */
	struct pci_bar bar[6];
	const struct pci_device_ops *ops;
	void *ctx;                   /* the device's own state, for hooks */
	struct pci_bus *bus;
	uint8_t devfn;
	uint8_t cap_end;             /* next free byte for a capability */
	bool intx_level;             /* what the device drives */
	bool intx_on;                /* counted in its PIRQ (level and not disabled) */
};

/* Interrupt routing of bus 0: pin INTA..INTD of slot s reaches PIRQ (s + pin) % 4. */
#define PCI_NR_PIRQ 4

/* Address windows the bus hands out BARs from (firmware's job on a PC). */
struct pci_windows {
	uint64_t io_base, io_end;       /* [base, end) */
	uint64_t mem32_base, mem32_end;
	uint64_t mem64_base, mem64_end; /* 0, 0 = 64-bit BARs go in the 32-bit window */
};

struct pci_bus {
	struct pci_device *dev[PCI_MAX_DEVFN];
	struct bus *pio, *mmio;
	struct irq_line pirq[PCI_NR_PIRQ];
	unsigned pirq_gsi[PCI_NR_PIRQ];
	int pirq_count[PCI_NR_PIRQ]; /* asserted INTx inputs per PIRQ (wired-OR) */
	struct pci_windows win;
	pthread_mutex_t lock;      /* config space and BAR mapping */
	pthread_mutex_t intx_lock; /* pirq_count and intx levels: taken from any thread */
};

/* The PIRQ to GSI map the machine wires and the DSDT's _PRT describes. */
extern const unsigned pci_pirq_gsi[PCI_NR_PIRQ];

/* pio/mmio are the buses BARs are mapped on; irq_set(irq_ctx, gsi, level) drives a PIRQ. */
void pci_bus_init(struct pci_bus *b, struct bus *pio, struct bus *mmio,
		  void (*irq_set)(void *ctx, unsigned gsi, int level), void *irq_ctx,
		  const struct pci_windows *win);
/* Unmap every BAR (calling the devices' bar_moved hooks): do it while the devices live. */
void pci_bus_unmap_all(struct pci_bus *b);
/* Release the bus; it no longer touches the devices, which may be gone already. */
void pci_bus_destroy(struct pci_bus *b);

/* Fill the header of a type-0 function. class_code = base << 16 | sub << 8 | prog-if.
 * intx_pin 0 = no INTx, 1..4 = INTA..INTD. */
void pci_device_init(struct pci_device *d, const char *name, uint16_t vendor, uint16_t device,
		     uint32_t class_code, uint8_t revision, uint16_t subsys_vendor,
		     uint16_t subsys_id, uint8_t intx_pin);
/* Declare BAR idx (a 64-bit BAR also takes idx+1). size must be a power of two, at least 16
 * for memory (4096 recommended) and 4 for I/O. 0 or -EINVAL. */
int pci_add_bar(struct pci_device *d, int idx, enum pci_bar_type type, bool prefetch,
		uint64_t size, const struct io_ops *ops, void *ctx);
/* Append a capability of len bytes (id and next pointer included) to the list; returns its
 * config offset, or -ENOSPC. The caller fills the body and sets wmask for writable bits. */
int pci_add_cap(struct pci_device *d, uint8_t id, unsigned len);
/* Plug d at devfn; 0, -EEXIST when taken. */
int pci_bus_add(struct pci_bus *b, struct pci_device *d, uint8_t devfn);
/* Give every BAR an address from the windows, largest first, and enable decoding (plus bus
 * mastering) as firmware does; writes INTERRUPT_LINE. 0 or -ENOSPC when a window is full. */
int pci_bus_assign(struct pci_bus *b);

/* Config access to bus 0, devfn, register off (size 1, 2, 4; off aligned to size). A
 * missing function reads all ones. */
uint32_t pci_cfg_read(struct pci_bus *b, uint8_t devfn, unsigned off, unsigned size);
void pci_cfg_write(struct pci_bus *b, uint8_t devfn, unsigned off, unsigned size, uint32_t val);

/* Drive the function's INTx pin (ignored while COMMAND.INTX_DISABLE is set; the level is
 * kept and re-applied when the guest clears it). Safe from any thread. */
void pci_set_intx(struct pci_device *d, bool level);
/* Current address of a BAR (from config space), 0 when unassigned. */
uint64_t pci_bar_addr(const struct pci_device *d, int idx);

/* Little-endian config-space accessors for device code. */
static inline void pci_cfg_set16(struct pci_device *d, unsigned off, uint16_t v)
{
	d->cfg[off] = (uint8_t)v;
	d->cfg[off + 1] = (uint8_t)(v >> 8);
}
static inline void pci_cfg_set32(struct pci_device *d, unsigned off, uint32_t v)
{
	pci_cfg_set16(d, off, (uint16_t)v);
	pci_cfg_set16(d, off + 2, (uint16_t)(v >> 16));
}
static inline uint16_t pci_cfg_get16(const struct pci_device *d, unsigned off)
{
	return (uint16_t)(d->cfg[off] | d->cfg[off + 1] << 8);
}
static inline uint32_t pci_cfg_get32(const struct pci_device *d, unsigned off)
{
	return pci_cfg_get16(d, off) | (uint32_t)pci_cfg_get16(d, off + 2) << 16;
}

#endif
