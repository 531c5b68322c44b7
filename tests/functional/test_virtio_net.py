"""Issue 4: virtio-net on TAP devices in a Linux bridge (created here; the tests run as root
on the KVM host)."""
import re
import socket
import subprocess
import threading
import time

import pytest

from conftest import Live, domus, guest, run_guest

BR = "br-dtest"
ETH_P = 0x88B5


@pytest.fixture
def bridge():
    subprocess.run(["ip", "link", "del", BR], capture_output=True)
    subprocess.run(["ip", "link", "add", BR, "type", "bridge"], check=True)
    subprocess.run(["ip", "link", "set", BR, "up"], check=True)
    yield BR
    subprocess.run(["ip", "link", "del", BR], capture_output=True)


def test_two_guests_on_one_bridge_exchange_frames(bridge):
    a = Live(["run", "--name", "a", "--memory", 128, "--kernel", guest("vnet"), "--net",
              "bridge=" + bridge])
    b = Live(["run", "--name", "b", "--memory", 128, "--kernel", guest("vnet"), "--net",
              "bridge=" + bridge])
    ra, rb = a.wait(90), b.wait(90)
    assert ra == 0 and "PASS vnet" in a.text(), a.text()
    assert rb == 0 and "PASS vnet" in b.text(), b.text()
    mac_a = re.search(r"vnet: mac (\S+)", a.text()).group(1)
    assert ("vnet: frame from %s" % mac_a) in b.text()


def test_guest_and_host_exchange_frames_through_the_tap(bridge):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P))
    s.bind((bridge, ETH_P))
    s.settimeout(1)
    seen = []

    def host_side():
        end = time.time() + 60
        while time.time() < end and not seen:
            try:
                f = s.recv(2048)
            except socket.timeout:
                continue
            if f[12:14] == b"\x88\xb5" and f[14:24] == b"domus-vnet":
                seen.append(f[14:60])
                reply = f[6:12] + b"\x02\x00\x00\x00\x00\x01" + b"\x88\xb5" + b"domus-vnet host\0"
                for _ in range(3):
                    s.send(reply.ljust(60, b"\0"))

    t = threading.Thread(target=host_side, daemon=True)
    t.start()
    r = run_guest("vnet", "--memory", 128, "--net", "bridge=%s,mac=00:16:3e:11:22:33" % bridge,
                  "--cmdline", "from=host mac=00:16:3e:11:22:33", timeout=120)
    t.join(5)
    s.close()
    assert r.passed("vnet") and not r.fails() and r.rc == 0, r
    assert seen and seen[0].startswith(b"domus-vnet 00:16:3e:11:22:33"), seen


def test_mac_derived_stably_from_the_domain_name(bridge, tmp_path):
    cfg = tmp_path / "n.cfg"
    cfg.write_text('name = "netdom"\nkernel = "%s"\nmemory = 128\nvif = ["bridge=%s"]\n'
                   'extra = "timeout=1"\n' % (guest("vnet"), bridge))
    macs = []
    for _ in range(2):
        r = domus("run", str(cfg))
        m = re.search(r"vnet: mac (\S+)", r.out)
        assert m, r
        macs.append(m.group(1))
    assert macs[0] == macs[1] and macs[0].startswith("00:16:3e:"), macs


def test_missing_bridge_is_a_clear_error():
    r = run_guest("vnet", "--net", "bridge=no-such-br0")
    assert r.rc == 1 and "no-such-br0" in r.err and "START" not in r.out, r
