/* A small AML (ACPI Machine Language) writer for the DSDT, so that tables that depend on the
 * machine (PCI windows, interrupt routing, which devices exist) are generated in C next to the
 * wiring that decides them, with no build-time ASL compiler and no stale blob.
 *
 * Usage: aml_init() on a buffer; emit terms; aml_open_*() starts a term with a package length
 * and aml_close() ends it (lengths are fixed up, minimal encoding). Any overflow sets a sticky
 * error: check aml_ok() once at the end. Names are 4-character segments ("PCI0", "_HID") or
 * root paths like "\\_SB_". */
#ifndef DOMUS_AML_H
#define DOMUS_AML_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AML_MAX_DEPTH 16

struct aml {
	uint8_t *p;
	size_t cap, len;
	bool overflow;
	size_t open[AML_MAX_DEPTH];
	int depth;
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
bool aml_ok(const struct aml *a);

void aml_byte(struct aml *a, uint8_t b);
void aml_bytes(struct aml *a, const void *p, size_t n);
/* A NameString: "\\_SB_", "PCI0", "\\_SB_.PCI0" (segments padded with '_' to 4 chars). */
void aml_namestring(struct aml *a, const char *name);
/* An integer in its shortest encoding (ZeroOp, OneOp, BytePrefix, ... QWordPrefix). */
void aml_int(struct aml *a, uint64_t v);
/* Name(name, <next term>): the caller emits the value next. */
void aml_name(struct aml *a, const char *name);
/* EISA ID like "PNP0A03" as its compressed DWORD. */
void aml_eisaid(struct aml *a, const char *id);

void aml_open_scope(struct aml *a, const char *name);
void aml_open_device(struct aml *a, const char *name);
/* Package with n elements; the elements follow. */
void aml_open_package(struct aml *a, unsigned n);
/* Buffer whose size is its contents (for resource templates). */
void aml_open_buffer(struct aml *a);
void aml_close(struct aml *a);

/* Resource descriptors (ACPI 6.3, 6.4), inside an aml_open_buffer(). */
void aml_res_io(struct aml *a, uint16_t base, uint8_t len);
void aml_res_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_res_io_window(struct aml *a, uint32_t min, uint32_t max);
void aml_res_mem32_window(struct aml *a, uint32_t min, uint32_t max, bool prefetch);
void aml_res_mem64_window(struct aml *a, uint64_t min, uint64_t max, bool prefetch);
/* IRQNoFlags-style small IRQ descriptor (edge, active high) for ISA devices. */
void aml_res_irq(struct aml *a, unsigned irq);
/* End tag; closes the template's contents. */
void aml_res_end(struct aml *a);

#endif
