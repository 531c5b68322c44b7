"""Issue 3: the guest kit (Linux 6.1 with Domus's PV patches + busybox) and Debian's stock
kernel, booted by `domus run`. The kit is built by tools/kit/build.sh (tools/prepare-guests.sh
runs it before the suite); a missing kit is a failure, not a skip."""
import os
import re
import subprocess
import time

import pytest

from conftest import CACHE, Live, domus

KIT = os.path.join(CACHE, "kit")
VMLINUX = os.path.join(KIT, "vmlinux")
BZIMAGE = os.path.join(KIT, "bzImage")
INITRD = os.path.join(KIT, "initramfs.cpio")
STOCK = os.path.join(CACHE, "stock", "vmlinuz")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kit():
    for f in (VMLINUX, BZIMAGE, INITRD):
        assert os.path.exists(f), f + " missing: run tools/kit/build.sh (tools/prepare-guests.sh)"
    return KIT


def kit_args(cmdline, memory=128, vcpus=1, kernel=VMLINUX):
    return ["run", "--kernel", kernel, "--initrd", INITRD, "--memory", memory, "--vcpus", vcpus,
            "--cmdline", "console=ttyS0 " + cmdline]


def facts(out):
    return dict(re.findall(r"^(\w+)=(\S+)\r?$", out, re.M))


@pytest.mark.parametrize("vcpus,memory", [(1, 128), (2, 128), (1, 1024), (2, 1024)])
def test_kit_reports_cpus_memory_and_date(kit, vcpus, memory):
    before = time.time()
    r = domus(*kit_args("kit.run=info", memory, vcpus), timeout=300)
    after = time.time()
    assert r.rc == 0, r
    assert "domus-kit: ready" in r.out, r
    f = facts(r.out)
    assert f.get("nproc") == str(vcpus), r
    assert f.get("cpus_present") == str(vcpus), r
    # MemTotal is RAM less what the kernel keeps (its image, page tables, initramfs): with an
    # initramfs of a few MiB that is well under a fifth of 128 MiB, and never more than RAM.
    memtotal = int(f["memtotal_kb"])
    assert memory * 1024 * 0.8 < memtotal <= memory * 1024, r
    # The guest's clock comes from the CMOS RTC Domus fills from the host's time.
    assert before - 5 <= int(f["date"]) <= after + 5, r


def test_kit_bzimage_boots_too(kit):
    r = domus(*kit_args("kit.run=info", kernel=BZIMAGE), timeout=300)
    assert r.rc == 0, r
    assert facts(r.out).get("nproc") == "1", r


def test_kit_shell_poweroff_exits_zero(kit):
    g = Live(kit_args(""))
    g.wait_for("domus-kit# ", timeout=240)
    g.send("echo shell-$((6 * 7))\n")
    g.wait_for("shell-42", timeout=60)
    g.send("poweroff\n")
    assert g.wait(timeout=120) == 0, g.text()[-2000:]
    assert "domus-kit: powering off" in g.text()


def test_kit_reboot_boots_again(kit):
    g = Live(kit_args("kit.run=reboot"))
    g.wait_for("domus-kit: rebooting", timeout=240)
    # The second banner can only come from a fresh boot of the same domain in the same process.
    deadline = time.monotonic() + 240
    while g.text().count("domus-kit: ready") < 2:
        assert g.p.poll() is None, "domus exited instead of rebooting:\n" + g.text()[-3000:]
        assert time.monotonic() < deadline, "no second boot:\n" + g.text()[-3000:]
        time.sleep(0.5)
    assert g.text().count("Linux version") >= 2
    g.p.terminate()
    assert g.wait(timeout=60) == 128 + 15


def test_kit_reboot_with_no_reboot_exits_3(kit):
    r = domus(*kit_args("kit.run=reboot"), "--no-reboot", timeout=300)
    assert r.rc == 3, r
    assert r.out.count("domus-kit: ready") == 1, r


def test_kit_panic_is_a_crash_with_the_panic_text(kit):
    r = domus(*kit_args("kit.run=panic"), timeout=300)
    assert r.rc == 4, r
    assert "Kernel panic - not syncing" in r.out, r
    assert "panic" in r.err.lower(), r


def test_kit_probes_virtio_disk_and_nic(kit, tmp_path):
    img = tmp_path / "disk.img"
    with open(img, "wb") as f:
        f.truncate(64 << 20)
    br = "br-dprobe"
    subprocess.run(["ip", "link", "del", br], capture_output=True)
    subprocess.run(["ip", "link", "add", br, "type", "bridge"], check=True)
    try:
        g = Live(kit_args("") + ["--disk", str(img), "--net", "bridge=" + br, "--rng"])
        g.wait_for("domus-kit# ", timeout=240)
        g.send("cat /sys/block/vda/size; readlink /sys/class/net/eth0/device/driver;"
               " cat /sys/class/net/eth0/address; cat /sys/class/misc/hw_random/rng_current;"
               " echo probe-$((40 + 2))\n")
        # computed, so that the echo of the command line itself cannot match
        g.wait_for("probe-42", timeout=60)
        out = g.text()
        assert re.search(r"^131072\r?$", out, re.M), out[-2000:]  # 64 MiB in 512-byte sectors
        assert re.search(r"/virtio_net\r?$", out, re.M), out[-2000:]
        assert re.search(r"^00:16:3e(:[0-9a-f]{2}){3}\r?$", out, re.M), out[-2000:]
        assert re.search(r"^virtio_rng\.\d+\r?$", out, re.M), out[-2000:]
        g.send("poweroff\n")
        assert g.wait(timeout=120) == 0
    finally:
        subprocess.run(["ip", "link", "del", br], capture_output=True)


def host_is_pvm():
    r = domus("info")
    return r.out.startswith("host_virtualization : PVM")


def test_stock_kernel_reaches_init():
    assert os.path.exists(STOCK), STOCK + " missing: run tools/kit/fetch-stock.sh"
    # Debian's unmodified kernel with the kit's initramfs: its log must reach user space's
    # door. On a VT-x/AMD-V host it then runs the kit's /init; on a PVM host it cannot (see
    # tools/kit/README.md): the first system call of /init faults, and Domus ends the domain
    # saying why instead of leaving a panicked guest behind.
    g = Live(["run", "--kernel", STOCK, "--initrd", INITRD, "--memory", 512, "--cmdline",
              "console=ttyS0 kit.run=info"])
    g.wait_for("Run /init as init process", timeout=900)
    if host_is_pvm():
        assert g.wait(timeout=300) == 5, g.text()[-3000:]
        err = g.err.decode(errors="replace")
        assert "user space cannot run on this PVM host" in err, err
        assert "domus-kit: ready" not in g.text()
    else:
        g.wait_for("domus-kit: ready", timeout=300)
        assert g.wait(timeout=300) == 0, g.text()[-3000:]
