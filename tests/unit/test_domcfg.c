/* Unit tests for the typed domain config, disk and vif specs
 * (src/config/domcfg*.c). */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "cfg_build.h"
#include "config/domcfg.h"
#include "unit.h"

static void expect_build_error(const char *text, const char *msg)
{
	struct domain_config dc;

	CHECK_EQ(build(text, &dc), -EINVAL);
	CHECK_STR(err, msg);
	CHECK(dc.name == NULL && dc.disks == NULL && dc.nics == NULL);
	domcfg_free(&dc);
}

static const char *mac_str(const uint8_t *m)
{
	static char buf[18];

	snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1],
		 m[2], m[3], m[4], m[5]);
	return buf;
}

static void test_pv_domain(void)
{
	struct domain_config dc;
	int rc = build(
		"# a PV web server\n"
		"name = \"web\"\n"
		"type = \"pv\"\n"
		"memory = 512\n"
		"maxmem = 512\n"
		"vcpus = 2\n"
		"cpus = \"0-3,^1\"\n"
		"kernel = \"/boot/vmlinuz\"\n"
		"ramdisk = \"/boot/initrd.img\"\n"
		"root = \"/dev/xvda1 ro\"\n"
		"extra = \"console=hvc0\"\n"
		"disk = [ 'file:/srv/web.img,xvda,w',\n"
		"         '/srv/data.img,raw,xvdb,ro' ]\n"
		"vif = [ 'bridge=br0,mac=00:16:3e:01:02:03',\n"
		"        'bridge=br1, model=e1000' ]\n"
		"on_crash = \"preserve\"\n"
		"serial = 'pty'\n", &dc);

	CHECK_EQ(rc, 0);
	CHECK_STR(err, "");
	CHECK_STR(dc.name, "web");
	CHECK_EQ(dc.type, DOMCFG_TYPE_PV);
	CHECK_EQ(dc.memory_mib, 512);
	CHECK_EQ(dc.maxmem_mib, 512);
	CHECK_EQ(dc.vcpus, 2);
	CHECK_STR(dc.cpus, "0-3,^1");
	CHECK_STR(dc.kernel, "/boot/vmlinuz");
	CHECK_STR(dc.ramdisk, "/boot/initrd.img");
	CHECK_STR(dc.cmdline, "root=/dev/xvda1 ro console=hvc0");
	CHECK_EQ(dc.on_poweroff, DOMCFG_ACTION_DESTROY);
	CHECK_EQ(dc.on_reboot, DOMCFG_ACTION_RESTART);
	CHECK_EQ(dc.on_crash, DOMCFG_ACTION_PRESERVE);

	CHECK_EQ(dc.ndisks, 2);
	CHECK_STR(dc.disks[0].target, "/srv/web.img");
	CHECK_STR(dc.disks[0].vdev, "xvda");
	CHECK_EQ(dc.disks[0].format, DOMCFG_DISK_RAW);
	CHECK(!dc.disks[0].readonly && !dc.disks[0].cdrom);
	CHECK_EQ(dc.disks[0].line, 12);
	CHECK_STR(dc.disks[1].target, "/srv/data.img");
	CHECK(dc.disks[1].readonly);
	CHECK_EQ(dc.disks[1].index, 1);
	CHECK_EQ(dc.disks[1].line, 13);

	CHECK_EQ(dc.nnics, 2);
	CHECK_STR(mac_str(dc.nics[0].mac), "00:16:3e:01:02:03");
	CHECK(!dc.nics[0].mac_auto);
	CHECK_STR(dc.nics[0].bridge, "br0");
	CHECK(dc.nics[0].model == NULL);
	CHECK_EQ(dc.nics[0].devid, 0);
	CHECK_STR(dc.nics[1].bridge, "br1");
	CHECK_STR(dc.nics[1].model, "e1000");
	CHECK(dc.nics[1].mac_auto);
	CHECK_EQ(dc.nics[1].devid, 1);
	/* the derived MAC is a pure function of name and devid */
	CHECK_STR(mac_str(dc.nics[1].mac), "00:16:3e:0f:b7:39");
	CHECK_EQ(dc.nics[1].line, 15);
	domcfg_free(&dc);
	CHECK(dc.name == NULL && dc.ndisks == 0);
	domcfg_free(&dc);       /* twice is harmless */
}

static void test_hvm_domain(void)
{
	struct domain_config dc;
	int rc = build(
		"name = \"win\"\n"
		"builder = \"hvm\"\n"
		"memory = 2048\n"
		"disk = [ '/srv/win.img,,hda', '/srv/install.iso,,hdc,cdrom' ]\n"
		"boot = \"dc\"\n"
		"vif = [ 'type=ioemu, model=e1000, bridge=br0' ]\n"
		"acpi = 1\n"
		"vnc = 0\n"
		"firmware = \"bios\"\n"
		"bios_path_override = '/fw/bios-256k.bin'\n"
		"on_reboot = 'destroy'\n", &dc);

	CHECK_EQ(rc, 0);
	CHECK_EQ(dc.type, DOMCFG_TYPE_HVM);
	CHECK(dc.kernel == NULL);
	CHECK(dc.cmdline == NULL);
	CHECK_EQ(dc.memory_mib, 2048);
	CHECK_EQ(dc.maxmem_mib, 2048);
	CHECK_STR(dc.boot, "dc");
	CHECK_EQ(dc.firmware, DOMCFG_FW_SEABIOS);
	CHECK_STR(dc.bios_path, "/fw/bios-256k.bin");
	CHECK_EQ(dc.on_reboot, DOMCFG_ACTION_DESTROY);
	CHECK_EQ(dc.ndisks, 2);
	CHECK_EQ(dc.disks[0].bus, DOMCFG_BUS_HD);
	CHECK_EQ(dc.disks[0].index, 0);
	CHECK(!dc.disks[0].cdrom && !dc.disks[0].readonly);
	CHECK_EQ(dc.disks[1].index, 2);
	CHECK(dc.disks[1].cdrom && dc.disks[1].readonly);
	CHECK_EQ(dc.nics[0].type, DOMCFG_NIC_IOEMU);
	CHECK_STR(dc.nics[0].model, "e1000");
	CHECK_STR(mac_str(dc.nics[0].mac), "00:16:3e:23:63:7c");
	domcfg_free(&dc);
}

static void test_defaults(void)
{
	struct domain_config dc;

	CHECK_EQ(build("name = 'tiny'\nkernel = '/k'\n", &dc), 0);
	CHECK_EQ(dc.type, DOMCFG_TYPE_PV);      /* kernel given */
	CHECK_EQ(dc.memory_mib, 128);
	CHECK_EQ(dc.maxmem_mib, 128);
	CHECK_EQ(dc.vcpus, 1);
	CHECK(dc.cpus == NULL && dc.ramdisk == NULL && dc.cmdline == NULL);
	CHECK(!dc.rng && !dc.fv_devices && !dc.triple_fault_reset && !dc.pvm_aware);
	CHECK(dc.hvc_output == NULL && dc.hvc_input == NULL);
	CHECK_STR(dc.boot, "cd");
	CHECK_EQ(dc.firmware, DOMCFG_FW_DEFAULT);
	CHECK(dc.bios_path == NULL);
	CHECK_EQ(dc.on_poweroff, DOMCFG_ACTION_DESTROY);
	CHECK_EQ(dc.on_reboot, DOMCFG_ACTION_RESTART);
	CHECK_EQ(dc.on_crash, DOMCFG_ACTION_DESTROY);
	CHECK(dc.ndisks == 0 && dc.disks == NULL);
	CHECK(dc.nnics == 0 && dc.nics == NULL);
	domcfg_free(&dc);

	CHECK_EQ(build("name = 'fw'\n", &dc), 0);
	CHECK_EQ(dc.type, DOMCFG_TYPE_HVM);     /* no kernel: firmware boot */
	domcfg_free(&dc);

	/* builder="generic" is the old spelling of pv; numbers as strings */
	CHECK_EQ(build("name='g'\nbuilder='generic'\nkernel='/k'\n"
		       "memory='256'\nvcpus=\"4\"\n", &dc), 0);
	CHECK_EQ(dc.type, DOMCFG_TYPE_PV);
	CHECK_EQ(dc.memory_mib, 256);
	CHECK_EQ(dc.vcpus, 4);
	domcfg_free(&dc);

	CHECK_EQ(build("name='p'\ntype='pvh'\nkernel='/k'\nmemory=0x100\n"
		       "firmware='uefi'\nbios='ovmf'\nserial=['pty']\n",
		       &dc), 0);
	CHECK_EQ(dc.type, DOMCFG_TYPE_PVH);
	CHECK_EQ(dc.memory_mib, 256);
	CHECK_EQ(dc.firmware, DOMCFG_FW_OVMF);
	domcfg_free(&dc);
}

static void test_cmdline(void)
{
	struct domain_config dc;

	/* cmdline wins over root and extra, as in xl */
	CHECK_EQ(build("name='a'\nkernel='/k'\ncmdline='console=ttyS0'\n"
		       "root='/dev/xvda'\nextra='quiet'\n", &dc), 0);
	CHECK_STR(dc.cmdline, "console=ttyS0");
	domcfg_free(&dc);
	CHECK_EQ(build("name='a'\nkernel='/k'\nroot='/dev/xvda1'\n", &dc), 0);
	CHECK_STR(dc.cmdline, "root=/dev/xvda1");
	domcfg_free(&dc);
	CHECK_EQ(build("name='a'\nkernel='/k'\nextra='init=/bin/sh'\n", &dc),
		 0);
	CHECK_STR(dc.cmdline, "init=/bin/sh");
	domcfg_free(&dc);
	/* += builds up a command line across lines */
	CHECK_EQ(build("name='a'\nkernel='/k'\nextra='console=hvc0'\n"
		       "extra += ' quiet'\n", &dc), 0);
	CHECK_STR(dc.cmdline, "console=hvc0 quiet");
	domcfg_free(&dc);
}

struct disk_case {
	const char *spec;
	const char *target;
	enum domcfg_disk_format format;
	const char *vdev;
	unsigned index;
	bool readonly, cdrom;
};

static void test_disk_specs(void)
{
	/* The equivalences of xl-disk-configuration(5), and old forms. */
	static const struct disk_case ok[] = {
		{ "/dev/vg/guest-volume,,hda", "/dev/vg/guest-volume",
		  DOMCFG_DISK_RAW, "hda", 0, false, false },
		{ "/dev/vg/guest-volume,raw,hda,rw", "/dev/vg/guest-volume",
		  DOMCFG_DISK_RAW, "hda", 0, false, false },
		{ "format=raw, vdev=hda, access=rw, target=/dev/vg/guest-volume",
		  "/dev/vg/guest-volume", DOMCFG_DISK_RAW, "hda", 0, false,
		  false },
		{ "raw:/dev/vg/guest-volume,hda,w", "/dev/vg/guest-volume",
		  DOMCFG_DISK_RAW, "hda", 0, false, false },
		{ "/root/image.iso,,hdc,cdrom", "/root/image.iso",
		  DOMCFG_DISK_RAW, "hdc", 2, true, true },
		{ "/root/image.iso,,hdc,,cdrom", "/root/image.iso",
		  DOMCFG_DISK_RAW, "hdc", 2, true, true },
		{ "/root/image.iso,raw,hdc,devtype=cdrom", "/root/image.iso",
		  DOMCFG_DISK_RAW, "hdc", 2, true, true },
		{ "format=raw, vdev=hdc, access=ro, devtype=cdrom, "
		  "target=/root/image.iso", "/root/image.iso", DOMCFG_DISK_RAW,
		  "hdc", 2, true, true },
		{ "raw:/root/image.iso,hdc:cdrom,ro", "/root/image.iso",
		  DOMCFG_DISK_RAW, "hdc", 2, true, true },
		/* Domus: the old three-field form also without a prefix */
		{ "/path/x.iso,hdc:cdrom,r", "/path/x.iso", DOMCFG_DISK_RAW,
		  "hdc", 2, true, true },
		{ "/srv/x.img,xvdb,w", "/srv/x.img", DOMCFG_DISK_RAW, "xvdb", 1,
		  false, false },
		{ "file:/path,xvda,w", "/path", DOMCFG_DISK_RAW, "xvda", 0,
		  false, false },
		{ "phy:/dev/vg/x,xvdb,r", "/dev/vg/x", DOMCFG_DISK_RAW, "xvdb",
		  1, true, false },
		{ "tap:aio:/x.img,xvda,w", "/x.img", DOMCFG_DISK_RAW, "xvda", 0,
		  false, false },
		{ "tap:qcow2:/x.qcow2,xvda,w", "/x.qcow2", DOMCFG_DISK_QCOW2,
		  "xvda", 0, false, false },
		{ "/x.qcow2,qcow2,xvdc", "/x.qcow2", DOMCFG_DISK_QCOW2, "xvdc",
		  2, false, false },
		{ "vdev=xvdc, target=/a,b, c.img", "/a,b, c.img",
		  DOMCFG_DISK_RAW, "xvdc", 2, false, false },
		{ "  /x.img , , xvdaa", "/x.img", DOMCFG_DISK_RAW, "xvdaa", 26,
		  false, false },
		{ "/x.img,,d3,ro", "/x.img", DOMCFG_DISK_RAW, "d3", 3, true,
		  false },
		/* xend's empty CD-ROM drive */
		{ ",hdc:cdrom,r", "", DOMCFG_DISK_EMPTY, "hdc", 2, true, true },
		{ "vdev=hdd, devtype=cdrom", "", DOMCFG_DISK_EMPTY, "hdd", 3,
		  true, true },
		{ "cdrom, vdev=hdc", "", DOMCFG_DISK_EMPTY, "hdc", 2, true,
		  true },
	};
	struct domcfg_disk d;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int rc = domcfg_parse_disk(ok[i].spec, &d, err, sizeof(err));

		CHECK_EQ(rc, 0);
		if (rc) {
			fprintf(stderr, "  spec '%s': %s\n", ok[i].spec, err);
			continue;
		}
		CHECK_STR(d.target, ok[i].target);
		CHECK_EQ(d.format, ok[i].format);
		CHECK_STR(d.vdev, ok[i].vdev);
		CHECK_EQ(d.index, ok[i].index);
		CHECK_EQ(d.readonly, ok[i].readonly);
		CHECK_EQ(d.cdrom, ok[i].cdrom);
		CHECK(d.discard);
		domcfg_disk_free(&d);
	}

	CHECK_EQ(domcfg_parse_disk("/x,,xvdb3,no-discard,direct-io-safe", &d,
				   err, sizeof(err)), 0);
	CHECK(!d.discard);
	CHECK_EQ(d.partition, 3);
	CHECK_EQ(d.bus, DOMCFG_BUS_XVD);
	domcfg_disk_free(&d);
	CHECK_EQ(domcfg_parse_disk("/x,,sdb,backendtype=phy,backend=0", &d,
				   err, sizeof(err)), 0);
	CHECK_EQ(d.bus, DOMCFG_BUS_SD);
	domcfg_disk_free(&d);
}

static void test_disk_spec_errors(void)
{
	static const struct { const char *spec, *msg; } bad[] = {
		{ "/x.img,qcow3,xvda", "unknown format 'qcow3'" },
		{ "/x.img,,xvda,rx", "unknown access 'rx' (use r, ro, w or rw)" },
		{ "/x.img,,foo", "bad vdev 'foo' (use xvdX, hdX, sdX or dNpM)" },
		{ "/x.img,,hde", "bad vdev 'hde' (use xvdX, hdX, sdX or dNpM)" },
		{ "/x.img", "missing vdev" },
		{ "", "missing vdev" },
		{ "/x.img,,xvda,w,more", "too many positional parameters at "
		  "'more'" },
		{ "frob=1,/x,,xvda", "unknown parameter 'frob'" },
		{ "script=block-iscsi,vdev=xvda,target=iqn.x", "block scripts "
		  "are not supported" },
		{ "iscsi:iqn.2001-04.com.example,xvda,w", "'iscsi:' disks need "
		  "block scripts, which are not supported" },
		{ "foo:/x.img,xvda,w", "unknown disk prefix 'foo:'" },
		{ ",,hdc", "missing target (only a CD-ROM drive may be empty)" },
		{ "/x.iso,,hdc,w,cdrom", "a CD-ROM cannot be writable" },
		{ "/x.iso,,hdc1,cdrom", "a CD-ROM cannot be a partition" },
		{ "format=raw,format=qcow2,vdev=xvda,target=/x",
		  "format given twice" },
		{ "vdev=xvda,vdev=xvdb,target=/x", "vdev given twice" },
		{ "/x,,hdc,devtype=floppy", "unknown devtype 'floppy' (use cdrom "
		  "or disk)" },
		{ "/x,,hdc:floppy", "unknown device type 'floppy' after vdev "
		  "(use cdrom or disk)" },
		{ "/x,,xvda,backend=driverdom", "backend domains are not "
		  "supported" },
		{ "/x,,xvda,colo", "COLO is not supported" },
		{ "/x,,xvda,backendtype=nbd", "unknown backendtype 'nbd'" },
		{ "/x,empty,xvda", "format 'empty' with a target" },
		{ "/x,,xvda,=1", "bad disk parameter '=1' (give a target with "
		  "'=' or ',' last, as target=...)" },
		{ "/a=b.img,,xvda", "bad disk parameter '/a=b.img' (give a "
		  "target with '=' or ',' last, as target=...)" },
		{ "/x\n,,\x01", "bad vdev '\\x01' (use xvdX, hdX, sdX or dNpM)" },
	};
	struct domcfg_disk d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(domcfg_parse_disk(bad[i].spec, &d, err, sizeof(err)),
			 -EINVAL);
		CHECK_STR(err, bad[i].msg);
		CHECK(d.target == NULL && d.vdev == NULL);
	}
}

static void test_vdev_names(void)
{
	static const struct {
		const char *name;
		enum domcfg_vdev_bus bus;
		unsigned index, part;
	} ok[] = {
		{ "xvda", DOMCFG_BUS_XVD, 0, 0 },
		{ "xvdz", DOMCFG_BUS_XVD, 25, 0 },
		{ "xvdaa", DOMCFG_BUS_XVD, 26, 0 },
		{ "xvdb2", DOMCFG_BUS_XVD, 1, 2 },
		{ "xvdtq37", DOMCFG_BUS_XVD, 536, 37 },  /* xen-vbd-interface */
		{ "hdd", DOMCFG_BUS_HD, 3, 0 },
		{ "hdc2", DOMCFG_BUS_HD, 2, 2 },
		{ "hda63", DOMCFG_BUS_HD, 0, 63 },
		{ "sdb3", DOMCFG_BUS_SD, 1, 3 },
		{ "sdp15", DOMCFG_BUS_SD, 15, 15 },
		{ "d0", DOMCFG_BUS_XVD, 0, 0 },
		{ "d0p0", DOMCFG_BUS_XVD, 0, 0 },
		{ "d536p37", DOMCFG_BUS_XVD, 536, 37 },
	};
	static const char *const bad[] = {
		"", "xvd", "xvdA", "hde", "sdq", "xvda0", "xvda01", "d", "dp1",
		"d01", "d1p", "hda64", "sda16", "xvdaaaaa", "xvda256", "hdaa",
		"vda", "0x300", "xvda1x", "d1048576",
	};
	enum domcfg_vdev_bus bus;
	unsigned idx, part;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		idx = part = 99;
		CHECK_EQ(domcfg_parse_vdev(ok[i].name, &bus, &idx, &part), 0);
		CHECK_EQ(bus, ok[i].bus);
		CHECK_EQ(idx, ok[i].index);
		CHECK_EQ(part, ok[i].part);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = domcfg_parse_vdev(bad[i], &bus, &idx, &part);

		CHECK_EQ(rc, -EINVAL);
		if (rc != -EINVAL)
			fprintf(stderr, "  vdev '%s' accepted\n", bad[i]);
	}
}

static void test_nic_specs(void)
{
	struct domcfg_nic n;

	CHECK_EQ(domcfg_parse_nic("mac=00:16:3E:74:3d:76,model=rtl8139,"
				  "bridge=xenbr0", &n, err, sizeof(err)), 0);
	CHECK_STR(mac_str(n.mac), "00:16:3e:74:3d:76");
	CHECK(!n.mac_auto);
	CHECK_STR(n.model, "rtl8139");
	CHECK_STR(n.bridge, "xenbr0");
	CHECK_EQ(n.devid, -1);
	domcfg_nic_free(&n);

	CHECK_EQ(domcfg_parse_nic("", &n, err, sizeof(err)), 0);
	CHECK(n.mac_auto && n.bridge == NULL && n.model == NULL);
	CHECK_EQ(n.type, DOMCFG_NIC_IOEMU);
	domcfg_nic_free(&n);

	CHECK_EQ(domcfg_parse_nic(" bridge = br0 , mac=00:16:3e:5f:48:e4, "
				  "type=vif,vifname=web0,devid=3,"
				  "ip=10.0.0.2,script=vif-bridge,"
				  "gatewaydev=eth0,backend=Domain-0,", &n, err,
				  sizeof(err)), 0);
	CHECK_STR(n.bridge, "br0");
	CHECK_STR(mac_str(n.mac), "00:16:3e:5f:48:e4");
	CHECK_EQ(n.type, DOMCFG_NIC_VIF);
	CHECK_STR(n.vifname, "web0");
	CHECK_EQ(n.devid, 3);
	CHECK_STR(n.ip, "10.0.0.2");
	domcfg_nic_free(&n);

	/* a later repeat of a key wins, as in xl */
	CHECK_EQ(domcfg_parse_nic("bridge=br0,bridge=br1", &n, err,
				  sizeof(err)), 0);
	CHECK_STR(n.bridge, "br1");
	domcfg_nic_free(&n);
}

static void test_nic_spec_errors(void)
{
	static const struct { const char *spec, *msg; } bad[] = {
		{ "mac=00:16:3e:zz:00:00", "bad MAC address '00:16:3e:zz:00:00' "
		  "(want six hex pairs like 00:16:3e:12:34:56)" },
		{ "mac=00:16:3e:00:00", "bad MAC address '00:16:3e:00:00' (want "
		  "six hex pairs like 00:16:3e:12:34:56)" },
		{ "mac=00:16:3e:00:00:001", "bad MAC address '00:16:3e:00:00:001' "
		  "(want six hex pairs like 00:16:3e:12:34:56)" },
		{ "mac=01:00:5e:00:00:01", "MAC address '01:00:5e:00:00:01' is "
		  "multicast" },
		{ "colour=blue", "unknown vif option 'colour'" },
		{ "bridge", "vif option 'bridge' is not key=value" },
		{ "bridge=abcdefghijklmnop", "bad bridge 'abcdefghijklmnop' (an "
		  "interface name of 1-15 characters)" },
		{ "vifname=a/b", "bad vifname 'a/b' (an interface name of 1-15 "
		  "characters)" },
		{ "bridge=", "bad bridge '' (an interface name of 1-15 "
		  "characters)" },
		{ "model=e1000;x", "bad model 'e1000;x'" },
		{ "type=virtio", "bad type 'virtio' (use ioemu or vif)" },
		{ "mtu=10", "bad mtu '10' (68-65535)" },
		{ "devid=x", "bad devid 'x' (0-1023)" },
		{ "rate=fast", "bad rate 'fast' (like 10Mb/s or 1MB/s@20ms)" },
		{ "rate=0MB/s", "bad rate '0MB/s' (like 10Mb/s or 1MB/s@20ms)" },
		{ "rate=1MB/s@", "bad rate '1MB/s@' (like 10Mb/s or 1MB/s@20ms)" },
		{ "backend=dd", "backend domains are not supported" },
	};
	struct domcfg_nic n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(domcfg_parse_nic(bad[i].spec, &n, err, sizeof(err)),
			 -EINVAL);
		CHECK_STR(err, bad[i].msg);
		CHECK(n.bridge == NULL && n.model == NULL);
	}
}

static void test_mac(void)
{
	uint8_t a[6], b[6];

	/* golden values: the hash is part of the on-disk contract */
	domcfg_derive_mac("web", 0, a);
	CHECK_STR(mac_str(a), "00:16:3e:5f:9e:90");
	domcfg_derive_mac("web", 1, a);
	CHECK_STR(mac_str(a), "00:16:3e:0f:b7:39");
	domcfg_derive_mac("", 0, a);
	CHECK_STR(mac_str(a), "00:16:3e:17:a6:96");
	domcfg_derive_mac("web", 0, b);
	domcfg_derive_mac("web", 0, a);
	CHECK(!memcmp(a, b, 6));
	/* always Xen's OUI, unicast, lower half of the OUI's space */
	for (unsigned i = 0; i < 64; i++) {
		domcfg_derive_mac("a-somewhat-longer-domain-name", i, a);
		CHECK(a[0] == 0x00 && a[1] == 0x16 && a[2] == 0x3e);
		CHECK((a[3] & 0x80) == 0);
	}
	CHECK_EQ(domcfg_parse_mac("00:16:3E:0a:0B:ff", a), 0);
	CHECK_STR(mac_str(a), "00:16:3e:0a:0b:ff");
	CHECK_EQ(domcfg_parse_mac("00-16-3e-0a-0b-ff", a), -EINVAL);
	CHECK_EQ(domcfg_parse_mac("", a), -EINVAL);
	CHECK_EQ(domcfg_parse_mac("0:16:3e:0a:0b:ff", a), -EINVAL);
}

static void test_nic_devids(void)
{
	struct domain_config dc;

	/* explicit devids are kept; the others take the lowest free ones */
	CHECK_EQ(build("name='n'\nvif=['devid=0', '', 'devid=2', '']\n", &dc),
		 0);
	CHECK_EQ(dc.nnics, 4);
	CHECK_EQ(dc.nics[0].devid, 0);
	CHECK_EQ(dc.nics[1].devid, 1);
	CHECK_EQ(dc.nics[2].devid, 2);
	CHECK_EQ(dc.nics[3].devid, 3);
	for (size_t i = 1; i < dc.nnics; i++)
		CHECK(memcmp(dc.nics[i].mac, dc.nics[0].mac, 6) != 0);
	domcfg_free(&dc);

	expect_build_error("name='n'\nvif=['devid=1',\n 'devid=1']\n",
			   "vm.cfg:3: vif 'devid=1': devid 1 is used twice");
	expect_build_error("name='n'\nvif=['mac=00:16:3e:00:00:01',\n"
			   "'mac=00:16:3e:00:00:01']\n", "vm.cfg:3: vif "
			   "'mac=00:16:3e:00:00:01': MAC address is used twice");
}

static void test_build_errors(void)
{
	expect_build_error("name = 'a'\nkernel = '/k'\n\n\n\n\nfoo = 1\n",
			   "vm.cfg:7: unknown key 'foo'");
	expect_build_error("name = 'a'\nbootloader = 'pygrub'\n",
			   "vm.cfg:2: key 'bootloader' is not supported by "
			   "Domus");
	expect_build_error("Name = 'a'\n", "vm.cfg:1: unknown key 'Name'");
	expect_build_error("name = 'a'\nmemory = 0\n", "vm.cfg:2: 'memory' "
			   "must be between 1 and 16777216, not 0");
	expect_build_error("name = 'a'\nvcpus = 0\n", "vm.cfg:2: 'vcpus' must "
			   "be between 1 and 255, not 0");
	expect_build_error("name = 'a'\nvcpus = 256\n", "vm.cfg:2: 'vcpus' "
			   "must be between 1 and 255, not 256");
	expect_build_error("name = 'a'\nmemory = 'lots'\n", "vm.cfg:2: "
			   "'memory' must be a number, not 'lots'");
	expect_build_error("name = 'a'\nmemory = [512]\n", "vm.cfg:2: "
			   "'memory' must be a number, not a list");
	expect_build_error("name = 'a'\nmemory = 512\nmaxmem = 256\n",
			   "vm.cfg:3: 'maxmem' (256) is less than 'memory' "
			   "(512)");
	expect_build_error("memory = 512\n", "vm.cfg: missing 'name'");
	expect_build_error("name = ''\n", "vm.cfg:1: 'name' is empty");
	expect_build_error("name = 'a/b'\n", "vm.cfg:1: bad name 'a/b' (1-64 "
			   "letters, digits, '-', '_', '.'; not starting with "
			   "'-' or '.')");
	expect_build_error("name = ['a']\n", "vm.cfg:1: 'name' must be a "
			   "string, not a list");
	expect_build_error("name = 'a'\ntype = 'xen'\n", "vm.cfg:2: bad type "
			   "'xen' (use pv, pvh, hvm)");
	expect_build_error("name = 'a'\ntype = 'pv'\n", "vm.cfg:2: a pv guest "
			   "needs a 'kernel'");
	expect_build_error("name = 'a'\nbuilder = 'linux'\n", "vm.cfg:2: bad "
			   "builder 'linux' (use generic, hvm)");
	expect_build_error("name = 'a'\nkernel='/k'\ntype='pv'\n"
			   "builder='hvm'\n", "vm.cfg:4: 'builder' contradicts "
			   "'type'");
	expect_build_error("name = 'a'\nboot = 'cx'\n", "vm.cfg:2: bad boot "
			   "letter 'x' (use c, d, n)");
	expect_build_error("name = 'a'\nboot = 'cc'\n", "vm.cfg:2: boot "
			   "letter 'c' given twice");
	expect_build_error("name = 'a'\nboot = ''\n", "vm.cfg:2: bad boot '' "
			   "(up to three of c, d, n)");
	expect_build_error("name = 'a'\non_crash = 'explode'\n", "vm.cfg:2: "
			   "bad on_crash 'explode' (use destroy, restart, "
			   "rename-restart, preserve, coredump-destroy, "
			   "coredump-restart)");
	expect_build_error("name = 'a'\nacpi = 2\n", "vm.cfg:2: 'acpi' must "
			   "be 0 or 1");
	expect_build_error("name = 'a'\nvnc = 'yes'\n", "vm.cfg:2: 'vnc' must "
			   "be 0 or 1");
	expect_build_error("name = 'a'\nfirmware = 'coreboot'\n", "vm.cfg:2: "
			   "bad firmware 'coreboot' (use bios, seabios, uefi or "
			   "ovmf)");
	expect_build_error("name = 'a'\nbios = 'rombios'\n", "vm.cfg:2: 'bios' "
			   "rombios is not supported (use seabios)");
	expect_build_error("name = 'a'\nfirmware = 'uefi'\nbios = 'seabios'\n",
			   "vm.cfg:3: 'bios' contradicts 'firmware'");
	expect_build_error("name = 'a'\nbios_path_override = ''\n",
			   "vm.cfg:2: 'bios_path_override' is empty");
	expect_build_error("name = 'a'\nserial = ['pty', 'pty']\n", "vm.cfg:2: "
			   "'serial' lists more than one port; Domus has one "
			   "serial port");
	expect_build_error("name = 'a'\ndisk = '/x,,xvda'\n", "vm.cfg:2: "
			   "'disk' must be a list of strings, not a string");
	expect_build_error("name = 'a'\ndisk = [['/x,,xvda']]\n", "vm.cfg:2: "
			   "'disk' entries must be strings, not a list");
	expect_build_error("name = 'a'\ndisk = [1]\n", "vm.cfg:2: 'disk' "
			   "entries must be strings, not a number");
	expect_build_error("name = 'a'\ndisk = ['/a,,xvda',\n\n'/b,,xvda']\n",
			   "vm.cfg:4: disk '/b,,xvda': vdev 'xvda' is used "
			   "twice");
	expect_build_error("name = 'a'\ndisk = ['/a,,xvda',\n'/b,,xvdq,x']\n",
			   "vm.cfg:3: disk '/b,,xvdq,x': unknown access 'x' "
			   "(use r, ro, w or rw)");
	expect_build_error("name = 'a'\nvif = [\n'bridge=br0',\n"
			   "'mac=00:16:3e:00:00:0g']\n", "vm.cfg:4: vif "
			   "'mac=00:16:3e:00:00:0g': bad MAC address "
			   "'00:16:3e:00:00:0g' (want six hex pairs like "
			   "00:16:3e:12:34:56)");
	expect_build_error("name = 'a'\nvif = 'bridge=br0'\n", "vm.cfg:2: "
			   "'vif' must be a list of strings, not a string");
	expect_build_error("name = 'a'\nkernel = ''\n", "vm.cfg:2: 'kernel' is "
			   "empty");
}

static void test_load_with_overrides(void)
{
	char path[] = "/tmp/test_domcfg_XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "name = 'web'\nkernel = '/k'\nmemory = 256\n";
	const char *const ov[] = { "memory=1024", "vcpus = 2; extra='quiet'" };
	const char *const bad[] = { "memory=1024", "colour='blue'" };
	struct domain_config dc;
	char expect[300];

	CHECK(fd >= 0);
	CHECK_EQ(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	close(fd);
	CHECK_EQ(domcfg_load(path, ov, 2, &dc, err, sizeof(err)), 0);
	CHECK_EQ(dc.memory_mib, 1024);
	CHECK_EQ(dc.vcpus, 2);
	CHECK_STR(dc.cmdline, "quiet");
	domcfg_free(&dc);
	CHECK_EQ(domcfg_load(path, bad, 2, &dc, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "command line:1: unknown key 'colour'");
	CHECK_EQ(domcfg_load(path, NULL, 0, &dc, err, sizeof(err)), 0);
	CHECK_EQ(dc.memory_mib, 256);
	domcfg_free(&dc);
	unlink(path);
	CHECK_EQ(domcfg_load(path, NULL, 0, &dc, err, sizeof(err)), -ENOENT);
	snprintf(expect, sizeof(expect), "%s: cannot read: %s", path,
		 strerror(ENOENT));
	CHECK_STR(err, expect);
	CHECK(dc.name == NULL);
}

static void test_names(void)
{
	CHECK_STR(domcfg_type_name(DOMCFG_TYPE_PVH), "pvh");
	CHECK_STR(domcfg_action_name(DOMCFG_ACTION_COREDUMP_RESTART),
		  "coredump-restart");
	CHECK_STR(domcfg_format_name(DOMCFG_DISK_QCOW2), "qcow2");
	CHECK_STR(domcfg_format_name((enum domcfg_disk_format)99), "?");
}

UNIT_MAIN(test_pv_domain, test_hvm_domain, test_defaults, test_cmdline,
	  test_disk_specs, test_disk_spec_errors, test_vdev_names,
	  test_nic_specs, test_nic_spec_errors, test_mac, test_nic_devids,
	  test_build_errors, test_load_with_overrides, test_names)
