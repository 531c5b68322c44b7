"""Issue 4, item 8: the virtio devices under a real Linux (the guest kit: Linux 6.1 with its own
virtio-pci, virtio-blk and virtio-net drivers, busybox user space), driven through its serial
console shell.

The kit comes from tools/kit/build.sh (tools/prepare-guests.sh builds it before the tests)."""
import hashlib
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import CACHE, Live, domus

pytestmark = pytest.mark.slow

KIT = os.path.join(CACHE, "kit")
MIB = 1 << 20
BR = "br-dkit"
HOST_IP, GUEST_IP = "10.77.0.1", "10.77.0.2"
GUEST_MAC = "00:16:3e:4b:49:54"


def kit_files():
    k, i = os.path.join(KIT, "vmlinux"), os.path.join(KIT, "initramfs.cpio")
    assert os.path.exists(k) and os.path.exists(i), \
        "guest kit missing in %s (run tools/prepare-guests.sh)" % KIT
    return k, i


class Kit(Live):
    """The kit's console shell: one command at a time, each ended by a marker line that
    carries its exit status (the echoed command line never matches it: the quotes split it)."""

    def __init__(self, args, memory=256):
        k, i = kit_files()
        super().__init__(["run", "--kernel", k, "--initrd", i, "--memory", memory,
                          "--cmdline", "console=ttyS0 quiet"] + list(args))
        self.seq = 0
        self.mark = 0  # where in stdout the next wait starts

    def expect(self, pattern, timeout=120):
        """Wait for regex pattern in stdout after the last match; returns the match."""
        rx = re.compile(pattern.encode())
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.out, self.mark)
                if m:
                    self.mark = m.end()
                    return m
                left = deadline - time.monotonic()
                if left <= 0 or (self.p.poll() is not None and not self.t_out.is_alive()):
                    self.kill()
                    pytest.fail("did not see %r within %ss (rc=%s); stdout:\n%s\nstderr:\n%s" % (
                        pattern, timeout, self.p.returncode, self.text()[-3000:],
                        self.err.decode(errors="replace")[-2000:]), pytrace=False)
                self.cond.wait(min(left, 0.5))

    def booted(self, timeout=180):
        self.expect(r"domus-kit: ready", timeout)
        self.expect(r"domus-kit# ", 30)

    def sh(self, cmd, timeout=120, ok=True):
        """Run cmd in the guest shell; returns (status, output text)."""
        self.seq += 1
        start = len(self.out)
        self.send('%s; echo "@@K%d" "$?@@"\n' % (cmd, self.seq))
        m = self.expect(r"@@K%d (\d+)@@" % self.seq, timeout)
        text = self.out[start:m.start()].decode(errors="replace")
        rc = int(m.group(1))
        if ok:
            assert rc == 0, "guest command %r failed (%d):\n%s" % (cmd, rc, text)
        return rc, text


def seq_bytes(n):
    """What busybox `seq 1 n` prints: a file whose every line differs, so a block written to
    the wrong place or lost is seen."""
    return "".join("%d\n" % i for i in range(1, n + 1)).encode()


def sha(data):
    return hashlib.sha256(data).hexdigest()


def guest_sha(k, path, timeout=120):
    _, out = k.sh("sha256sum " + path, timeout)
    m = re.search(r"\b([0-9a-f]{64})\s+" + re.escape(path), out)
    assert m, out
    return m.group(1)


def test_kit_blk_mkfs_write_reboot_verify(tmp_path):
    img = str(tmp_path / "kit.img")
    with open(img, "wb") as f:
        f.truncate(64 * MIB)
    data = seq_bytes(200000)  # 1.3 MB
    t0 = time.monotonic()
    k = Kit(["--disk", img + ",name=kitdisk"])
    k.booted()
    t_boot = time.monotonic() - t0
    _, out = k.sh("cat /sys/block/vda/serial /sys/block/vda/size")
    assert "kitdisk" in out and str(64 * MIB // 512) in out, out
    k.sh("mke2fs -q /dev/vda", 300)
    k.sh("mount -t ext2 /dev/vda /mnt")
    t1 = time.monotonic()
    k.sh("seq 1 200000 > /mnt/data && sync", 300)
    t_write = time.monotonic() - t1
    assert guest_sha(k, "/mnt/data") == sha(data)
    # Reboot with the file system still mounted: only what sync wrote is on the disk. The
    # monitor restarts the guest in the same process and opens the image again.
    k.send("reboot\n")
    k.expect(r"domus-kit: rebooting", 60)
    k.booted()
    k.sh("mount -t ext2 /dev/vda /mnt")
    assert guest_sha(k, "/mnt/data") == sha(data), "the file changed across the reboot"
    k.sh("echo after-reboot > /mnt/second && umount /mnt && sync")
    k.send("poweroff\n")
    assert k.wait(120) == 0, k.text()[-2000:]
    # The host sees the same file system in the image.
    debugfs = shutil.which("debugfs") or "/sbin/debugfs"
    fsck = shutil.which("e2fsck") or "/sbin/e2fsck"
    r = subprocess.run([fsck, "-fn", img], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([debugfs, "-R", "cat /data", img], capture_output=True)
    assert sha(r.stdout) == sha(data), r.stderr
    r = subprocess.run([debugfs, "-R", "cat /second", img], capture_output=True)
    assert r.stdout == b"after-reboot\n", r.stderr
    print("kit-blk: boot %.1f s, seq+sync %.1f s, whole test %.1f s" %
          (t_boot, t_write, time.monotonic() - t0))


@pytest.fixture
def host_bridge():
    """A bridge with an address on the (nested) host: the guest's TAP joins it."""
    subprocess.run(["ip", "link", "del", BR], capture_output=True)
    subprocess.run(["ip", "link", "add", BR, "type", "bridge"], check=True)
    subprocess.run(["ip", "addr", "add", HOST_IP + "/24", "dev", BR], check=True)
    subprocess.run(["ip", "link", "set", BR, "up"], check=True)
    yield BR
    subprocess.run(["ip", "link", "del", BR], capture_output=True)


def kit_on_bridge(bridge, memory=512):
    k = Kit(["--net", "bridge=%s,mac=%s" % (bridge, GUEST_MAC)], memory=memory)
    k.booted()
    _, out = k.sh("cat /sys/class/net/eth0/address")
    assert GUEST_MAC in out, out
    k.sh("ip addr add %s/24 dev eth0 && ip link set eth0 up" % GUEST_IP)
    return k


def host_receive(port, result):
    """Accept one connection on the host's bridge address; hash everything until EOF."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST_IP, port))
    s.listen(1)
    s.settimeout(300)
    try:
        c, _ = s.accept()
        c.settimeout(300)
        h, n = hashlib.sha256(), 0
        t0 = time.monotonic()
        while True:
            b = c.recv(1 << 20)
            if not b:
                break
            h.update(b)
            n += len(b)
        result.update(sha=h.hexdigest(), bytes=n, seconds=time.monotonic() - t0)
        c.close()
    except OSError as e:
        result["error"] = repr(e)
    finally:
        s.close()


def host_send(port, data, result):
    """Connect to the guest (retrying until its nc listens) and send data, then close."""
    deadline = time.monotonic() + 120
    while True:
        try:
            c = socket.create_connection((GUEST_IP, port), timeout=5)
            break
        except OSError as e:
            if time.monotonic() > deadline:
                result["error"] = repr(e)
                return
            time.sleep(0.5)
    try:
        c.settimeout(300)
        t0 = time.monotonic()
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)
        c.recv(1)  # the guest closes once it has everything
        result["seconds"] = time.monotonic() - t0
    except OSError as e:
        result["error"] = repr(e)
    finally:
        c.close()


def test_kit_net_ping_and_100mib_tcp_both_ways(host_bridge):
    size = 100 * MIB
    t0 = time.monotonic()
    k = kit_on_bridge(host_bridge)
    # ping both ways (the first also resolves ARP both ways)
    _, out = k.sh("ping -c 3 -W 10 " + HOST_IP, 120)
    assert " 0% packet loss" in out, out
    r = subprocess.run(["busybox", "ping", "-c", "3", "-W", "10", GUEST_IP],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and " 0% packet loss" in r.stdout, r.stdout + r.stderr

    # guest -> host: 100 MiB from the guest's RNG, hashed on both ends
    k.sh("dd if=/dev/urandom of=/tmp/out bs=1M count=100 2>/dev/null", 600)
    want = guest_sha(k, "/tmp/out", 600)
    got = {}
    rx = threading.Thread(target=host_receive, args=(5001, got), daemon=True)
    rx.start()
    t1 = time.monotonic()
    k.sh("nc %s 5001 < /tmp/out" % HOST_IP, 900)
    tx_s = time.monotonic() - t1
    rx.join(60)
    assert "error" not in got and got.get("bytes") == size, got
    assert got["sha"] == want, "guest->host data differs"
    k.sh("rm /tmp/out")

    # host -> guest: 100 MiB of host randomness
    data = os.urandom(size)
    sent = {}
    txt = threading.Thread(target=host_send, args=(5002, data, sent), daemon=True)
    txt.start()
    t1 = time.monotonic()
    k.sh("nc -l -p 5002 > /tmp/in < /dev/null", 900)
    rx_s = time.monotonic() - t1
    txt.join(60)
    assert "error" not in sent, sent
    _, out = k.sh("stat -c %s /tmp/in")
    assert str(size) in out, out
    assert guest_sha(k, "/tmp/in", 600) == sha(data), "host->guest data differs"
    k.send("poweroff\n")
    assert k.wait(120) == 0
    print("kit-net: guest->host %.1f s (%.1f MB/s), host->guest %.1f s (%.1f MB/s), "
          "whole test %.1f s" % (tx_s, size / tx_s / 1e6, rx_s, size / rx_s / 1e6,
                                 time.monotonic() - t0))


def net_link(sock, *args):
    return domus("net-link", "--control", sock, *args)


def guest_carrier(k, want):
    """Wait up to 10 s in the guest for eth0's carrier to read want and its operstate to follow
    (the kernel's link watch updates it a moment after the carrier); returns (carrier,
    operstate) as the guest saw them last."""
    state = "up" if want else "down"
    _, out = k.sh("for i in $(seq 50); do c=$(cat /sys/class/net/eth0/carrier); "
                  "o=$(cat /sys/class/net/eth0/operstate); "
                  "[ $c = %d ] && [ $o = %s ] && break; sleep 0.2; done; "
                  "echo carrier=$c operstate=$o" % (want, state), 60)
    m = re.search(r"carrier=(\d) operstate=(\w+)", out)
    assert m, out
    return int(m.group(1)), m.group(2)


def host_carrier(tap):
    with open("/sys/class/net/%s/carrier" % tap) as f:
        return int(f.read())


def test_kit_net_link_down_and_up_at_runtime(host_bridge, tmp_path):
    sock = str(tmp_path / "ctl.sock")
    k = Kit(["--net", "bridge=%s,mac=%s" % (host_bridge, GUEST_MAC), "--control", sock])
    k.booted()
    k.sh("ip addr add %s/24 dev eth0 && ip link set eth0 up" % GUEST_IP)
    assert guest_carrier(k, 1) == (1, "up")
    k.sh("ping -c 1 -W 10 " + HOST_IP, 60)
    r = net_link(sock, "0")
    assert r.rc == 0 and re.match(r"net0 \(tap \S+, mac %s\): link up$" % GUEST_MAC, r.out), r
    tap = re.search(r"tap (\S+),", r.out).group(1)
    assert host_carrier(tap) == 1

    r = net_link(sock, "net0", "down")
    assert r.rc == 0 and r.out.endswith("link down\n"), r
    assert guest_carrier(k, 0) == (0, "down")
    assert host_carrier(tap) == 0
    rc, _ = k.sh("ping -c 1 -W 2 " + HOST_IP, 60, ok=False)
    assert rc != 0, "ping went through an unplugged cable"

    r = net_link(sock, tap, "up")  # the TAP's name works too
    assert r.rc == 0 and r.out.endswith("link up\n"), r
    assert guest_carrier(k, 1) == (1, "up")
    assert host_carrier(tap) == 1
    # As with a real cable, the first frames after plugging in may be lost while both ends
    # (the guest's link watch and ARP entry that failed while unplugged, the host bridge port)
    # settle: a few tries, each one frame.
    k.sh("for i in 1 2 3 4 5 6; do ping -c 1 -W 3 %s && break; done" % HOST_IP, 90)

    # Unplugged stays unplugged across a reboot of the guest (same monitor).
    assert net_link(sock, "0", "down").rc == 0
    k.send("reboot\n")
    k.expect(r"domus-kit: rebooting", 60)
    k.booted()
    k.sh("ip link set eth0 up")
    assert guest_carrier(k, 0) == (0, "down")
    assert net_link(sock, "0", "up").rc == 0
    assert guest_carrier(k, 1) == (1, "up")

    r = net_link(sock, "3", "down")
    assert r.rc == 1 and "no NIC '3'" in r.err, r
    r = net_link(sock, "0", "sideways")
    assert r.rc == 2, r
    k.send("poweroff\n")
    assert k.wait(120) == 0
    assert not os.path.exists(sock), "the control socket outlived the monitor"
