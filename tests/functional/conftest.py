"""Shared helpers for the functional tests: they boot real guests under build/domus.

Every test here needs a usable /dev/kvm. Without one they fail with a clear message (they never
skip silently); `make check` runs them inside tools/kvmhost when this machine has no KVM.
"""
import os
import subprocess
import time

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOMUS = os.path.join(TOP, "build-san" if os.environ.get("DOMUS_SAN") == "1" else "build", "domus")
GUESTS = os.path.join(TOP, "build", "guests")
CACHE = os.environ.get("DOMUS_CACHE", os.path.join(TOP, "cache"))


def kvm_problem():
    """None when /dev/kvm can be used, else why not."""
    if not os.path.exists("/dev/kvm"):
        return "/dev/kvm does not exist on this host"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return "/dev/kvm is not accessible (run as root or join the kvm group)"
    return None


def needs_kvm(item):
    """A test boots a guest unless it is marked nokvm; a `kvm` mark on a test in a nokvm module
    (tests/functional/test_bad_input.py) says that this one needs KVM after all."""
    return bool(item.get_closest_marker("kvm")) or not item.get_closest_marker("nokvm")


@pytest.fixture(autouse=True)
def _require_kvm(request):
    if not needs_kvm(request.node):
        return
    problem = kvm_problem()
    if problem:
        pytest.fail("guest tests need KVM: " + problem + "; run `make check`, which uses "
                    "tools/kvmhost/kvmhost.sh on hosts without KVM", pytrace=False)


def guest(name):
    path = os.path.join(GUESTS, name + ".elf")
    assert os.path.exists(path), "tiny guest %s not built (run make)" % path
    return path


class Result:
    def __init__(self, rc, out, err, seconds):
        self.rc, self.out, self.err, self.seconds = rc, out, err, seconds

    def lines(self):
        return self.out.splitlines()

    def passed(self, name):
        return ("PASS " + name) in self.lines()

    def fails(self):
        return [l for l in self.lines() if l.startswith("FAIL ")]

    def __repr__(self):
        return "rc=%s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (self.rc, self.out[-4000:],
                                                                 self.err[-4000:])


def domus(*args, input=None, timeout=120, env=None):
    """Run build/domus with args; returns a Result. A hang is a test failure, not a stuck run."""
    e = dict(os.environ)
    if env:
        e.update(env)
    t0 = time.monotonic()
    try:
        p = subprocess.run([DOMUS] + [str(a) for a in args], input=input, capture_output=True,
                           timeout=timeout, env=e, text=True, errors="replace")
    except subprocess.TimeoutExpired as ex:
        out = ex.stdout.decode(errors="replace") if isinstance(ex.stdout, bytes) else (ex.stdout or "")
        pytest.fail("domus %s did not finish within %ss; output so far:\n%s" %
                    (" ".join(map(str, args)), timeout, out[-3000:]), pytrace=False)
    return Result(p.returncode, p.stdout, p.stderr, time.monotonic() - t0)


def run_guest(name, *args, **kw):
    return domus("run", "--kernel", guest(name), *args, **kw)


class Live:
    """A running `domus` process whose console we read line by line and write to."""

    def __init__(self, args, env=None):
        import threading
        e = dict(os.environ)
        if env:
            e.update(env)
        self.p = subprocess.Popen([DOMUS] + [str(a) for a in args], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e)
        self.out = b""
        self.err = b""
        self.cond = threading.Condition()
        self.t_out = threading.Thread(target=self._pump, args=(self.p.stdout, "out"), daemon=True)
        self.t_err = threading.Thread(target=self._pump, args=(self.p.stderr, "err"), daemon=True)
        self.t_out.start()
        self.t_err.start()

    def _pump(self, f, which):
        while True:
            b = f.read1(4096) if hasattr(f, "read1") else f.read(1)
            with self.cond:
                if not b:
                    self.cond.notify_all()
                    return
                if which == "out":
                    self.out += b
                else:
                    self.err += b
                self.cond.notify_all()

    def text(self):
        return self.out.decode(errors="replace")

    def wait_for(self, needle, timeout=60):
        """Wait until needle (str) appears in stdout; fail the test on timeout or exit."""
        deadline = time.monotonic() + timeout
        n = needle.encode()
        with self.cond:
            while n not in self.out:
                left = deadline - time.monotonic()
                if left <= 0 or (self.p.poll() is not None and not self.t_out.is_alive()):
                    self.kill()
                    pytest.fail("did not see %r within %ss (rc=%s); stdout:\n%s\nstderr:\n%s" % (
                        needle, timeout, self.p.returncode, self.text()[-3000:],
                        self.err.decode(errors="replace")[-2000:]), pytrace=False)
                self.cond.wait(min(left, 0.5))

    def send(self, data):
        self.p.stdin.write(data.encode() if isinstance(data, str) else data)
        self.p.stdin.flush()

    def wait(self, timeout=60):
        try:
            rc = self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail("domus did not exit within %ss; stdout:\n%s" % (timeout, self.text()[-3000:]),
                        pytrace=False)
        self.t_out.join(5)
        self.t_err.join(5)
        return rc

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


# A run that the nested KVM host's freeze cut short goes on where it stopped (tools/run-functional.sh):
# every finished test is appended to DOMUS_TEST_PROGRESS, and with DOMUS_TEST_RESUME=1 the tests
# already listed there are not run again (the one that was running at the freeze is).
PROGRESS = os.environ.get("DOMUS_TEST_PROGRESS")


def pytest_collection_modifyitems(config, items):
    if not PROGRESS or os.environ.get("DOMUS_TEST_RESUME") != "1" or not os.path.exists(PROGRESS):
        return
    with open(PROGRESS) as f:
        done = {line.split(" ", 1)[1].rstrip("\n") for line in f if " " in line}
    gone = [i for i in items if i.nodeid in done]
    if gone:
        config.hook.pytest_deselected(items=gone)
        items[:] = [i for i in items if i.nodeid not in done]


def pytest_runtest_logreport(report):
    if not PROGRESS:
        return
    # One line per test: its call's outcome, or the setup's/teardown's when that failed or skipped.
    if report.when == "call" or (report.when != "call" and report.outcome != "passed"):
        with open(PROGRESS, "a") as f:
            f.write("%s %s\n" % (report.outcome, report.nodeid))


# In the nested KVM host (tools/kvmhost) a guest test that fails is run once more, and both runs
# are reported: QEMU's TCG emulation of AMD-V under it has been seen to corrupt guest and host
# memory now and then (GRUB printing a wrong checksum, a kernel triple-faulting in early boot,
# the nested host's own kernel panicking on a corrupted stack), never at the same test twice.
# A test that fails twice fails. Directly on KVM every test runs once.
# Each rerun test is listed in DOMUS_TEST_PROGRESS.reruns, and its first run's whole failure
# (traceback and captured output) is appended to DOMUS_TEST_RERUN_LOG, which
# tools/run-functional.sh names at the end and .ci/run prints.
RERUN_LOG = os.environ.get("DOMUS_TEST_RERUN_LOG")


def _keep_first_failure(item, failed):
    if not RERUN_LOG:
        return
    with open(RERUN_LOG, "a") as f:
        f.write("=" * 30 + " RERUN %s: the first run's failure\n" % item.nodeid)
        for r in failed:
            f.write("--- %s (%s) ---\n%s\n" % (r.when, r.outcome, r.longreprtext))
            for title, text in r.sections:
                f.write("--- %s ---\n%s\n" % (title, text))
        f.write("\n")


def pytest_runtest_protocol(item, nextitem):
    from _pytest.runner import runtestprotocol

    if os.environ.get("DOMUS_KVMHOST") != "1" or not needs_kvm(item):
        return None
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    reports = runtestprotocol(item, nextitem=nextitem, log=False)
    failed = [r for r in reports if r.failed]
    if failed:
        _keep_first_failure(item, failed)
        tr = item.config.pluginmanager.get_plugin("terminalreporter")
        why = "\n".join(str(failed[0].longrepr).splitlines()[-15:])
        if tr:
            tr.write_line("\nRERUN %s: failed in the nested KVM host; running it once more. "
                          "The first run said (all of it in %s):\n%s" % (
                              item.nodeid, RERUN_LOG or "no DOMUS_TEST_RERUN_LOG", why))
        if PROGRESS:
            with open(PROGRESS + ".reruns", "a") as f:
                f.write("%s\n" % item.nodeid)
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
    for r in reports:
        item.ihook.pytest_runtest_logreport(report=r)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True
