"""vCPU pinning as in xl: cpus= in the config pins each vCPU thread of the monitor
(sched_setaffinity before its first KVM_RUN), `domus vcpu-pin` moves a running vCPU,
`domus vcpu-list` shows thread, host CPU, state, time and affinity. Checked from the host's
side: /proc/MONITOR/task/TID/status Cpus_allowed_list of the threads named vcpuN."""
import os
import re
import signal
import socket
import subprocess
import tempfile

import pytest

from conftest import DOMUS, guest
from dom0 import dom0, wait_for  # noqa: F401 (dom0 is a fixture)


@pytest.fixture(autouse=True)
def _two_cpus():
    if not {0, 1} <= os.sched_getaffinity(0):
        pytest.fail("these tests need host CPUs 0 and 1 (this process may run on %s)" %
                    sorted(os.sched_getaffinity(0)), pytrace=False)


def vcpu_threads(pid):
    """{vcpu index: tid} of the monitor's threads named vcpuN."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                comm = f.read().strip()
        except FileNotFoundError:
            continue
        m = re.fullmatch(r"vcpu(\d+)", comm)
        if m:
            out[int(m.group(1))] = int(tid)
    return out


def allowed(pid, tid):
    with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split(":", 1)[1].strip()
    raise AssertionError("no Cpus_allowed_list for thread %d" % tid)


def affinities(pid, n):
    threads = wait_for("%d vCPU threads in monitor %d" % (n, pid),
                       lambda: (lambda t: t if len(t) == n else None)(vcpu_threads(pid)))
    return {i: allowed(pid, tid) for i, tid in threads.items()}, threads


def vcpu_rows(out):
    """Rows of `domus vcpu-list`: (name, id, vcpu, cpu, state, time, affinity)."""
    lines = out.splitlines()
    assert lines and lines[0].split() == ["Name", "ID", "VCPU", "CPU", "State", "Time(s)",
                                          "CPU", "Affinity"], out
    return [tuple(l.split()) for l in lines[1:]]


def test_dom0_cpus_pins_vcpus_and_vcpu_pin_moves_one(dom0):
    d = dom0.create("pinned", vcpus=2, cpus="0")
    pid = d["pid"]
    aff, threads = affinities(pid, 2)
    assert aff == {0: "0", 1: "0"}, aff

    r = dom0.domus("vcpu-list", "pinned")
    assert r.rc == 0, r
    rows = vcpu_rows(r.out)
    assert [(x[0], x[1], x[2], x[6]) for x in rows] == [
        ("pinned", str(d["domid"]), "0", "0"), ("pinned", str(d["domid"]), "1", "0")], r.out
    # vCPU 0 has run (the guest's boot CPU), and only ever on CPU 0
    assert rows[0][3] == "0", r.out
    assert rows[0][4] in ("r--", "-b-"), r.out
    float(rows[0][5])

    r = dom0.domus("vcpu-pin", "pinned", "1", "1")
    assert r.rc == 0, r
    aff2, threads2 = affinities(pid, 2)
    assert threads2 == threads, "the vCPU threads changed"
    assert aff2 == {0: "0", 1: "1"}, aff2
    r = dom0.domus("vcpu-list")
    assert r.rc == 0, r
    rows = [x for x in vcpu_rows(r.out) if x[0] == "pinned"]
    assert [(x[2], x[6]) for x in rows] == [("0", "0"), ("1", "1")], r.out

    r = dom0.domus("vcpu-pin", "pinned", "all", "all")
    assert r.rc == 0, r
    assert affinities(pid, 2)[0] == {0: "0-1", 1: "0-1"}
    r = dom0.domus("vcpu-list", str(d["domid"]))
    assert [x[6] for x in vcpu_rows(r.out)] == ["all", "all"], r.out
    r = dom0.domus("vcpu-pin", "pinned", "0", "0-1,^0")
    assert r.rc == 0, r
    assert affinities(pid, 2)[0] == {0: "1", 1: "0-1"}


def test_dom0_cpus_per_vcpu_list(dom0):
    path = dom0.cfg_lines("perv", ['kernel = "%s"' % guest("ticker"), "memory = 64",
                                   "vcpus = 2", 'cpus = ["1", "0"]'])
    d = dom0.create_cfg("perv", path)
    assert affinities(d["pid"], 2)[0] == {0: "1", 1: "0"}


def test_dom0_vcpu_pin_errors(dom0):
    dom0.create("pe", vcpus=2)
    aff, _ = affinities(dom0.dom("pe")["pid"], 2)
    assert aff == {0: "0-1", 1: "0-1"}, aff  # no cpus=: not pinned
    for args, rc, msg in [
            (("pe", "2", "1"), 1, "domus: vcpu-pin: domain pe has no vCPU 2 (it has 2: 0-1)"),
            (("pe", "0", "5"), 1, "CPU 5: this host has no such CPU"),
            (("pe", "0", "^all"), 2, "domus: vcpu-pin: CPUs \"^all\": '^all': \"^\" cannot "
                                     "go with \"all\""),
            (("pe", "0", "0,,1"), 2, "an empty item"),
            (("pe", "x", "1"), 2, "domus: vcpu-pin: 'x' is not a vCPU number or all"),
            (("nosuch", "0", "1"), 1, "no domain 'nosuch'"),
            (("pe", "0"), 2, "usage: domus vcpu-pin")]:
        r = dom0.domus("vcpu-pin", *args)
        assert r.rc == rc and msg in r.err, (args, r)
    assert affinities(dom0.dom("pe")["pid"], 2)[0] == {0: "0-1", 1: "0-1"}
    r = dom0.domus("vcpu-list", "nosuch")
    assert r.rc == 1 and "domus: vcpu-list: no domain 'nosuch'" in r.err, r


def test_dom0_bad_cpus_refused(dom0):
    path = dom0.cfg_lines("badsyn", ['kernel = "%s"' % guest("ticker"), 'cpus = "0,,1"'])
    r = dom0.domus("create", path)
    assert r.rc == 1 and "%s:3: 'cpus' \"0,,1\": an empty item" % path in r.err, r
    path = dom0.cfg_lines("nocpu", ['kernel = "%s"' % guest("ticker"), 'cpus = "7"'])
    r = dom0.domus("create", path)
    assert r.rc == 1 and "cpus \"7\": CPU 7: this host has no such CPU" in r.err, r
    path = dom0.cfg_lines("toomany", ['kernel = "%s"' % guest("ticker"), "vcpus = 1",
                                      'cpus = ["0", "1"]'])
    r = dom0.domus("create", path)
    assert r.rc == 1 and "%s:4: 'cpus' lists 2 vCPUs' CPUs, but the domain has 1 vCPU" % path \
        in r.err, r
    assert [x["name"] for x in dom0.list()] == ["Domain-0"]


def control(sock, cmd):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.sendall(cmd.encode() + b"\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return data.decode()


def test_run_control_vcpu_pin_survives_a_reboot():
    """`domus run --control`: the pinning of vcpu-pin holds after the guest resets, on the new
    vCPU threads of the new boot."""
    tmp = tempfile.mkdtemp(prefix="domus-pin-", dir="/run" if os.access("/run", os.W_OK)
                           else None)
    cfg = os.path.join(tmp, "p.cfg")
    sock = os.path.join(tmp, "ctl.sock")
    with open(cfg, "w") as f:
        f.write('name = "runpin"\nkernel = "%s"\nmemory = 32\nvcpus = 2\ncpus = "0"\n' %
                guest("ticker"))
    p = subprocess.Popen([DOMUS, "run", "--control", sock, cfg], stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for("the control socket", lambda: os.path.exists(sock))
        aff, threads = affinities(p.pid, 2)
        assert aff == {0: "0", 1: "0"}, aff
        r = subprocess.run([DOMUS, "vcpu-pin", "--control", sock, "1", "1"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r
        assert affinities(p.pid, 2)[0] == {0: "0", 1: "1"}
        assert '"ok":true' in control(sock, "reset")
        new = wait_for("new vCPU threads after the reset",
                       lambda: (lambda t: t if len(t) == 2 and set(t.values()).isdisjoint(
                           threads.values()) else None)(vcpu_threads(p.pid)))
        assert {i: allowed(p.pid, t) for i, t in new.items()} == {0: "0", 1: "1"}
        r = subprocess.run([DOMUS, "vcpu-list", "--control", sock], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 0, r
        assert [(x[0], x[2], x[6]) for x in vcpu_rows(r.stdout)] == [
            ("runpin", "0", "0"), ("runpin", "1", "1")], r.stdout
        assert "no vCPU '9'" in control(sock, "vcpu-pin 9 0")
        assert '"ok":true' in control(sock, "destroy")
        assert p.wait(timeout=30) == 130
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait()
        p.stderr.close()
        for f in (cfg, sock):
            if os.path.exists(f):
                os.unlink(f)
        os.rmdir(tmp)
