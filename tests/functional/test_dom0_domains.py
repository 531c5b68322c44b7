"""domusd + the domus CLI with tiny guests: create, list, pause, shutdown, destroy, consoles."""
import os
import subprocess
import time

import pytest

from conftest import DOMUS
from dom0 import SLOW, Dom0, dom0, wait_for  # noqa: F401 (dom0 is a fixture)


def row(out, name):
    """The `domus list` row of name as a list of columns."""
    for line in out.splitlines():
        cols = line.split()
        if cols and cols[0] == name:
            return cols
    return None


def test_dom0_create_three_and_list(dom0):
    dom0.create("alpha", memory=64, vcpus=1, extra="ms=0")
    dom0.create("beta", memory=96, vcpus=2, extra="ms=0")
    dom0.create("gamma", memory=80, vcpus=1, extra="ms=0")
    for n in ("alpha", "beta", "gamma"):
        dom0.wait_console(n, "READY ticker")
    r = dom0.domus("list")
    assert r.rc == 0, r
    assert r.lines()[0].split() == ["Name", "ID", "Mem", "VCPUs", "State", "Time(s)"]
    assert row(r.out, "Domain-0")[1] == "0"
    ids = set()
    for name, mem, vcpus in (("alpha", "64", "1"), ("beta", "96", "2"),
                             ("gamma", "80", "1")):
        cols = row(r.out, name)
        assert cols, "%s missing from list:\n%s" % (name, r.out)
        assert cols[2:4] == [mem, vcpus], cols
        assert cols[4] in ("r-----", "-b----"), cols
        ids.add(int(cols[1]))
    assert len(ids) == 3 and 0 not in ids
    # A second domain of one name is refused.
    r = dom0.domus("create", dom0.cfg("alpha"))
    assert r.rc != 0 and "exists already" in r.err, r
    # uptime, top and info see them too.
    r = dom0.domus("uptime")
    assert r.rc == 0 and row(r.out, "beta"), r
    r = dom0.domus("top", "-b", "-n", "2", "-d", "0.5")
    assert r.rc == 0 and "gamma" in r.out and "CPU(%)" in r.out, r
    r = dom0.domus("info")
    assert "domusd" in r.out and "domains" in r.out, r


def test_dom0_overrides_on_the_command_line(dom0):
    r = dom0.domus("create", dom0.cfg("ov", memory=64, extra="ms=0"), "memory=72", "vcpus=2")
    assert r.rc == 0, r
    d = dom0.dom("ov")
    assert (d["memory_mib"], d["vcpus"]) == (72, 2), d


def test_dom0_pause_stops_the_guest(dom0):
    dom0.create("busy", extra="ms=100 busy=1")
    dom0.wait_console("busy", "tick 3")
    r = dom0.domus("pause", "busy")
    assert r.rc == 0, r
    d1 = dom0.dom("busy")
    assert d1["flags"] == "--p---", d1
    log1 = dom0.console_log("busy")
    time.sleep(2)
    d2 = dom0.dom("busy")
    assert dom0.console_log("busy") == log1, "the console kept talking while paused"
    assert d2["cpu_time_s"] - d1["cpu_time_s"] < 0.05, (d1, d2)
    r = dom0.domus("unpause", "busy")
    assert r.rc == 0, r
    n = len(log1)
    wait_for("ticks after unpause", lambda: "tick" in dom0.console_log("busy")[n:])
    time.sleep(1)
    d3 = dom0.dom("busy")
    assert d3["flags"] in ("r-----", "-b----"), d3
    assert d3["cpu_time_s"] > d2["cpu_time_s"] + 0.1, (d2, d3)


def test_dom0_shutdown_wait_powers_off(dom0):
    dom0.create("pb", guest="powerbutton")
    dom0.wait_console("pb", "READY powerbutton")
    t0 = time.monotonic()
    r = dom0.domus("shutdown", "-w", "pb", timeout=SLOW + 30)
    assert r.rc == 0 and "has shut down" in r.out, r
    assert "PASS powerbutton" in dom0.console_log("pb")
    assert dom0.dom("pb") is None, "on_poweroff=destroy leaves nothing"
    assert time.monotonic() - t0 < SLOW


def test_dom0_shutdown_times_out_when_ignored(dom0):
    d = dom0.create("deaf", extra="ms=0 button=0")
    dom0.wait_console("deaf", "READY ticker")
    r = dom0.domus("shutdown", "-w", "-t", "3", "deaf")
    assert r.rc == 1 and "still running" in r.err, r
    assert dom0.dom("deaf")["domid"] == d["domid"]
    r = dom0.domus("destroy", "deaf")
    assert r.rc == 0, r
    assert dom0.dom("deaf") is None
    wait_for("the monitor to exit", lambda: not os.path.exists("/proc/%d/cmdline" % d["pid"])
             or open("/proc/%d/cmdline" % d["pid"], "rb").read() == b"")


def test_dom0_on_reboot_restart_gets_new_id(dom0):
    d = dom0.create("rb", extra="ms=100 after=3 then=reboot", on_reboot="restart")
    new = wait_for("a restart with a new ID",
                   lambda: [x for x in dom0.list()
                            if x["name"] == "rb" and x["domid"] != d["domid"] and
                            x["state"] in ("running", "blocked")])
    assert new[0]["restarts"] >= 1
    assert dom0.console_log("rb").count("READY ticker") >= 2


def test_dom0_on_poweroff_preserve_keeps_shutdown_domain(dom0):
    dom0.create("keep", extra="ms=100 after=2 then=poweroff", on_poweroff="preserve")
    d = wait_for("state s", lambda: [x for x in dom0.list()
                                     if x["name"] == "keep" and x["flags"] == "---s--"])
    assert d[0]["exit"]["reason"] == "poweroff"
    r = dom0.domus("list")
    assert row(r.out, "keep")[4] == "---s--", r.out
    assert dom0.domus("destroy", "keep").rc == 0
    assert dom0.dom("keep") is None


def test_dom0_killed_monitor_is_a_crash(dom0):
    a = dom0.create("c1", extra="ms=0", on_crash="preserve")
    b = dom0.create("c2", extra="ms=0", on_crash="restart")
    dom0.wait_console("c1", "READY ticker")
    dom0.wait_console("c2", "READY ticker")
    os.kill(a["pid"], 9)
    os.kill(b["pid"], 9)
    wait_for("c1 crashed", lambda: (dom0.dom("c1") or {}).get("flags") == "----c-")
    assert "died" in dom0.dom("c1")["exit"]["message"]
    wait_for("c2 restarted", lambda: (dom0.dom("c2") or {}).get("domid", b["domid"]) != b["domid"]
             and dom0.dom("c2")["state"] in ("running", "blocked"))


def console_lines(dom0, name, want, timeout=SLOW):
    """Attach `domus console`, wait for `want` in its output, detach with Ctrl-]."""
    env = dict(os.environ, **dom0.env)
    p = subprocess.Popen([DOMUS, "console", name], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    out = b""
    os.set_blocking(p.stdout.fileno(), False)
    t0 = time.monotonic()
    while want.encode() not in out and time.monotonic() - t0 < timeout:
        try:
            chunk = p.stdout.read()
        except BlockingIOError:
            chunk = None
        if chunk:
            out += chunk
        time.sleep(0.1)
    p.stdin.write(b"\x1d")
    p.stdin.flush()
    rc = p.wait(timeout=30)
    return rc, out.decode(errors="replace")


def test_dom0_console_and_domusd_sigkill_reattach(dom0):
    a = dom0.create("r1", extra="ms=200")
    b = dom0.create("r2", extra="ms=0")
    rc, out = console_lines(dom0, "r1", "tick 2")
    assert rc == 0 and "tick 2" in out, out
    dom0.kill()  # SIGKILL: no goodbye
    dom0.start()
    doms = {d["name"]: d for d in dom0.list()}
    assert doms["r1"]["domid"] == a["domid"] and doms["r2"]["domid"] == b["domid"], doms
    assert doms["r1"]["state"] in ("running", "blocked"), doms["r1"]
    assert "reattached" in dom0.log()
    # The console and the control socket still answer.
    n = dom0.console_log("r1").count("tick")
    rc, out = console_lines(dom0, "r1", "tick %d" % (n + 2))
    assert rc == 0 and ("tick %d" % (n + 2)) in out, out
    assert dom0.domus("pause", "r2").rc == 0
    assert dom0.dom("r2")["flags"] == "--p---"
    # A domain that ends while domusd is away is handled when it comes back.
    dom0.kill()
    os.kill(b["pid"], 9)
    dom0.start()
    assert dom0.dom("r2") is None, "on_crash=destroy applies to a monitor lost meanwhile"
    assert dom0.dom("r1")["domid"] == a["domid"]


def test_dom0_bad_configs_name_file_and_line(dom0):
    p = os.path.join(dom0.cfgdir, "bad.cfg")
    with open(p, "w") as f:
        f.write('name = "bad"\nmemory = 64\nflux_capacitor = 1\n')
    r = dom0.domus("create", p)
    assert r.rc == 1 and "bad.cfg:3" in r.err and "flux_capacitor" in r.err, r
    with open(p, "w") as f:
        f.write('name = "bad"\nkernel = "/x"\nmemory = "lots"\n')
    r = dom0.domus("create", p)
    assert r.rc == 1 and "bad.cfg:3" in r.err and "memory" in r.err, r
    r = dom0.domus("create", dom0.cfg("ok2", extra="ms=0"), 'vcpus="many"')
    assert r.rc == 1 and "command line:1" in r.err and "vcpus" in r.err, r
    assert dom0.dom("ok2") is None
    r = dom0.domus("create", dom0.cfg("nokernel", guest="no-such-guest"))
    assert r.rc == 1 and "no-such-guest" in r.err, r
    assert dom0.dom("nokernel") is None


@pytest.mark.nokvm
def test_dom0_cli_says_when_domusd_is_not_running(tmp_path):
    from conftest import domus
    r = domus("list", env={"DOMUS_STATE_DIR": str(tmp_path)})
    assert r.rc == 1 and "is domusd running" in r.err, r
