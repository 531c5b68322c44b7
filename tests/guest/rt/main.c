/*
 * main.c - runtime start: PVH start info, cmdline, verdicts and the end of a run.
 */
#include "rt_internal.h"

#define HVM_START_MAGIC 0x336ec578u
#define MAX_MEMMAP 128
#define MAX_CMDLINE 1024

struct hvm_start_info {
	u32 magic, version, flags, nr_modules;
	u64 modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	u32 memmap_entries, reserved;
};

/* Copies: the loader's start info may sit where the AP trampoline goes. */
static struct rt_memmap_entry memmap[MAX_MEMMAP];
static unsigned memmap_n;
static char cmdline[MAX_CMDLINE];
static u64 rsdp_paddr;
static bool verdict_printed;

static void copy_start_info(u64 pa)
{
	const struct hvm_start_info *si = (const void *)pa;

	if (pa == 0 || si->magic != HVM_START_MAGIC) {
		rt_printf("%s: warning: no PVH start info at %p (magic 0x%x)\n", guest_name, (void *)pa,
			  pa ? si->magic : 0);
		return;
	}
	if (si->cmdline_paddr) {
		const char *c = (const char *)si->cmdline_paddr;
		size_t i;
		for (i = 0; i < MAX_CMDLINE - 1 && c[i]; i++)
			cmdline[i] = c[i];
		cmdline[i] = 0;
	}
	rsdp_paddr = si->rsdp_paddr;
	if (si->version >= 1 && si->memmap_paddr) {
		const struct rt_memmap_entry *m = (const void *)si->memmap_paddr;
		memmap_n = si->memmap_entries < MAX_MEMMAP ? si->memmap_entries : MAX_MEMMAP;
		for (unsigned i = 0; i < memmap_n; i++)
			memmap[i] = m[i];
	}
}

void rt_start(u64 start_info);
void rt_start(u64 start_info)
{
	rt_serial_init();
	rt_printf("START %s\n", guest_name);
	copy_start_info(start_info);
	rt_idt_init();
	rt_cpu_setup(0);
	rt_pic_init();
	rt_lapic_init(true);
	rt_acpi_init();
	guest_main();
	rt_pass();
	rt_done();
}

const struct rt_memmap_entry *rt_memmap(unsigned *n)
{
	*n = memmap_n;
	return memmap;
}

const char *rt_cmdline(void) { return cmdline; }
u64 rt_rsdp_from_start_info(void) { return rsdp_paddr; }

bool rt_cmdline_str(const char *key, char *buf, size_t len)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		const char *w = p;
		while (*p && *p != ' ')
			p++;
		if ((size_t)(p - w) > klen && strncmp(w, key, klen) == 0 && w[klen] == '=') {
			size_t i = 0;
			for (const char *v = w + klen + 1; v < p && i + 1 < len; v++)
				buf[i++] = *v;
			if (len)
				buf[i] = 0;
			return true;
		}
	}
	return false;
}

u64 rt_cmdline_u64(const char *key, u64 def)
{
	char buf[32];
	const char *end;

	if (!rt_cmdline_str(key, buf, sizeof(buf)) || !buf[0])
		return def;
	u64 v = rt_strtou64(buf, &end);
	return *end ? def : v;
}

void rt_pass(void)
{
	if (verdict_printed)
		return;
	verdict_printed = true;
	rt_printf("PASS %s\n", guest_name);
}

void rt_fail(const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	rt_vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	verdict_printed = true;
	rt_printf("FAIL %s %s\n", guest_name, why);
	rt_done();
}

void rt_done(void)
{
	rt_printf("DONE\n");
	rt_poweroff();
}

void rt_halt_forever(void)
{
	for (;;) {
		if (rt_cpl() == 0) {
			cli();
			hlt();
		}
	}
}
