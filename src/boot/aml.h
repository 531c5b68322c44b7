/* A small AML writer (ACPI 6.3 chapter 20) for the FV DSDT: names, integers, strings, EISA
 * ids, packages, buffers, devices and scopes, with package lengths filled in when a construct
 * is closed. Errors (overflow, unbalanced close) are sticky and reported by aml_ok(). */
#ifndef DOMUS_AML_H
#define DOMUS_AML_H
#include <stddef.h>
#include <stdint.h>

#define AML_DEPTH 8

struct aml {
	uint8_t *p;
	size_t len, cap;
	size_t open[AML_DEPTH];
	int depth;
	int bad;
};

void aml_init(struct aml *a, uint8_t *buf, size_t cap);
int aml_ok(const struct aml *a);
void aml_bytes(struct aml *a, const void *b, size_t n);
/* Name(NAME, ...): the value follows. name is a 4-character segment, or a path like "\\_S5_". */
void aml_name(struct aml *a, const char *name);
void aml_int(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* EisaId("PNP0A03") as its 32-bit encoding. */
void aml_eisaid(struct aml *a, const char *id);
/* Open constructs; close with aml_close(). */
void aml_scope(struct aml *a, const char *name);
void aml_device(struct aml *a, const char *name);
void aml_package(struct aml *a, unsigned nelem);
void aml_buffer(struct aml *a); /* the size prefix is written by aml_close */
void aml_close(struct aml *a);

/* Resource template items (ACPI 6.3 6.4), inside aml_buffer(); aml_end_tag() ends it. */
void aml_res_io(struct aml *a, uint16_t base, uint8_t len);
void aml_res_irq(struct aml *a, unsigned irq);
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);
void aml_res_dword_mem(struct aml *a, uint32_t min, uint32_t max);
void aml_end_tag(struct aml *a);

#endif
