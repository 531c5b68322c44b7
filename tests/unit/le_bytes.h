/* Test helper: little-endian fields of tables and images the code under test builds (ACPI,
 * FXSAVE images, ...), read from any alignment. */
#ifndef DOMUS_UNIT_LE_BYTES_H
#define DOMUS_UNIT_LE_BYTES_H
#include <stdint.h>
#include <string.h>

static inline uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

static inline uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

#endif
