/* Unit tests of domusd's launch settings: from an xl.cfg (paths made absolute against the
 * client's directory), through the domain record and back unchanged, to the monitor's command
 * line; and the support check shared with domus run. */
#include <json-c/json.h>

#include "config/domcfg.h"
#include "config/xlcfg.h"
#include "manager/launch.h"
#include "unit.h"

static char err[512];

static int build(const char *text, struct domain_config *dc)
{
	struct xlcfg *cfg = xlcfg_new();
	int rc = xlcfg_parse(cfg, "vm.cfg", text, strlen(text), err, sizeof(err));
	if (rc == 0)
		rc = domcfg_build(cfg, dc, err, sizeof(err));
	else
		memset(dc, 0, sizeof(*dc));
	xlcfg_free(cfg);
	return rc;
}

/* The monitor's options for l, as one string "a b c". */
static void args_of(const struct dom_launch *l, char *out, size_t len)
{
	const char *argv[LAUNCH_MAX_ARGS + 1];
	int n = 0;
	struct launch_args st = { .n = 0 };
	CHECK_EQ(launch_vmm_args(l, argv, &n, &st), 0);
	out[0] = 0;
	for (int i = 0; i < n; i++) {
		strncat(out, argv[i], len - strlen(out) - 1);
		if (i + 1 < n)
			strncat(out, " ", len - strlen(out) - 1);
	}
	launch_args_free(&st);
}

/* Through domain.json and back: the same monitor command line. */
static void check_round_trip(const struct dom_launch *l)
{
	struct json_object *o = json_object_new_object();
	launch_to_json(l, o);
	struct json_object *back = json_tokener_parse(json_object_to_json_string(o));
	struct dom_launch l2;
	CHECK_EQ(launch_from_json(&l2, back), 0);
	char a[2048], b[2048];
	args_of(l, a, sizeof(a));
	args_of(&l2, b, sizeof(b));
	CHECK_STR(a, b);
	CHECK_STR(l2.source, l->source);
	CHECK_EQ(l2.on_crash, l->on_crash);
	CHECK_EQ(l2.maxmem_mib, l->maxmem_mib);
	launch_free(&l2);
	json_object_put(o);
	json_object_put(back);
}

static void test_pv(void)
{
	struct domain_config dc;
	struct dom_launch l;
	char args[2048];
	CHECK_EQ(build("name='web'\nkernel='k/vmlinux'\nramdisk='/boot/initrd'\nmemory=256\n"
		       "vcpus=2\nextra='console=ttyS0'\n"
		       "disk=['img/a.img,raw,xvda,w', 'format=raw, vdev=xvdb, access=ro, "
		       "target=/srv/b,c.img']\n"
		       "vif=['bridge=br0,mac=00:16:3e:01:02:03', 'vifname=tapw']\n"
		       "on_crash='coredump-restart'\n", &dc), 0);
	CHECK_EQ(domcfg_check_support(&dc, "vm.cfg", err, sizeof(err)), 0);
	CHECK_EQ(launch_from_config(&l, &dc, "web.cfg", "/home/u"), 0);
	CHECK(!l.fv && !l.firmware);
	CHECK_STR(l.kernel, "/home/u/k/vmlinux");
	CHECK_STR(l.ramdisk, "/boot/initrd");
	CHECK_STR(l.source, "/home/u/web.cfg");
	CHECK_EQ(l.ndisks, 2);
	CHECK_STR(l.disks[0].path, "/home/u/img/a.img");
	CHECK(l.disks[1].readonly);
	CHECK_EQ(l.nnics, 2);
	args_of(&l, args, sizeof(args));
	CHECK_STR(args, "--memory 256 --vcpus 2 --kernel /home/u/k/vmlinux --initrd /boot/initrd "
			"--cmdline console=ttyS0 --disk xvda,rw,/home/u/img/a.img "
			"--disk xvdb,ro,/srv/b,c.img --net 00:16:3e:01:02:03,br0, "
			"--net 00:16:3e:0f:b7:39,,tapw");
	check_round_trip(&l);
	launch_free(&l);
	domcfg_free(&dc);
}

/* cpus= goes to the record and to the monitor as --cpus, the per-vCPU form encoded. */
static void test_cpus(void)
{
	struct domain_config dc;
	struct dom_launch l;
	char args[2048];
	CHECK_EQ(build("name='p'\nkernel='/k'\nvcpus=2\ncpus=['1', '0-1,^1']\n", &dc), 0);
	CHECK_EQ(launch_from_config(&l, &dc, "p.cfg", "/"), 0);
	CHECK_STR(l.cpus, "1;0-1,^1;");
	args_of(&l, args, sizeof(args));
	CHECK_STR(args, "--memory 128 --vcpus 2 --cpus 1;0-1,^1; --kernel /k");
	check_round_trip(&l);
	struct dom_launch copy;
	CHECK_EQ(launch_copy(&copy, &l), 0);
	CHECK_STR(copy.cpus, "1;0-1,^1;");
	launch_free(&copy);
	launch_free(&l);
	domcfg_free(&dc);
	CHECK_EQ(build("name='q'\nkernel='/k'\n", &dc), 0);
	CHECK_EQ(launch_from_config(&l, &dc, "q.cfg", "/"), 0);
	CHECK(l.cpus == NULL);
	args_of(&l, args, sizeof(args));
	CHECK_STR(args, "--memory 128 --vcpus 1 --kernel /k");
	launch_free(&l);
	domcfg_free(&dc);
}

static void test_fv(void)
{
	struct domain_config dc;
	struct dom_launch l;
	char args[2048];
	CHECK_EQ(build("name='win'\ntype='hvm'\nmemory=512\nboot='dc'\n"
		       "bios_path_override='fw/bios.bin'\n"
		       "disk=['/x.img,raw,hda,w', '/y.iso,,hdc,cdrom', ',empty,hdd,cdrom']\n", &dc),
		 0);
	CHECK_EQ(domcfg_check_support(&dc, "vm.cfg", err, sizeof(err)), 0);
	CHECK_EQ(launch_from_config(&l, &dc, "/etc/win.cfg", "/root"), 0);
	CHECK(l.fv && !l.kernel);
	CHECK_STR(l.firmware, "/root/fw/bios.bin");
	args_of(&l, args, sizeof(args));
	CHECK_STR(args, "--memory 512 --vcpus 1 --firmware /root/fw/bios.bin --boot dc "
			"--ide 0,disk,rw,/x.img --ide 2,cdrom,ro,/y.iso --ide 3,cdrom,ro,");
	check_round_trip(&l);
	launch_free(&l);
	domcfg_free(&dc);

	/* no bios_path_override: Debian's SeaBIOS */
	CHECK_EQ(build("name='w2'\ntype='hvm'\n", &dc), 0);
	CHECK_EQ(launch_from_config(&l, &dc, "w2.cfg", "/r"), 0);
	CHECK_STR(l.firmware, "/usr/share/seabios/bios-256k.bin");
	launch_free(&l);
	domcfg_free(&dc);
}

static void test_unsupported(void)
{
	static const struct {
		const char *cfg, *msg;
	} bad[] = {
		{ "name='a'\nkernel='/k'\ndisk=['/x.iso,raw,xvda,r,devtype=cdrom']\n",
		  "vm.cfg:3: disk xvda: PV guests get virtio-blk disks on raw images; a CD-ROM is "
		  "not supported" },
		{ "name='a'\nkernel='/k'\ndisk=['/x.q,qcow2,xvda,w']\n",
		  "vm.cfg:3: disk xvda: PV guests get virtio-blk disks on raw images; qcow2 is not "
		  "supported" },
		{ "name='a'\nkernel='/k'\nvif=['model=e1000']\n",
		  "vm.cfg:3: vif model=e1000: PV guests get virtio-net NICs" },
		{ "name='a'\ntype='hvm'\nvif=['bridge=b']\n",
		  "vm.cfg: vif: FV guests have no network devices in this version of Domus" },
		{ "name='a'\ntype='hvm'\ndisk=['/x,raw,xvda,w']\n",
		  "vm.cfg:3: disk xvda: an FV guest has IDE drives hda to hdd" },
		{ "name='a'\ntype='hvm'\nfirmware='ovmf'\n",
		  "vm.cfg: firmware \"ovmf\": Domus boots FV guests with SeaBIOS only" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct domain_config dc;
		CHECK_EQ(build(bad[i].cfg, &dc), 0);
		CHECK_EQ(domcfg_check_support(&dc, "vm.cfg", err, sizeof(err)), -1);
		CHECK_STR(err, bad[i].msg);
		domcfg_free(&dc);
	}
}

static void test_bad_records(void)
{
	struct dom_launch l;
	struct json_object *o = json_tokener_parse("{\"type\":\"hvm\",\"memory_mib\":64}");
	CHECK_EQ(launch_from_json(&l, o), -22); /* no firmware */
	json_object_put(o);
	o = json_tokener_parse("{\"kernel\":\"/k\",\"nics\":[{\"mac\":\"zz\"}]}");
	CHECK_EQ(launch_from_json(&l, o), -22); /* a bad MAC */
	json_object_put(o);
	o = json_tokener_parse("{\"kernel\":\"/k\",\"disks\":[{\"vdev\":\"xvda\"}]}");
	CHECK_EQ(launch_from_json(&l, o), -22); /* a disk without a path */
	json_object_put(o);
}

UNIT_MAIN(test_pv, test_cpus, test_fv, test_unsupported, test_bad_records)
