/* Unit tests for xl's CPULIST syntax (src/config/cpuset.c) and the cpus key of domcfg. */
#include <errno.h>
#include <stdio.h>

#include "cfg_build.h"
#include "config/cpuset.h"
#include "config/domcfg.h"
#include "lib/cpulist.h"
#include "unit.h"

/* A made-up host: CPUs 0-7 online, node 0 = 0-3, node 1 = 4-7, node 3 = none listed. */
static struct cpuset_host host8(void)
{
	struct cpuset_host h;
	memset(&h, 0, sizeof(h));
	for (int i = 0; i < 8; i++)
		CPU_SET(i, &h.online);
	h.nnodes = 2;
	h.node_present[0] = h.node_present[1] = true;
	for (int i = 0; i < 4; i++) {
		CPU_SET(i, &h.node[0]);
		CPU_SET(i + 4, &h.node[1]);
	}
	return h;
}

/* Parse s on host8 and format the result ("" and err set on failure). */
static const char *parse(const char *s)
{
	static char out[256];
	struct cpuset_host h = host8();
	cpu_set_t set;
	err[0] = 0;
	out[0] = 0;
	if (cpuset_parse(s, &h, &set, err, sizeof(err)) < 0)
		return "ERROR";
	cpulist_format(&set, out, sizeof(out));
	return out;
}

static void expect_error(const char *s, const char *msg)
{
	CHECK_STR(parse(s), "ERROR");
	CHECK_STR(err, msg);
}

static void test_forms(void)
{
	CHECK_STR(parse("all"), "0-7");
	CHECK_STR(parse("3"), "3");
	CHECK_STR(parse("0-3"), "0-3");
	CHECK_STR(parse("0-3,5,^1"), "0,2-3,5");
	CHECK_STR(parse("all,^7"), "0-6");
	CHECK_STR(parse("all,^5-7"), "0-4");
	CHECK_STR(parse(" 1 , 3 "), "1,3");
	CHECK_STR(parse("2-2"), "2");
	CHECK_STR(parse("^1,0-3"), "0-3"); /* left to right, as xl */
	CHECK_STR(parse("node:1"), "4-7");
	CHECK_STR(parse("nodes:0-1,^6"), "0-5,7");
	CHECK_STR(parse("1,node:1,^6"), "1,4-5,7");
	CHECK_STR(parse("all,^node:1"), "0-3");
	CHECK_STR(parse("node:all"), "0-7");
	CHECK_STR(parse("all,^9"), "0-7"); /* removing a CPU the host lacks removes nothing */
	CHECK_STR(parse("0,^nodes:3"), "0");
	CHECK_STR(parse("007"), "7");
}

static void test_errors(void)
{
	expect_error("", "no CPU list (empty)");
	expect_error("  ", "no CPU list (empty)");
	expect_error("0,,1", "an empty item (two commas, or a comma at an end)");
	expect_error("0,", "an empty item (two commas, or a comma at an end)");
	expect_error(",0", "an empty item (two commas, or a comma at an end)");
	expect_error("8", "CPU 8: this host has no such CPU (its CPUs: 0-7)");
	expect_error("6-9", "CPU 8: this host has no such CPU (its CPUs: 0-7)");
	expect_error("3-1", "'3-1': not a CPU number or range (N or N-M, N <= M <= 1023; or all, "
			    "node:N, ^ITEM)");
	expect_error("x", "'x': not a CPU number or range (N or N-M, N <= M <= 1023; or all, "
			  "node:N, ^ITEM)");
	expect_error("-1", "'-1': not a CPU number or range (N or N-M, N <= M <= 1023; or all, "
			   "node:N, ^ITEM)");
	expect_error("1-", "'1-': not a CPU number or range (N or N-M, N <= M <= 1023; or all, "
			   "node:N, ^ITEM)");
	expect_error("1 2", "'1 2': not a CPU number or range (N or N-M, N <= M <= 1023; or all, "
			    "node:N, ^ITEM)");
	expect_error("1024", "'1024': not a CPU number or range (N or N-M, N <= M <= 1023; or "
			     "all, node:N, ^ITEM)");
	expect_error("99999999999999999999", "'99999999999999999999': not a CPU number or range "
					     "(N or N-M, N <= M <= 1023; or all, node:N, ^ITEM)");
	expect_error("0x1", "'0x1': not a CPU number or range (N or N-M, N <= M <= 1023; or all, "
			    "node:N, ^ITEM)");
	expect_error("^all", "'^all': \"^\" cannot go with \"all\"");
	expect_error("^", "'^': a CPU number is missing");
	expect_error("node:", "'node:': a node number is missing");
	expect_error("node:2", "node 2: this host has no NUMA node 2");
	expect_error("node:64", "'node:64': not a node number or range (N or N-M, N <= M <= 63)");
	expect_error("^0-7", "'^0-7' leaves no CPU to run on");
	expect_error("1,^1", "'1,^1' leaves no CPU to run on");
	expect_error("1;2", "'1;2': a character that no CPU list holds");
	expect_error("1\n", "'1\n': a character that no CPU list holds");
	struct cpuset_host h = host8();
	cpu_set_t set;
	CHECK_EQ(cpuset_parse(NULL, &h, &set, err, sizeof(err)), -1);
	CHECK_STR(err, "no CPU list");
	char big[5000];
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	CHECK_EQ(cpuset_parse(big, &h, &set, err, sizeof(err)), -1);
	CHECK_STR(err, "the CPU list is too long (4999 bytes)");
}

/* Without a host only the syntax counts. */
static void test_syntax_only(void)
{
	cpu_set_t set;
	CHECK_EQ(cpuset_parse("1000,node:7,^all,", NULL, &set, err, sizeof(err)), -1);
	CHECK_STR(err, "'^all': \"^\" cannot go with \"all\"");
	CHECK_EQ(cpuset_parse("1000,node:7,^3", NULL, &set, err, sizeof(err)), 0);
	CHECK(CPU_ISSET(1000, &set));
	CHECK_EQ(cpuset_parse("^0", NULL, &set, err, sizeof(err)), 0);
	CHECK_EQ(cpuset_parse("1,,", NULL, &set, err, sizeof(err)), -1);
}

static void test_pinning(void)
{
	struct cpuset_host h = host8();
	cpu_set_t sets[4];
	bool pinned[4];
	char buf[64];
	CHECK_EQ(cpuset_parse_pinning(NULL, 4, &h, sets, pinned, err, sizeof(err)), 0);
	CHECK(!pinned[0] && !pinned[3]);
	CHECK_EQ(cpuset_parse_pinning("0-3,^1", 4, &h, sets, pinned, err, sizeof(err)), 0);
	for (int i = 0; i < 4; i++) {
		CHECK(pinned[i]);
		cpulist_format(&sets[i], buf, sizeof(buf));
		CHECK_STR(buf, "0,2-3");
	}
	CHECK(!cpuset_is_per_vcpu("0-3"));
	CHECK(cpuset_is_per_vcpu("2;"));
	CHECK_EQ(cpuset_parse_pinning("2;3-5,^4;", 4, &h, sets, pinned, err, sizeof(err)), 0);
	CHECK(pinned[0] && pinned[1] && !pinned[2] && !pinned[3]);
	cpulist_format(&sets[0], buf, sizeof(buf));
	CHECK_STR(buf, "2");
	cpulist_format(&sets[1], buf, sizeof(buf));
	CHECK_STR(buf, "3,5");
	CHECK_EQ(cpuset_parse_pinning("2;", 4, &h, sets, pinned, err, sizeof(err)), 0);
	CHECK(pinned[0] && !pinned[1]);
	CHECK_EQ(cpuset_parse_pinning("1;2;3;", 2, &h, sets, pinned, err, sizeof(err)), -1);
	CHECK_STR(err, "3 per-vCPU CPU lists for 2 vCPUs");
	CHECK(!pinned[0] && !pinned[1]);
	CHECK_EQ(cpuset_parse_pinning("1;9;", 2, &h, sets, pinned, err, sizeof(err)), -1);
	CHECK_STR(err, "vCPU 1: CPU 9: this host has no such CPU (its CPUs: 0-7)");
	CHECK(!pinned[0]);
	CHECK_EQ(cpuset_parse_pinning("1;;", 2, &h, sets, pinned, err, sizeof(err)), -1);
	CHECK_STR(err, "vCPU 1: no CPU list (empty)");
	CHECK_EQ(cpuset_parse_pinning("1;2", 2, &h, sets, pinned, err, sizeof(err)), -1);
	CHECK_STR(err, "per-vCPU CPU lists: every entry ends with ';' (\"2;3-5;\")");
	CHECK_EQ(cpuset_parse_pinning("9", 2, &h, sets, pinned, err, sizeof(err)), -1);
	CHECK_STR(err, "CPU 9: this host has no such CPU (its CPUs: 0-7)");
}

static void test_format(void)
{
	cpu_set_t s;
	char buf[16];
	CPU_ZERO(&s);
	CHECK_EQ(cpulist_format(&s, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "");
	CPU_SET(0, &s);
	CPU_SET(2, &s);
	CPU_SET(3, &s);
	CPU_SET(4, &s);
	CPU_SET(1023, &s);
	CHECK_EQ(cpulist_format(&s, buf, sizeof(buf)), 10);
	CHECK_STR(buf, "0,2-4,1023");
	char small[6];
	CHECK_EQ(cpulist_format(&s, small, sizeof(small)), 10);
	CHECK_STR(small, "0,2-4"); /* what fits, whole items only */
	char tiny[3];
	CHECK_EQ(cpulist_format(&s, tiny, sizeof(tiny)), 10);
	CHECK_STR(tiny, "0");
}

/* The host as sysfs describes it: at least CPU 0 online, nodes consistent with it. */
static void test_host_read(void)
{
	struct cpuset_host h;
	CHECK_EQ(cpuset_host_read(&h, err, sizeof(err)), 0);
	CHECK(CPU_ISSET(0, &h.online));
	CHECK(CPU_COUNT(&h.online) >= 1);
	cpu_set_t set;
	CHECK_EQ(cpuset_parse("all", &h, &set, err, sizeof(err)), 0);
	CHECK(CPU_EQUAL(&set, &h.online));
	CHECK_EQ(cpuset_parse("1023", &h, &set, err, sizeof(err)), -1);
}

/* domcfg: cpus is checked at parse time, naming file:line; the list form is encoded. */
static void test_domcfg(void)
{
	struct domain_config dc;
	CHECK_EQ(build("name='a'\nvcpus=2\ncpus=\"all,^1\"\n", &dc), 0);
	CHECK_STR(dc.cpus, "all,^1");
	domcfg_free(&dc);
	CHECK_EQ(build("name='a'\ncpus=3\n", &dc), 0);
	CHECK_STR(dc.cpus, "3");
	domcfg_free(&dc);
	CHECK_EQ(build("name='a'\nvcpus=3\ncpus=[\"2\", 3, '0-1,^0']\n", &dc), 0);
	CHECK_STR(dc.cpus, "2;3;0-1,^0;");
	domcfg_free(&dc);
	CHECK_EQ(build("name='a'\nvcpus=2\ncpus=['1']\n", &dc), 0);
	CHECK_STR(dc.cpus, "1;");
	domcfg_free(&dc);

	CHECK_EQ(build("name='a'\n\ncpus=\"0,,1\"\n", &dc), -EINVAL);
	CHECK_STR(err, "vm.cfg:3: 'cpus' \"0,,1\": an empty item (two commas, or a comma at an "
		       "end)");
	CHECK(dc.cpus == NULL);
	CHECK_EQ(build("name='a'\ncpus=\"^all\"\n", &dc), -EINVAL);
	CHECK_STR(err, "vm.cfg:2: 'cpus' \"^all\": '^all': \"^\" cannot go with \"all\"");
	CHECK_EQ(build("name='a'\ncpus=\"\"\n", &dc), -EINVAL);
	CHECK_STR(err, "vm.cfg:2: 'cpus' \"\": no CPU list (empty)");
	CHECK_EQ(build("name='a'\ncpus=[]\n", &dc), -EINVAL);
	CHECK_STR(err, "vm.cfg:2: 'cpus' is an empty list (leave it out for no pinning)");
	CHECK_EQ(build("name='a'\nvcpus=1\ncpus=['0','1']\n", &dc), -EINVAL);
	CHECK_STR(err, "vm.cfg:3: 'cpus' lists 2 vCPUs' CPUs, but the domain has 1 vCPU");
	CHECK_EQ(build("name='a'\nvcpus=2\ncpus=['0',\n ['1']]\n", &dc), -EINVAL);
	CHECK_STR(err, "vm.cfg:4: 'cpus' entry 1 (vCPU 1) must be a string or a number, not a "
		       "list");
	CHECK_EQ(build("name='a'\nvcpus=2\ncpus=['0',\n 'x']\n", &dc), -EINVAL);
	CHECK_STR(err, "vm.cfg:4: 'cpus' entry 1 (vCPU 1) \"x\": 'x': not a CPU number or range "
		       "(N or N-M, N <= M <= 1023; or all, node:N, ^ITEM)");
	CHECK_EQ(build("name='a'\nvcpus=2\ncpus=['0;1']\n", &dc), -EINVAL);
	CHECK_STR(err, "vm.cfg:3: 'cpus' entry 0 (vCPU 0) \"0;1\": '0;1': a character that no "
		       "CPU list holds");
}

UNIT_MAIN(test_forms, test_errors, test_syntax_only, test_pinning, test_format,
	  test_host_read, test_domcfg)
