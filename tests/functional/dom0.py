"""Helpers for the domain-zero tests: a domusd on a private state directory, configs, waits.

The state directory lives under /run (a tmpfs), because the monitors' Unix sockets cannot be
created on the 9p root that tools/kvmhost shares with the nested KVM host.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import DOMUS, GUESTS, domus

DOMUSD = os.path.join(os.path.dirname(DOMUS), "domusd")
# Nested KVM under TCG is slow: waits are generous, they only bound a hang.
SLOW = 60


def wait_for(what, fn, timeout=SLOW, interval=0.1):
    """Poll fn() until it returns something true; fail the test naming `what` otherwise."""
    t0 = time.monotonic()
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() - t0 > timeout:
            pytest.fail("timed out after %ss waiting for %s" % (timeout, what), pytrace=False)
        time.sleep(interval)


class Dom0:
    def __init__(self):
        base = "/run" if os.access("/run", os.W_OK) else None
        self.state = tempfile.mkdtemp(prefix="d0-", dir=base)
        self.cfgdir = tempfile.mkdtemp(prefix="domus-cfg-")
        self.env = {"DOMUS_STATE_DIR": self.state}
        self.proc = None
        self.monitors = set()

    # --- the daemon ---
    def start(self):
        log = open(os.path.join(self.state, "domusd.log"), "a")
        self.proc = subprocess.Popen([DOMUSD, "--state-dir", self.state], stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_for("domusd to answer", lambda: self.try_list() is not None, timeout=30)
        return self

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)

    def log(self):
        with open(os.path.join(self.state, "domusd.log"), errors="replace") as f:
            return f.read()

    # --- the CLI ---
    def domus(self, *args, **kw):
        return domus(*args, env=self.env, **kw)

    def try_list(self):
        r = self.domus("list", "-l", timeout=60)
        if r.rc != 0:
            return None
        doms = json.loads(r.out)
        for d in doms:
            if d.get("pid") and d["domid"] != 0:
                self.monitors.add(d["pid"])
        return doms

    def list(self):
        doms = self.try_list()
        assert doms is not None, "domus list -l failed:\n%s" % self.log()
        return doms

    def dom(self, name):
        """The domain called name, or None."""
        for d in self.list():
            if d["name"] == name:
                return d
        return None

    def cfg(self, name, guest="ticker", memory=64, vcpus=1, extra="", **keys):
        """Write NAME.cfg for a tiny guest; keys are added verbatim (strings quoted)."""
        lines = ['name = "%s"' % name, 'kernel = "%s"' % os.path.join(GUESTS, guest + ".elf"),
                 "memory = %d" % memory, "vcpus = %d" % vcpus]
        if extra:
            lines.append('cmdline = "%s"' % extra)
        for k, v in keys.items():
            lines.append("%s = %s" % (k, json.dumps(v) if isinstance(v, str) else v))
        path = os.path.join(self.cfgdir, name + ".cfg")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    def cfg_lines(self, name, lines):
        """Write NAME.cfg from xl.cfg lines as they are (name = NAME first)."""
        path = os.path.join(self.cfgdir, name + ".cfg")
        with open(path, "w") as f:
            f.write("\n".join(['name = "%s"' % name] + list(lines)) + "\n")
        return path

    def create_cfg(self, name, path):
        r = self.domus("create", path, timeout=120)
        assert r.rc == 0, "create %s failed: %r\n%s" % (name, r, self.log())
        d = self.dom(name)
        assert d, "domain %s not listed after create" % name
        return d

    def console_send(self, name, data, delay=0.05):
        """Type data on the domain's console (its monitor's console socket), a key at a time."""
        d = self.dom(name)
        assert d, "no domain %s" % name
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(d["console_socket"])
        try:
            for ch in data.encode() if isinstance(data, str) else data:
                s.sendall(bytes([ch]))
                time.sleep(delay)
        finally:
            s.close()

    def vmm_log(self, name):
        p = os.path.join(self.state, "lib", "logs", name + ".vmm.log")
        try:
            with open(p, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def create(self, name, **kw):
        r = self.domus("create", self.cfg(name, **kw), timeout=120)
        assert r.rc == 0, "create %s failed: %r\n%s" % (name, r, self.log())
        d = self.dom(name)
        assert d, "domain %s not listed after create" % name
        return d

    def console_log(self, name):
        p = os.path.join(self.state, "lib", "logs", name + ".console.log")
        try:
            with open(p, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_console(self, name, text, timeout=SLOW):
        return wait_for("'%s' on the console of %s" % (text, name),
                        lambda: text in self.console_log(name), timeout)

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            for d in self.try_list() or []:
                if d["domid"] != 0:
                    self.domus("destroy", str(d["domid"]), timeout=60)
            self.kill(signal.SIGTERM)
        # Monitors of a test that failed half-way: end only those this test started.
        for pid in self.monitors:
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    if self.state.encode() in f.read():
                        os.kill(pid, signal.SIGKILL)
            except (FileNotFoundError, ProcessLookupError):
                pass
        shutil.rmtree(self.state, ignore_errors=True)
        shutil.rmtree(self.cfgdir, ignore_errors=True)


# A hang anywhere in a test (CLI, daemon, guest) becomes a failure after this long.
TEST_LIMIT = 600


@pytest.fixture
def dom0(request):
    d = Dom0()
    m = request.node.get_closest_marker("time_limit")
    limit = m.args[0] if m else TEST_LIMIT

    def too_long(signum, frame):
        pytest.fail("the test ran over %d s (hang?)" % limit, pytrace=True)

    old = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(limit)
    try:
        yield d.start()
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        d.cleanup()
