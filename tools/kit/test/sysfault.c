/*
 * sysfault: exercise the kit kernel's SYSCALL-as-#PF path (patches/0001) on any host.
 *
 * On a PVM host, SYSCALL from CPL3 leaves the CPU at CPL3 with RIP = MSR_LSTAR,
 * RCX = return address, R11 = RFLAGS, and the fetch at LSTAR faults. Jumping to the
 * kernel's entry_SYSCALL_64 address from user mode with RCX/R11 set up the same way
 * produces exactly that fault on any x86-64 CPU, so this program checks the patched
 * kernel's handling under QEMU/TCG or VT-x as well:
 *   write, getpid, an unknown syscall number (-ENOSYS), RFLAGS restored from R11 and
 *   sanitised (IOPL 0, IF 1), fork (the child returns through the same frame), wait4.
 * Usage: sysfault <entry_SYSCALL_64 address in hex>   (from System.map; no KASLR in the kit)
 * Prints "sysfault: ok" and exits 0, or "sysfault: FAIL <what>" and exits 1. A kernel
 * without the patch kills it with SIGSEGV at the first jump.
 * Built freestanding (no libc): gcc -static -nostdlib -ffreestanding -mno-red-zone -O2.
 */
typedef unsigned long u64;

#define NR_write 1
#define NR_getpid 39
#define NR_fork 57
#define NR_wait4 61
#define NR_exit_group 231

#define EFLAGS_CF 0x1UL
#define EFLAGS_IF 0x200UL
#define EFLAGS_IOPL 0x3000UL

static u64 entry;

/* A real system call (SYSCALL instruction). */
static long sys3(long nr, long a1, long a2, long a3)
{
	long ret;
	asm volatile("syscall"
		     : "=a"(ret)
		     : "a"(nr), "D"(a1), "S"(a2), "d"(a3)
		     : "rcx", "r11", "memory");
	return ret;
}

struct jres {
	long ret;
	u64 rcx, r11, flags_after, expect_rcx;
};

/* A "system call" made the way a PVM host delivers it: jump to LSTAR at CPL3. */
static struct jres jsys(long nr, long a1, long a2, long a3, u64 flags_in)
{
	struct jres r;
	u64 rcx_out, r11_out, fl, back;

	asm volatile("lea 1f(%%rip), %%rcx\n\t"
		     "mov %%rcx, %[back]\n\t"
		     "mov %[fin], %%r11\n\t"
		     "jmp *%[entry]\n"
		     "1:\n\t"
		     "pushfq\n\t"
		     "pop %[fl]\n\t"
		     "mov %%rcx, %[rc]\n\t"
		     "mov %%r11, %[r11o]\n\t"
		     : "+a"(nr), [rc] "=&r"(rcx_out), [r11o] "=&r"(r11_out), [fl] "=&r"(fl),
		       [back] "=m"(back)
		     : "D"(a1), "S"(a2), "d"(a3), [entry] "r"(entry), [fin] "r"(flags_in)
		     : "rcx", "r11", "r8", "r9", "r10", "memory", "cc");
	r.ret = nr;
	r.rcx = rcx_out;
	r.r11 = r11_out;
	r.flags_after = fl;
	r.expect_rcx = back;
	return r;
}

static u64 cur_flags(void)
{
	u64 f;
	asm volatile("pushfq; pop %0" : "=r"(f));
	return f;
}

static long slen(const char *s)
{
	long n = 0;
	while (s[n])
		n++;
	return n;
}

static void say(const char *s)
{
	sys3(NR_write, 1, (long)s, slen(s));
}

static void fail(const char *what)
{
	say("sysfault: FAIL ");
	say(what);
	say("\n");
	sys3(NR_exit_group, 1, 0, 0);
}

static int parse_hex(const char *s, u64 *out)
{
	u64 v = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s)
		return -1;
	for (; *s; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	*out = v;
	return 0;
}

__attribute__((used)) static void cmain(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	static const char msg[] = "sysfault: write via the #PF path\n";
	struct jres r;
	u64 base = cur_flags();

	if (argc < 2 || parse_hex(argv[1], &entry) || entry < 0xffff800000000000UL)
		fail("usage: sysfault <entry_SYSCALL_64 address>");

	/* 1. write(1, msg, len): result in RAX, RCX/R11 = return address / flags. */
	r = jsys(NR_write, 1, (long)msg, sizeof(msg) - 1, base);
	if (r.ret != (long)sizeof(msg) - 1)
		fail("write result");
	if (r.rcx != r.expect_rcx)
		fail("rcx after return");
	if (r.r11 != r.flags_after || r.r11 != base)
		fail("r11/rflags after return");
	say("sysfault: write ok\n");

	/* 2. getpid matches the real syscall. */
	r = jsys(NR_getpid, 0, 0, 0, base);
	if (r.ret != sys3(NR_getpid, 0, 0, 0) || r.ret <= 0)
		fail("getpid");

	/* 3. unknown syscall number -> -ENOSYS (-38). */
	r = jsys(100000, 0, 0, 0, base);
	if (r.ret != -38)
		fail("ENOSYS");

	/* 4. RFLAGS come from R11, sanitised: CF kept, IOPL forced to 0, IF forced to 1. */
	r = jsys(NR_getpid, 0, 0, 0, (base | EFLAGS_CF | EFLAGS_IOPL) & ~EFLAGS_IF);
	if (!(r.flags_after & EFLAGS_CF))
		fail("CF from r11 not restored");
	if (r.flags_after & EFLAGS_IOPL)
		fail("IOPL from r11 not cleared");
	if (!(r.flags_after & EFLAGS_IF))
		fail("IF not set");
	say("sysfault: flags ok\n");

	/* 5. fork through the #PF path: the child returns 0 at the same place. */
	r = jsys(NR_fork, 0, 0, 0, base);
	if (r.ret < 0)
		fail("fork");
	if (r.ret == 0) {
		jsys(NR_exit_group, 42, 0, 0, base);
		fail("child exit_group returned");
	}
	{
		int status = 0;
		struct jres w = jsys(NR_wait4, r.ret, (long)&status, 0, base);
		if (w.ret != r.ret)
			fail("wait4");
		if ((status & 0x7f) != 0 || ((status >> 8) & 0xff) != 42)
			fail("child exit status");
	}
	say("sysfault: fork ok\n");

	say("sysfault: ok\n");
	jsys(NR_exit_group, 0, 0, 0, base);
	fail("exit_group returned");
}

asm(".globl _start\n"
    "_start:\n\t"
    "mov %rsp, %rdi\n\t"
    "and $-16, %rsp\n\t"
    "call cmain\n\t"
    "ud2\n");
