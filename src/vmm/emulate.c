#include "vmm/emulate.h"

#include <stdio.h>

/* Skip legacy prefixes and (in long mode) one REX prefix; returns the opcode offset. */
static size_t skip_prefixes(const uint8_t *p, size_t n, int long_mode, int *rex_w, int *rep)
{
	size_t i = 0;
	*rex_w = 0;
	*rep = 0;
	while (i < n) {
		uint8_t b = p[i];
		if (b == 0x66 || b == 0x67 || b == 0x2E || b == 0x36 || b == 0x3E || b == 0x26 ||
		    b == 0x64 || b == 0x65 || b == 0xF0 || b == 0xF2 || b == 0xF3) {
			if (b == 0xF3)
				*rep = 1;
			i++;
			continue;
		}
		break;
	}
	if (long_mode && i < n && (p[i] & 0xF0) == 0x40) {
		*rex_w = (p[i] & 0x08) != 0;
		i++;
	}
	return i;
}

void emu_classify(const uint8_t *insn, size_t n, int long_mode, struct emu_fix *out)
{
	*out = (struct emu_fix){ EMU_UNHANDLED, 0, NULL };
	if (n == 0)
		return;
	/* int3 and fwait have no prefixes in practice; only the bare bytes are completed. */
	if (insn[0] == 0xCC) {
		*out = (struct emu_fix){ EMU_INJECT_BP, 1, "int3" };
		return;
	}
	if (insn[0] == 0x9B) {
		/* fwait only raises #MF for a pending unmasked x87 exception; the emulator never
		 * runs x87 arithmetic, so none can be pending: skipping is exact. */
		*out = (struct emu_fix){ EMU_SKIP, 1, "fwait" };
		return;
	}
	int rex_w, rep;
	size_t i = skip_prefixes(insn, n, long_mode, &rex_w, &rep);
	if (i >= n)
		return;
	uint8_t op = insn[i];
	uint8_t b1 = i + 1 < n ? insn[i + 1] : 0, b2 = i + 2 < n ? insn[i + 2] : 0;
	unsigned reg = (b2 >> 3) & 7;
	if (op == 0xCD)
		out->name = "int n";
	else if (op == 0xCF)
		out->name = long_mode ? (rex_w ? "iretq" : "iret") : "iret (32-bit)";
	else if (op == 0xDB && b1 == 0xE3)
		out->name = "fninit";
	else if (op == 0x0F && b1 == 0xB8 && rep)
		out->name = "popcnt";
	else if (op == 0x0F && b1 == 0xC7 && ((b2 >> 3) & 7) == 1)
		out->name = rex_w ? "cmpxchg16b" : "cmpxchg8b";
	else if (op == 0x0F && b1 == 0x01 && b2 == 0xCA)
		out->name = "clac";
	else if (op == 0x0F && b1 == 0x01 && b2 == 0xCB)
		out->name = "stac";
	else if (op == 0x0F && b1 == 0x01 && b2 == 0xD0)
		out->name = "xgetbv";
	else if (op == 0x0F && b1 == 0x01 && b2 == 0xF9)
		out->name = "rdtscp";
	else if (op == 0x0F && b1 == 0xAE && (b2 >> 6) != 3 && reg == 4)
		out->name = "xsave";
	else if (op == 0x0F && b1 == 0xAE && (b2 >> 6) != 3 && reg == 5)
		out->name = "xrstor";
	else if (op == 0x0F && b1 == 0xAE && (b2 >> 6) != 3 && reg == 0)
		out->name = "fxsave";
	else if (op == 0x0F && b1 == 0xAE && (b2 >> 6) != 3 && reg == 1)
		out->name = "fxrstor";
	else if (op == 0x0F && b1 == 0x38 && (b2 == 0xF0 || b2 == 0xF1) && (insn[0] == 0xF2))
		out->name = "crc32";
	else if (op == 0x0F && (b1 == 0xEF || b1 == 0x6F || b1 == 0x7F || b1 == 0x10 ||
				b1 == 0x11 || b1 == 0x28 || b1 == 0x29 || b1 == 0x57))
		out->name = "SSE";
}

void emu_format_bytes(const uint8_t *insn, size_t n, char *buf, size_t len)
{
	size_t o = 0;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < n && o + 4 <= len; i++)
		o += (size_t)snprintf(buf + o, len - o, i ? " %02x" : "%02x", insn[i]);
}
