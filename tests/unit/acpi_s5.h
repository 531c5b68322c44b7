/* Test helper: find \_S5_ in a DSDT's AML the way an OS does and decode its package.
 * Domus's DSDTs declare it as Name (_S5_, Package (N) { SLP_TYPa, SLP_TYPb, ... }). */
#ifndef DOMUS_UNIT_ACPI_S5_H
#define DOMUS_UNIT_ACPI_S5_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "unit.h"

/* An AML integer constant at p (ZeroOp, OneOp, OnesOp, Byte/Word/DWord/QWordPrefix): its length
 * in bytes and its value in *v, or 0 when p holds none of them or runs past end. */
static inline size_t s5_aml_int(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	static const size_t prefix_len[] = { [0x0A] = 1, [0x0B] = 2, [0x0C] = 4, [0x0E] = 8 };
	if (p >= end)
		return 0;
	if (p[0] == 0x00 || p[0] == 0x01) {
		*v = p[0];
		return 1;
	}
	if (p[0] == 0xFF) {
		*v = ~0ull;
		return 1;
	}
	if (p[0] > 0x0E || !prefix_len[p[0]] || (size_t)(end - p) < 1 + prefix_len[p[0]])
		return 0;
	*v = 0;
	for (size_t i = prefix_len[p[0]]; i > 0; i--)
		*v = *v << 8 | p[i];
	return 1 + prefix_len[p[0]];
}

/* Decode the one Name (_S5_, Package) in the table at t (an ACPI table with its 36-byte header;
 * the name with or without a root prefix "\"). Returns the package's element count and its first
 * max elements in typ[], or -1 with *why set: no or several _S5_ names, not a package, a
 * package length that leaves the table or does not end where its elements do, or an element
 * that is not an integer constant. */
static inline int acpi_s5(const uint8_t *t, uint64_t *typ, int max, const char **why)
{
	uint32_t len;
	memcpy(&len, t + 4, 4);
	const uint8_t *end = t + len, *obj = NULL;
	int names = 0;
	for (const uint8_t *p = t + 36; p + 5 <= end; p++) {
		if (p[0] != 0x08) /* NameOp */
			continue;
		const uint8_t *n = p + 1 + (p[1] == '\\');
		if (n + 4 <= end && !memcmp(n, "_S5_", 4)) {
			names++;
			obj = n + 4;
		}
	}
	if (names != 1) {
		*why = names ? "several Name (_S5_)" : "no Name (_S5_)";
		return -1;
	}
	if (obj >= end || obj[0] != 0x12) { /* PackageOp */
		*why = "_S5_ is not a Package";
		return -1;
	}
	const uint8_t *p = obj + 1;
	if (p >= end) {
		*why = "truncated PkgLength";
		return -1;
	}
	/* PkgLength: bits 7-6 of the lead byte count the bytes that follow; it includes itself. */
	unsigned nbytes = (p[0] >> 6) + 1u;
	if ((size_t)(end - p) < nbytes + 1) {
		*why = "truncated PkgLength";
		return -1;
	}
	uint32_t pkglen = nbytes == 1 ? p[0] & 0x3Fu : p[0] & 0x0Fu;
	for (unsigned i = 1; i < nbytes; i++)
		pkglen |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	const uint8_t *pkg_end = p + pkglen;
	if (pkglen < nbytes + 1 || pkg_end > end) {
		*why = "the package's length leaves the table";
		return -1;
	}
	int count = p[nbytes];
	const uint8_t *e = p + nbytes + 1;
	for (int i = 0; i < count; i++) {
		uint64_t v;
		size_t n = s5_aml_int(e, pkg_end, &v);
		if (!n) {
			*why = "a _S5_ element is not an integer constant";
			return -1;
		}
		if (i < max)
			typ[i] = v;
		e += n;
	}
	if (e != pkg_end) {
		*why = "the package's elements do not end where its length says";
		return -1;
	}
	*why = "";
	return count;
}


/* The checks every DSDT test makes: exactly one \_S5_, a package of 4, SLP_TYPa and SLP_TYPb
 * both typ. The 4 elements land in s5 (all ones where it could not be decoded). */
static inline void check_s5(const uint8_t *dsdt, uint64_t typ, uint64_t s5[4])
{
	const char *why = "";
	for (int i = 0; i < 4; i++)
		s5[i] = ~0ull;
	int s5_count = acpi_s5(dsdt, s5, 4, &why);
	if (s5_count < 0)
		fprintf(stderr, "DSDT \\_S5_: %s\n", why);
	CHECK_EQ(s5_count, 4);
	CHECK_EQ(s5[0], typ); /* SLP_TYPa */
	CHECK_EQ(s5[1], typ); /* SLP_TYPb */
}

#endif
