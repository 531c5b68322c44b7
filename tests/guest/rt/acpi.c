/*
 * acpi.c - RSDP, XSDT/RSDT walk, FADT, \_S5 from the DSDT, MADT/MP-table CPU list,
 * S5 power-off and the reset methods.
 */
#include "rt_internal.h"

static struct rt_acpi acpi;

static u16 rd16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static u32 rd32(const u8 *p) { return (u32)p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24; }
static u64 rd64(const u8 *p) { return rd32(p) | (u64)rd32(p + 4) << 32; }

static bool checksum_ok(const u8 *p, u32 len)
{
	u8 sum = 0;
	for (u32 i = 0; i < len; i++)
		sum = (u8)(sum + p[i]);
	return sum == 0;
}

static u64 scan_rsdp(u64 from, u64 to)
{
	for (u64 a = from; a + 20 <= to; a += 16)
		if (memcmp((const void *)a, "RSD PTR ", 8) == 0 && checksum_ok((const u8 *)a, 20))
			return a;
	return 0;
}

/* Tables are expected below 4 GiB (identity mapped); map higher ones on demand. */
static const u8 *table_at(u64 pa)
{
	if (!pa || (pa >= 0x100000000ull && rt_cpl() != 0))
		return NULL;
	if (pa >= 0x100000000ull && rt_map_identity(pa, 0x10000) < 0)
		return NULL;
	return (const u8 *)pa;
}

const u8 *rt_acpi_find(const char *sig)
{
	if (!acpi.rsdp)
		return NULL;
	const u8 *rsdp = (const u8 *)acpi.rsdp;
	u64 xsdt = rsdp[15] >= 2 ? rd64(rsdp + 24) : 0;
	const u8 *sdt = table_at(xsdt ? xsdt : rd32(rsdp + 16));
	unsigned esz = xsdt ? 8 : 4;

	if (!sdt)
		return NULL;
	u32 len = rd32(sdt + 4);
	for (u32 off = 36; off + esz <= len; off += esz) {
		const u8 *t = table_at(esz == 8 ? rd64(sdt + off) : rd32(sdt + off));
		if (t && memcmp(t, sig, 4) == 0)
			return t;
	}
	return NULL;
}

/* First element of the Package after "_S5_" in AML: SLP_TYPa. */
static void parse_s5(const u8 *dsdt)
{
	u32 len = rd32(dsdt + 4);

	for (u32 i = 36; i + 10 < len; i++) {
		/* Open-coded: this runs per DSDT byte, at ring 0 (emulated on PVM hosts). */
		if (dsdt[i] != '_' || dsdt[i + 1] != 'S' || dsdt[i + 2] != '5' || dsdt[i + 3] != '_' ||
		    dsdt[i + 4] != 0x12) /* PackageOp */
			continue;
		const u8 *p = dsdt + i + 5;
		p += 1 + (p[0] >> 6); /* PkgLength */
		p++;                  /* NumElements */
		switch (p[0]) {
		case 0x0a: acpi.s5_typ = p[1]; break;       /* BytePrefix */
		case 0x0b: acpi.s5_typ = p[1]; break;       /* WordPrefix */
		case 0x0c: acpi.s5_typ = p[1]; break;       /* DWordPrefix */
		case 0x00: acpi.s5_typ = 0; break;          /* ZeroOp */
		case 0x01: acpi.s5_typ = 1; break;          /* OneOp */
		default: continue;
		}
		acpi.have_s5 = true;
		return;
	}
}

static void parse_fadt(const u8 *f)
{
	u32 len = rd32(f + 4);

	acpi.fadt = f;
	acpi.pm1a_cnt = (u16)rd32(f + 64);
	acpi.pm1b_cnt = (u16)rd32(f + 68);
	acpi.pm_tmr = (u16)rd32(f + 76);
	if (!acpi.pm1a_cnt && len >= 184 && f[172] == 1)
		acpi.pm1a_cnt = (u16)rd64(f + 176);
	if (!acpi.pm_tmr && len >= 220 && f[208] == 1)
		acpi.pm_tmr = (u16)rd64(f + 212);
	if (len >= 129 && (rd32(f + 112) & (1u << 10))) { /* RESET_REG_SUP */
		memcpy(&acpi.reset_reg, f + 116, sizeof(acpi.reset_reg));
		acpi.reset_value = f[128];
		acpi.have_reset = acpi.reset_reg.addr != 0;
	}
	if (len >= 256 && rd64(f + 248)) {
		memcpy(&acpi.sleep_ctl, f + 244, sizeof(acpi.sleep_ctl));
		acpi.have_sleep_ctl = true;
	}
	u64 dsdt = rd32(f + 40);
	if (len >= 148 && rd64(f + 140))
		dsdt = rd64(f + 140);
	acpi.dsdt = table_at(dsdt);
	if (acpi.dsdt && memcmp(acpi.dsdt, "DSDT", 4) == 0)
		parse_s5(acpi.dsdt);
}

void rt_acpi_init(void)
{
	u64 rsdp = rt_rsdp_from_start_info();

	if (!rsdp) {
		u64 ebda = (u64)rd16(rt_phys(0x40e)) << 4;
		if (ebda >= 0x80000 && ebda < 0xa0000)
			rsdp = scan_rsdp(ebda, ebda + 1024);
		if (!rsdp)
			rsdp = scan_rsdp(0xe0000, 0x100000);
	}
	acpi.rsdp = rsdp;
	const u8 *f = rt_acpi_find("FACP");
	if (f)
		parse_fadt(f);
	acpi.madt = rt_acpi_find("APIC");
}

const struct rt_acpi *rt_acpi(void) { return &acpi; }

/* ---- CPU list ---- */
static int cpus_from_madt(u32 *ids, int max)
{
	const u8 *m = acpi.madt;
	u32 len = rd32(m + 4);
	int n = 0;

	for (u32 off = 44; off + 2 <= len && m[off + 1] >= 2; off += m[off + 1]) {
		const u8 *e = m + off;
		u32 id, flags;
		if (e[0] == 0) { /* processor local APIC */
			id = e[3];
			flags = rd32(e + 4);
		} else if (e[0] == 9) { /* processor local x2APIC */
			id = rd32(e + 4);
			flags = rd32(e + 8);
		} else {
			continue;
		}
		if ((flags & 1) && n < max)
			ids[n++] = id;
	}
	return n;
}

static const u8 *find_mp(void)
{
	u64 ebda = (u64)rd16(rt_phys(0x40e)) << 4;
	u64 ranges[3][2] = { { ebda, ebda + 1024 }, { 0x9fc00, 0xa0000 }, { 0xe0000, 0x100000 } };

	for (int r = 0; r < 3; r++) {
		if (ranges[r][0] < 0x80000 || ranges[r][1] > 0x100000)
			continue;
		for (u64 a = ranges[r][0]; a + 16 <= ranges[r][1]; a += 16)
			if (memcmp((const void *)a, "_MP_", 4) == 0 && checksum_ok((const u8 *)a, 16))
				return (const u8 *)a;
	}
	return NULL;
}

static int cpus_from_mp(const u8 *fp, u32 *ids, int max)
{
	const u8 *ct = table_at(rd32(fp + 4));
	int n = 0;

	if (!ct || memcmp(ct, "PCMP", 4) != 0)
		return 0;
	const u8 *e = ct + 44, *end = ct + rd16(ct + 4);
	for (unsigned i = 0; i < rd16(ct + 34) && e < end; i++) {
		if (e[0] == 0) {
			if ((e[3] & 1) && n < max)
				ids[n++] = e[1];
			e += 20;
		} else {
			e += 8;
		}
	}
	return n;
}

int rt_cpu_list(u32 *ids, int max, const char **source)
{
	const u8 *mp;

	if (acpi.madt) {
		*source = "madt";
		return cpus_from_madt(ids, max);
	}
	if ((mp = find_mp()) != NULL) {
		*source = "mp";
		return cpus_from_mp(mp, ids, max);
	}
	*source = "none";
	return 0;
}

/* ---- power off and reset ---- */
static void gas_write8(const struct rt_gas *g, u8 v)
{
	if (g->space == 1)
		outb((u16)g->addr, v);
	else if (g->space == 0 && g->addr < 0x100000000ull)
		mmio_write8(g->addr, v);
}

void rt_poweroff(void)
{
	u8 typ = acpi.have_s5 ? acpi.s5_typ : 0;
	u16 cnt = acpi.pm1a_cnt;

	if (!acpi.fadt) {
		/* No ACPI tables: the PC platform's PM1a_CNT at 0x604; try SLP_TYP 5 (Domus),
		 * then 0 (PIIX4, QEMU pc). */
		cnt = 0x604;
		outw(cnt, 5 << 10 | 1 << 13);
		typ = 0;
	}
	if (cnt) {
		outw(cnt, (u16)((inw(cnt) & 1) | (typ & 7) << 10 | 1 << 13));
		if (acpi.pm1b_cnt)
			outw(acpi.pm1b_cnt, (u16)((typ & 7) << 10 | 1 << 13));
	}
	if (acpi.have_sleep_ctl)
		gas_write8(&acpi.sleep_ctl, (u8)((typ & 7) << 2 | 1 << 5));
	/* Some machines act on S5 asynchronously: give them ~2 s before complaining. */
	u64 hz = rt_tsc_hz_cached(), t0 = rdtsc();
	while (rdtsc() - t0 < (hz ? 2 * hz : 4000000000ull))
		barrier();
	rt_printf_unlocked("FAIL %s poweroff: still running after the S5 write (pm1a_cnt=0x%x)\n", guest_name,
			   cnt);
	rt_halt_forever();
}

void rt_reset(const char *how)
{
	if (strcmp(how, "cf9") == 0) {
		outb(0xcf9, 0x06);
	} else if (strcmp(how, "kbd") == 0) {
		for (int i = 0; i < 100000 && (inb(0x64) & 0x02); i++)
			;
		outb(0x64, 0xfe);
	} else if (strcmp(how, "acpi") == 0) {
		if (acpi.have_reset)
			gas_write8(&acpi.reset_reg, acpi.reset_value);
	} else if (strcmp(how, "triple") == 0 && rt_cpl() == 0) {
		/* Empty IDT, then a #GP (non-canonical load): #GP -> #DF -> shutdown. */
		struct {
			u16 limit;
			u64 base;
		} __attribute__((packed)) none = { 0, 0 };
		__asm__ volatile("cli; lidt %0" ::"m"(none));
		(void)*(volatile u64 *)0x8000000000000000ull;
	}
}
