/* One config model: the same settings written as `domus run` options, as an xl.cfg file, and
 * through domusd (domain_config → its JSON record → domain_config, as domus-vmm reads it) give
 * machine configs that are equal field by field. Also: the JSON record's strict reading, paths
 * made absolute at create time (formerly test_launch.c), and the keys Domus refuses. */
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config/domcfg.h"
#include "config/xlcfg.h"
#include "lib/exit_codes.h"
#include "monitor/machine_build.h"
#include "monitor/run_config.h"
#include "bzimage.h"
#include "unit.h"

static char err[1024];
static char dir[64];

static char *path(const char *name)
{
	static char bufs[16][128];
	static unsigned next;
	char *p = bufs[next++ % 16];
	snprintf(p, 128, "%s/%s", dir, name);
	return p;
}

static void write_file(const char *name, const void *data, size_t len)
{
	FILE *f = fopen(path(name), "wb");
	CHECK(f != NULL);
	if (f) {
		fwrite(data, 1, len, f);
		fclose(f);
	}
}

/* A minimal bzImage (protocol 2.15, 64-bit entry) and an initrd. */
static void write_kernel(void)
{
	size_t len;
	uint8_t *b = make_bzimage(&len, 0x20F, 1);
	write_file("vmlinuz", b, len);
	free(b);
	write_file("initrd", "initrd bytes", 12);
}

/* Front end 1: `domus run ARGS...` (NULL-terminated). */
static int from_run(struct domain_config *dc, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;
	va_start(ap, dc);
	argv[argc++] = (char *)"run";
	for (const char *a; argc < 63 && (a = va_arg(ap, const char *));)
		argv[argc++] = strdup(a);
	va_end(ap);
	argv[argc] = NULL;
	struct run_process p;
	int r = run_config(argc, argv, dc, &p);
	for (int i = 1; i < argc; i++)
		free(argv[i]);
	return r;
}

/* Front end 2: an xl.cfg file. */
static int from_file(struct domain_config *dc, const char *text)
{
	write_file("vm.cfg", text, strlen(text));
	int r = domcfg_load(path("vm.cfg"), NULL, 0, dc, err, sizeof(err));
	if (r == 0)
		r = domcfg_check_support(dc, "vm.cfg", err, sizeof(err));
	if (r)
		fprintf(stderr, "%s\n", err);
	return r;
}

/* Front end 3: domusd's record as the monitor reads it: JSON text and back. */
static int through_json(struct domain_config *out, const struct domain_config *in)
{
	struct json_object *o = domcfg_to_json(in);
	struct json_object *back = json_tokener_parse(json_object_to_json_string(o));
	int r = domcfg_from_json(back, out, err, sizeof(err));
	if (r)
		fprintf(stderr, "%s\n", err);
	json_object_put(o);
	json_object_put(back);
	return r;
}

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Every field of the two machines. */
static void check_same(const struct machine_build *x, const struct machine_build *y)
{
	const struct machine_config *a = &x->mc, *b = &y->mc;
	CHECK_EQ(a->mem_bytes, b->mem_bytes);
	CHECK_EQ(a->vcpus, b->vcpus);
	CHECK(same_str(a->cpus, b->cpus));
	CHECK_EQ(a->kernel_len, b->kernel_len);
	CHECK(a->kernel_len == b->kernel_len &&
	      (!a->kernel_len || !memcmp(a->kernel, b->kernel, a->kernel_len)));
	CHECK_EQ(a->initrd_len, b->initrd_len);
	CHECK(a->initrd_len == b->initrd_len &&
	      (!a->initrd_len || !memcmp(a->initrd, b->initrd, a->initrd_len)));
	CHECK(same_str(a->cmdline, b->cmdline));
	CHECK_EQ(a->triple_fault_reset, b->triple_fault_reset);
	CHECK(a->persist == NULL && b->persist == NULL);
	CHECK_EQ(a->ndisks, b->ndisks);
	for (unsigned i = 0; i < a->ndisks && i < b->ndisks; i++) {
		CHECK(same_str(a->disks[i].path, b->disks[i].path));
		CHECK_EQ(a->disks[i].readonly, b->disks[i].readonly);
		CHECK(same_str(a->disks[i].name, b->disks[i].name));
	}
	CHECK_EQ(a->nnics, b->nnics);
	for (unsigned i = 0; i < a->nnics && i < b->nnics; i++) {
		CHECK(!memcmp(a->nics[i].mac, b->nics[i].mac, 6));
		CHECK(same_str(a->nics[i].bridge, b->nics[i].bridge));
		CHECK(same_str(a->nics[i].tap, b->nics[i].tap));
	}
	CHECK_EQ(a->rng, b->rng);
	CHECK(a->hvc_out == -1 && b->hvc_out == -1 && a->hvc_in == -1 && b->hvc_in == -1);
	CHECK(same_str(x->hvc_output, y->hvc_output));
	CHECK(same_str(x->hvc_input, y->hvc_input));
	CHECK(same_str(a->firmware, b->firmware));
	CHECK_EQ(a->nide, b->nide);
	for (unsigned i = 0; i < a->nide && i < b->nide; i++) {
		CHECK(same_str(a->ide[i].path, b->ide[i].path));
		CHECK_EQ(a->ide[i].index, b->ide[i].index);
		CHECK_EQ(a->ide[i].cdrom, b->ide[i].cdrom);
		CHECK_EQ(a->ide[i].readonly, b->ide[i].readonly);
	}
	CHECK(same_str(a->boot_order, b->boot_order));
	CHECK_EQ(a->fv_devices, b->fv_devices);
	CHECK_EQ(a->watch_pvm_user, b->watch_pvm_user);
}

/* Build the three machines and compare them; b3 is returned for value checks. */
static void three_ways(struct domain_config *run, struct domain_config *file,
		       struct machine_build *m[3], enum host_mode mode)
{
	struct domain_config rec;
	CHECK_EQ(through_json(&rec, file), 0);
	CHECK_EQ(machine_build(m[0], run, mode, err, sizeof(err)), 0);
	CHECK_EQ(machine_build(m[1], file, mode, err, sizeof(err)), 0);
	CHECK_EQ(machine_build(m[2], &rec, mode, err, sizeof(err)), 0);
	check_same(m[0], m[1]);
	check_same(m[1], m[2]);
	/* rec's strings back m[2]: keep the values checked below alive in m[1]. */
	machine_build_free(m[2]);
	domcfg_free(&rec);
}

/* After three_ways() and the checks of m[1]: free all it made. */
static void three_ways_free(struct machine_build *m[3], struct domain_config *run,
			    struct domain_config *file)
{
	for (int i = 0; i < 2; i++)
		machine_build_free(m[i]);
	for (int i = 0; i < 3; i++)
		free(m[i]);
	domcfg_free(run);
	domcfg_free(file);
}

static void test_pv_three_ways(void)
{
	struct domain_config run, file;
	struct machine_build *m[3] = { malloc(sizeof(**m)), malloc(sizeof(**m)),
				       malloc(sizeof(**m)) };
	char hvc[160], net1[80];
	snprintf(hvc, sizeof(hvc), "%s,in=%s", path("hvc.out"), path("hvc.in"));
	snprintf(net1, sizeof(net1), "bridge=br0,mac=00:16:3e:01:02:03,tap=tapw");
	write_file("base.cfg", "cpus = \"0-1\"\n", 12);
	CHECK_EQ(from_run(&run, "--kernel", path("vmlinuz"), "--initrd", path("initrd"),
			  "--cmdline", "console=ttyS0 x=1", "--memory", "64", "--vcpus", "2",
			  "--name", "web", "--disk", path("a.img"), "--disk",
			  path("c.img,ro,name=data"), "--net", net1, "--net", "bridge=br1",
			  "--rng", "--hvc", hvc, "--triple-fault-reset", "--pvm-aware",
			  path("base.cfg"), NULL), 0);
	char text[2048];
	snprintf(text, sizeof(text),
		 "name = 'web'\nkernel = '%s'\nramdisk = '%s'\ncmdline = 'console=ttyS0 x=1'\n"
		 "memory = 64\nvcpus = 2\ncpus = '0-1'\n"
		 "disk = [ 'format=raw, vdev=xvda, access=rw, target=%s',\n"
		 "         '%s,raw,xvdb,ro,serial=data' ]\n"
		 "vif = [ 'bridge=br0,mac=00:16:3e:01:02:03,vifname=tapw', 'bridge=br1' ]\n"
		 "rng = 1\nhvc_output = '%s'\nhvc_input = '%s'\n"
		 "triple_fault_reset = 1\npvm_aware = 1\n",
		 path("vmlinuz"), path("initrd"), path("a.img"), path("c.img"),
		 path("hvc.out"), path("hvc.in"));
	CHECK_EQ(from_file(&file, text), 0);
	three_ways(&run, &file, m, HOST_PVM);

	const struct machine_config *mc = &m[1]->mc;
	CHECK_EQ(mc->mem_bytes, 64ull << 20);
	CHECK_EQ(mc->vcpus, 2);
	CHECK_STR(mc->cpus, "0-1");
	CHECK_EQ(mc->kernel_len, 5 * 512 + 8192);
	CHECK_EQ(mc->initrd_len, 12);
	CHECK(strstr(mc->cmdline, "console=ttyS0 x=1") != NULL);
	CHECK_EQ(mc->ndisks, 2);
	CHECK_STR(mc->disks[0].path, path("a.img"));
	CHECK_STR(mc->disks[0].name, "xvda");
	CHECK(!mc->disks[0].readonly && mc->disks[1].readonly);
	CHECK_STR(mc->disks[1].name, "data");
	CHECK_EQ(mc->nnics, 2);
	CHECK_STR(mc->nics[0].tap, "tapw");
	CHECK_STR(mc->nics[1].bridge, "br1");
	uint8_t mac[6];
	domcfg_derive_mac("web", 1, mac);
	CHECK(!memcmp(mc->nics[1].mac, mac, 6));
	CHECK(mc->rng && mc->triple_fault_reset && !mc->watch_pvm_user);
	CHECK_STR(m[1]->hvc_output, path("hvc.out"));
	CHECK_STR(m[1]->hvc_input, path("hvc.in"));
	CHECK(mc->firmware == NULL && mc->nide == 0 && !mc->fv_devices);

	/* The console files are opened only when asked. */
	CHECK_EQ(machine_build_open_hvc(m[1], err, sizeof(err)), -1); /* no hvc.in yet */
	CHECK(strstr(err, "hvc_input") != NULL);
	three_ways_free(m, &run, &file);
}

static void test_fv_three_ways(void)
{
	struct domain_config run, file;
	struct machine_build *m[3] = { malloc(sizeof(**m)), malloc(sizeof(**m)),
				       malloc(sizeof(**m)) };
	CHECK_EQ(from_run(&run, "--firmware", "/fw/bios.bin", "--cdrom", path("x.iso"), "--disk",
			  path("d.img"), "--disk", path("e.img,ro"), "--boot", "dc", "--memory",
			  "256", "--vcpus", "2", "--name", "fv", NULL), 0);
	char text[1024];
	snprintf(text, sizeof(text),
		 "name = 'fv'\ntype = 'hvm'\nbios_path_override = '/fw/bios.bin'\nboot = 'dc'\n"
		 "memory = 256\nvcpus = 2\n"
		 "disk = [ '%s,,hdc,cdrom', '%s,raw,hda,w', '%s,raw,hdb,ro' ]\n",
		 path("x.iso"), path("d.img"), path("e.img"));
	CHECK_EQ(from_file(&file, text), 0);
	three_ways(&run, &file, m, HOST_VMX);
	const struct machine_config *mc = &m[1]->mc;
	CHECK_STR(mc->firmware, "/fw/bios.bin");
	CHECK_STR(mc->boot_order, "dc");
	CHECK_EQ(mc->nide, 3);
	CHECK(mc->ide[0].cdrom && mc->ide[0].index == 2 && mc->ide[0].readonly);
	CHECK(!mc->ide[1].cdrom && mc->ide[1].index == 0 && !mc->ide[1].readonly);
	CHECK(mc->ide[2].index == 1 && mc->ide[2].readonly);
	CHECK(mc->kernel == NULL && mc->ndisks == 0);
	three_ways_free(m, &run, &file);

	/* No firmware given: the default BIOS, the same from every front end. */
	CHECK_EQ(from_run(&run, "--cdrom", path("x.iso"), NULL), 0);
	struct machine_build *b = malloc(sizeof(*b));
	CHECK_EQ(machine_build(b, &run, HOST_VMX, err, sizeof(err)), 0);
	CHECK_STR(b->mc.firmware, FIRMWARE_DEFAULT);
	CHECK_STR(b->mc.boot_order, "cd");
	machine_build_free(b);
	free(b);
	domcfg_free(&run);
}

static void test_fv_devices_three_ways(void)
{
	struct domain_config run, file;
	struct machine_build *m[3] = { malloc(sizeof(**m)), malloc(sizeof(**m)),
				       malloc(sizeof(**m)) };
	CHECK_EQ(from_run(&run, "--kernel", path("vmlinuz"), "--fv-devices", "--cdrom",
			  path("x.iso"), "--disk", path("d.img"), "--cmdline", "tol=3", NULL), 0);
	char text[1024];
	snprintf(text, sizeof(text),
		 "name = 'domus'\nkernel = '%s'\ncmdline = 'tol=3'\nfv_devices = 1\n"
		 "disk = [ 'format=raw, vdev=hdc, devtype=cdrom, target=%s', '%s,raw,hda,w' ]\n",
		 path("vmlinuz"), path("x.iso"), path("d.img"));
	CHECK_EQ(from_file(&file, text), 0);
	three_ways(&run, &file, m, HOST_PVM);
	const struct machine_config *mc = &m[1]->mc;
	CHECK(mc->fv_devices && mc->firmware == NULL && mc->kernel != NULL);
	CHECK_EQ(mc->nide, 2);
	CHECK_EQ(mc->ndisks, 0);
	CHECK(mc->watch_pvm_user); /* a Linux boot protocol kernel, not pvm_aware */
	three_ways_free(m, &run, &file);
}

/* `domus run` front-end errors keep their words. */
static void test_run_errors(void)
{
	struct domain_config dc;
	CHECK_EQ(from_run(&dc, NULL), DOMUS_EXIT_USAGE);                       /* no kernel */
	CHECK_EQ(from_run(&dc, "--kernel", path("vmlinuz"), "--memory", "0", NULL),
		 DOMUS_EXIT_ERROR);
	CHECK_EQ(from_run(&dc, "--kernel", path("vmlinuz"), "--cdrom", "x.iso", NULL),
		 DOMUS_EXIT_USAGE);                                              /* no --fv-devices */
	CHECK_EQ(from_run(&dc, "--kernel", path("vmlinuz"), "--disk", "a.img,bogus", NULL),
		 DOMUS_EXIT_USAGE);
	CHECK_EQ(from_run(&dc, "--kernel", path("vmlinuz"), "--net", "bridge=br0,frob=1", NULL),
		 DOMUS_EXIT_USAGE);
	CHECK_EQ(from_run(&dc, "--kernel", path("vmlinuz"), "--hvc", "out,x=1", NULL),
		 DOMUS_EXIT_ERROR);
	/* A quote in a path stays a quote: the options are quoted as xl strings. */
	CHECK_EQ(from_run(&dc, "--kernel", "/it's \\here", NULL), 0);
	CHECK_STR(dc.kernel, "/it's \\here");
	domcfg_free(&dc);
}

/* The record: everything survives, and a bad one is refused naming the field. */
static void test_json_record(void)
{
	struct domain_config dc, back;
	CHECK_EQ(from_file(&dc, "name='web'\nkernel='k/vmlinux'\nramdisk='/boot/initrd'\n"
			   "memory=256\nvcpus=2\nextra='console=ttyS0'\n"
			   "disk=['img/a.img,raw,xvda,w', 'format=raw, vdev=xvdb, access=ro, "
			   "no-discard, target=/srv/b,c.img']\n"
			   "vif=['bridge=br0,mac=00:16:3e:01:02:03,ip=10.0.0.2', 'vifname=tapw,"
			   "model=virtio,type=vif,devid=5']\n"
			   "on_crash='coredump-restart'\non_reboot='rename-restart'\n"), 0);
	CHECK_EQ(domcfg_make_absolute(&dc, "/home/u"), 0);
	CHECK_STR(dc.kernel, "/home/u/k/vmlinux");
	CHECK_STR(dc.ramdisk, "/boot/initrd");
	CHECK_STR(dc.disks[0].target, "/home/u/img/a.img");
	CHECK_STR(dc.disks[1].target, "/srv/b,c.img");
	CHECK_EQ(domcfg_copy(&back, &dc), 0);
	CHECK_STR(back.name, "web");
	CHECK_STR(back.kernel, "/home/u/k/vmlinux");
	CHECK_STR(back.cmdline, "console=ttyS0");
	CHECK_EQ(back.memory_mib, 256);
	CHECK_EQ(back.maxmem_mib, 256);
	CHECK_EQ(back.on_crash, DOMCFG_ACTION_COREDUMP_RESTART);
	CHECK_EQ(back.on_reboot, DOMCFG_ACTION_RENAME_RESTART);
	CHECK_EQ(back.ndisks, 2);
	CHECK_STR(back.disks[1].target, "/srv/b,c.img");
	CHECK(back.disks[1].readonly && !back.disks[1].discard && back.disks[0].discard);
	CHECK_EQ(back.nnics, 2);
	CHECK(!back.nics[0].mac_auto && back.nics[1].mac_auto);
	CHECK(!memcmp(back.nics[1].mac, dc.nics[1].mac, 6));
	CHECK_STR(back.nics[0].ip, "10.0.0.2");
	CHECK_EQ(back.nics[1].devid, 5);
	CHECK_EQ(back.nics[1].type, DOMCFG_NIC_VIF);
	CHECK_STR(back.nics[1].vifname, "tapw");
	domcfg_free(&back);

	/* An empty CD-ROM drive survives too. */
	struct domain_config fv;
	CHECK_EQ(from_file(&fv, "name='f'\ntype='hvm'\ndisk=[',,hdc,cdrom']\n"), 0);
	CHECK_EQ(domcfg_copy(&back, &fv), 0);
	CHECK(back.ndisks == 1 && back.disks[0].format == DOMCFG_DISK_EMPTY &&
	      !strcmp(back.disks[0].target, "") && back.disks[0].cdrom);
	domcfg_free(&back);
	domcfg_free(&fv);

	static const struct {
		const char *field, *value, *want;
	} bad[] = {
		{ "memory_mib", "\"512\"", "memory_mib: must be a whole number" },
		{ "memory_mib", "0", "memory_mib: must be between 1 and" },
		{ "vcpus", "true", "vcpus: must be a whole number" },
		{ "kernel", "5", "kernel: must be a string" },
		{ "name", "\"../x\"", "name: not a domain name" },
		{ "type", "\"xen\"", "type: unknown value 'xen'" },
		{ "rng", "1", "rng: must be true or false" },
		{ "boot", "\"x\"", "boot: up to three of c, d, n" },
		{ "frobnicate", "1", "frobnicate: unknown field" },
		{ "disks", "{}", "disks: must be a list" },
		{ "disks", "[{\"path\":\"/a\",\"format\":\"raw\",\"vdev\":\"zz\",\"readonly\":false,"
			   "\"cdrom\":false,\"discard\":true}]", "disks[0]: bad vdev 'zz'" },
		{ "disks", "[{\"path\":7}]", "disks[0].path: must be a string" },
		{ "nics", "[{\"mac\":\"00:16:3e:00:00:01\",\"mac_auto\":false,\"type\":\"vif\","
			  "\"devid\":0,\"mtu\":9000}]", "nics[0].mtu: unknown field" },
		{ "nics", "[{\"mac\":\"nope\",\"mac_auto\":false,\"type\":\"vif\",\"devid\":0}]",
		  "nics[0]: bad MAC address 'nope'" },
		{ "on_crash", "\"explode\"", "on_crash: unknown value 'explode'" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *o = domcfg_to_json(&dc);
		json_object_object_add(o, bad[i].field, json_tokener_parse(bad[i].value));
		CHECK_EQ(domcfg_from_json(o, &back, err, sizeof(err)), -EINVAL);
		if (strncmp(err, bad[i].want, strlen(bad[i].want)))
			fprintf(stderr, "want '%s', got '%s'\n", bad[i].want, err);
		CHECK(!strncmp(err, bad[i].want, strlen(bad[i].want)));
		CHECK(back.name == NULL && back.disks == NULL);
		json_object_put(o);
	}
	struct json_object *o = domcfg_to_json(&dc);
	json_object_object_del(o, "vcpus");
	CHECK_EQ(domcfg_from_json(o, &back, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "vcpus: missing");
	json_object_put(o);
	CHECK_EQ(domcfg_from_json(NULL, &back, err, sizeof(err)), -EINVAL);
	domcfg_free(&dc);
}

/* Item 2 of issue 9: keys Domus cannot honour are refused, naming the key. */
static void test_refused_keys(void)
{
	static const struct {
		const char *text, *want;
	} bad[] = {
		{ "maxmem = 512\n", "'maxmem' (512) differs from 'memory' (128)" },
		{ "serial = 'file:/tmp/s'\n", "serial 'file:/tmp/s'" },
		{ "acpi = 0\n", "acpi = 0:" },
		{ "vnc = 1\n", "vnc: no graphics console yet" },
		{ "vif = ['bridge=br0,rate=10Mb/s']\n", "rate: Domus does not limit" },
		{ "vif = ['bridge=br0,mtu=9000']\n", "mtu: Domus NICs have the default MTU" },
		{ "hvc_input = '/x'\n", "'hvc_input' needs 'hvc_output'" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];
		struct domain_config dc;
		snprintf(text, sizeof(text), "name = 'a'\nkernel = '/k'\n%s", bad[i].text);
		write_file("bad.cfg", text, strlen(text));
		CHECK_EQ(domcfg_load(path("bad.cfg"), NULL, 0, &dc, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].want))
			fprintf(stderr, "want '%s', got '%s'\n", bad[i].want, err);
		CHECK(strstr(err, bad[i].want) != NULL);
		CHECK(strstr(err, ":3: ") != NULL);
	}
	/* What they accept: the values Domus implements. */
	struct domain_config dc;
	const char *ok = "name = 'a'\nkernel = '/k'\nmaxmem = 128\nserial = 'pty'\nacpi = 1\n"
			 "vnc = 0\n";
	write_file("ok.cfg", ok, strlen(ok));
	CHECK_EQ(domcfg_load(path("ok.cfg"), NULL, 0, &dc, err, sizeof(err)), 0);
	domcfg_free(&dc);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/domus-cfgpaths-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	write_kernel();
}

static void cleanup(void)
{
	static const char *const files[] = { "vmlinuz", "initrd", "vm.cfg", "base.cfg",
					     "bad.cfg", "ok.cfg", "hvc.out" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(path(files[i]));
	rmdir(dir);
}

UNIT_MAIN(setup, test_pv_three_ways, test_fv_three_ways, test_fv_devices_three_ways,
	  test_run_errors, test_json_record, test_refused_keys, cleanup)
