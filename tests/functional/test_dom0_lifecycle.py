"""More of the domain life cycle under domusd: reboot, rename-restart, create -c, the monitor."""
import os
import subprocess
import time

from conftest import DOMUS
from dom0 import SLOW, dom0, wait_for  # noqa: F401 (dom0 is a fixture)


def running(dom0, name, not_id=None):
    d = dom0.dom(name)
    if d and d["state"] in ("running", "blocked") and d["domid"] != not_id:
        return d
    return None


def test_dom0_reboot_command_restarts_with_new_id(dom0):
    d = dom0.create("rbc", extra="ms=0", on_reboot="restart")
    dom0.wait_console("rbc", "READY ticker")
    r = dom0.domus("reboot", "rbc")
    assert r.rc == 0, r
    new = wait_for("rbc back under a new ID", lambda: running(dom0, "rbc", d["domid"]))
    assert new["domid"] > d["domid"] and new["restarts"] == 1, new
    wait_for("a second boot", lambda: dom0.console_log("rbc").count("READY ticker") >= 2)


def test_dom0_reboot_asks_the_guest_and_force_resets(dom0):
    """domus reboot presses the power button: a guest that ignores it keeps running under its
    ID; reboot -f is the reset button, and on_reboot restarts it under a new ID."""
    d = dom0.create("rbf", extra="ms=0 button=0", on_reboot="restart")
    dom0.wait_console("rbf", "READY ticker")
    assert dom0.domus("reboot", "rbf").rc == 0
    time.sleep(5)
    still = dom0.dom("rbf")
    assert still["domid"] == d["domid"] and still["reboot_requested"], still
    r = dom0.domus("reboot", "--force", "rbf")
    assert r.rc == 0, r
    new = wait_for("rbf reset under a new ID", lambda: running(dom0, "rbf", d["domid"]))
    assert new["restarts"] == 1 and not new["reboot_requested"], new
    assert dom0.domus("reboot", "-x", "rbf").rc == 2


def test_dom0_reboot_with_destroy_action_ends_the_domain(dom0):
    dom0.create("rbd", extra="ms=0", on_reboot="destroy")
    dom0.wait_console("rbd", "READY ticker")
    assert dom0.domus("reboot", "rbd").rc == 0
    wait_for("rbd gone", lambda: dom0.dom("rbd") is None)


def test_dom0_rename_restart_keeps_the_old_domain(dom0):
    d = dom0.create("rr", extra="ms=0", on_poweroff="rename-restart")
    dom0.wait_console("rr", "READY ticker")
    assert dom0.domus("shutdown", "rr").rc == 0
    old = wait_for("the old domain renamed", lambda: dom0.dom("rr--incarnation-0"))
    assert old["domid"] == d["domid"] and old["flags"] == "---s--", old
    assert old["exit"]["reason"] == "poweroff", old
    new = wait_for("rr restarted under a new ID", lambda: running(dom0, "rr", d["domid"]))
    assert new["restarts"] == 1, new


def test_dom0_create_c_attaches_the_console(dom0):
    env = dict(os.environ, **dom0.env)
    p = subprocess.Popen([DOMUS, "create", "-c", dom0.cfg("cc", extra="ms=200")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=env)
    os.set_blocking(p.stdout.fileno(), False)
    out, t0 = b"", time.monotonic()
    while b"tick 2" not in out and time.monotonic() - t0 < SLOW:
        try:
            out += p.stdout.read() or b""
        except BlockingIOError:
            pass
        time.sleep(0.1)
    p.stdin.write(b"\x1d")
    p.stdin.flush()
    assert p.wait(timeout=30) == 0
    out = out.decode(errors="replace")
    assert "Domain cc created" in out and "READY ticker" in out and "tick 2" in out, out
    assert running(dom0, "cc"), "detaching must leave the domain running"


def test_dom0_monitor_is_named_domus_vmm_and_outlives_domusd(dom0):
    d = dom0.create("ps", extra="ms=0")
    with open("/proc/%d/comm" % d["pid"]) as f:
        assert f.read().strip() == "domus-vmm"
    with open("/proc/%d/cmdline" % d["pid"], "rb") as f:
        argv = f.read().split(b"\0")
    assert argv[0] == b"domus-vmm" and b"ps" in argv, argv
    # Another session than domusd's: a hangup or a signal to domusd's group spares it.
    assert os.getsid(d["pid"]) != os.getsid(dom0.proc.pid)
    dom0.kill()
    with open("/proc/%d/comm" % d["pid"]) as f:
        assert f.read().strip() == "domus-vmm", "the monitor died with domusd"
    dom0.start()
    assert dom0.dom("ps")["pid"] == d["pid"]
