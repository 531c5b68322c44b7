#include "boot/cmdline.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int cmdline_has(const char *cmdline, const char *word)
{
	size_t wl = strlen(word);
	int prefix = wl && word[wl - 1] == '=';
	for (const char *p = cmdline; p && *p;) {
		while (*p == ' ')
			p++;
		const char *e = p;
		while (*e && *e != ' ')
			e++;
		size_t tl = (size_t)(e - p);
		if (prefix ? (tl >= wl && strncmp(p, word, wl) == 0)
			   : (tl == wl && strncmp(p, word, wl) == 0))
			return 1;
		p = e;
	}
	return 0;
}

static int append(char *out, size_t len, size_t *used, const char *s)
{
	int n = snprintf(out + *used, len - *used, "%s%s", *used ? " " : "", s);
	if (n < 0 || (size_t)n >= len - *used)
		return -ENOSPC;
	*used += (size_t)n;
	return 0;
}

int cmdline_for_guest(char *out, size_t len, const char *user, enum host_mode mode,
		      unsigned vcpus, int is_linux, int pvm_aware, int isa_via_pic)
{
	size_t used = 0;
	if (!len)
		return -ENOSPC;
	out[0] = '\0';
	if (user && *user && append(out, len, &used, user) < 0)
		return -ENOSPC;
	if (!is_linux || pvm_aware)
		return 0;
	/* No IOAPIC in the MADT: the 8259 reaches the CPU only through LINT0 (ExtINT). Linux
	 * leaves LINT0 masked in ACPI (symmetric I/O) mode unless told `noapic`, and KVM masks
	 * every LVT when the kernel writes SPIV with the APIC still disabled, so what Domus
	 * sets up at reset does not survive: without it no ISA interrupt (serial, SCI) arrives. */
	if (isa_via_pic && !cmdline_has(user, "noapic") && append(out, len, &used, "noapic") < 0)
		return -ENOSPC;
	if (mode != HOST_PVM)
		return 0;
	if (!cmdline_has(user, "noxsave") && append(out, len, &used, "noxsave") < 0)
		return -ENOSPC;
	if (!cmdline_has(user, "clearcpuid=") &&
	    append(out, len, &used, "clearcpuid=popcnt,smap,erms,fsrm,cx16") < 0)
		return -ENOSPC;
	if (vcpus > 1 && !cmdline_has(user, "nopv") && append(out, len, &used, "nopv") < 0)
		return -ENOSPC;
	return 0;
}
