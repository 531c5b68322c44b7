#!/usr/bin/env python3
"""Density: start N domains of a tiny guest (64 MiB each) as fast as possible, through domusd,
then the same guest under QEMU (-M microvm), started the same way (N launches at once, each
returning once its VM runs: `domus create` when the monitor is up, `qemu -daemonize` when QEMU
has initialised). Reports, for each:

  creation rate      N / wall time from the first launch until the last one returned
  all ready          wall time from the first launch until every console shows "READY ticker"
  memory per domain  host MemAvailable before minus after (all ready), / N: everything the
                     host gave (process memory, page tables, KVM's own), not only RSS
  PSS per domain     the processes' proportional set size (shared libraries split), / N

Needs /dev/kvm (bench/density/run.sh runs it inside tools/kvmhost when there is none).
usage: density.py [-n N] [--memory MIB] [--json FILE]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(TOP, "build")
GUEST = os.path.join(BUILD, "guests", "ticker.elf")
READY = "READY ticker"
TIMEOUT = 300


def note(msg):
    print("density: " + msg, file=sys.stderr, flush=True)


def mem_available_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    raise RuntimeError("no MemAvailable in /proc/meminfo")


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def settle():
    """Let freed memory settle before a MemAvailable reading."""
    time.sleep(1)


def launch_all(cmds, env=None):
    """Start every command at once; return (seconds until all returned, start time, failures).
    Output goes to files, not pipes: a daemon that keeps a pipe open would look unfinished."""
    outs = [tempfile.TemporaryFile() for _ in cmds]
    t0 = time.monotonic()
    procs = [subprocess.Popen(c, stdout=o, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              env=env) for c, o in zip(cmds, outs)]
    fails = []
    for c, p, o in zip(cmds, procs, outs):
        p.wait(timeout=TIMEOUT)
        if p.returncode != 0:
            o.seek(0)
            fails.append("%s: rc %d: %s" % (" ".join(c[:3]), p.returncode,
                                            o.read().decode(errors="replace")[-500:]))
    dt = time.monotonic() - t0
    for o in outs:
        o.close()
    return dt, t0, fails


def wait_ready(logs, t0):
    left = set(logs)
    while left:
        for p in list(left):
            try:
                with open(p, errors="replace") as f:
                    if READY in f.read():
                        left.discard(p)
            except FileNotFoundError:
                pass
        if time.monotonic() - t0 > TIMEOUT:
            raise RuntimeError("%d guests never printed %r (e.g. %s)" % (len(left), READY,
                                                                          sorted(left)[0]))
        time.sleep(0.02)
    note("all %d ready after %.2f s" % (len(logs), time.monotonic() - t0))
    return time.monotonic() - t0


def bench_domus(n, mem):
    state = tempfile.mkdtemp(prefix="density-", dir="/run")
    env = dict(os.environ, DOMUS_STATE_DIR=state)
    cfgs = []
    for i in range(n):
        p = os.path.join(state, "d%d.cfg" % i)
        with open(p, "w") as f:
            f.write('name = "d%d"\nkernel = "%s"\nmemory = %d\nvcpus = 1\ncmdline = "ms=0"\n'
                    % (i, GUEST, mem))
        cfgs.append(p)
    daemon = subprocess.Popen([os.path.join(BUILD, "domusd"), "--state-dir", state],
                              stdout=subprocess.DEVNULL, stderr=open(os.path.join(state, "log"), "w"))
    try:
        for _ in range(300):
            if subprocess.run([os.path.join(BUILD, "domus"), "list"], env=env,
                              capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        settle()
        before = mem_available_kib()
        note("domus: creating %d domains" % n)
        dt, t0, fails = launch_all([[os.path.join(BUILD, "domus"), "create", c] for c in cfgs], env)
        note("domus: created in %.2f s, %d failed" % (dt, len(fails)))
        if fails:
            raise RuntimeError("domus create failed: " + fails[0])
        ready = wait_ready([os.path.join(state, "lib", "logs", "d%d.console.log" % i)
                            for i in range(n)], t0)
        settle()
        after = mem_available_kib()
        doms = json.loads(subprocess.run([os.path.join(BUILD, "domus"), "list", "-l"], env=env,
                                         capture_output=True, text=True).stdout)
        pids = [d["pid"] for d in doms if d["domid"] != 0]
        pss = sum(pss_kib(p) for p in pids)
        rss = sum(d.get("rss_kib", 0) for d in doms if d["domid"] != 0)
        for i in range(n):
            subprocess.run([os.path.join(BUILD, "domus"), "destroy", "d%d" % i], env=env,
                           capture_output=True)
        return {"create_s": dt, "rate": n / dt, "ready_s": ready,
                "mem_kib": (before - after) / n, "pss_kib": pss / n, "rss_kib": rss / n}
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
        shutil.rmtree(state, ignore_errors=True)


def bench_qemu(n, mem):
    work = tempfile.mkdtemp(prefix="density-qemu-", dir="/run")
    cmds, logs, pidfiles = [], [], []
    for i in range(n):
        log, pidf = os.path.join(work, "q%d.log" % i), os.path.join(work, "q%d.pid" % i)
        logs.append(log)
        pidfiles.append(pidf)
        cmds.append(["qemu-system-x86_64", "-M", "microvm", "-accel", "kvm", "-cpu", "host",
                     "-m", str(mem), "-smp", "1", "-nodefaults", "-no-user-config",
                     "-display", "none", "-monitor", "none", "-serial", "file:" + log,
                     "-kernel", GUEST, "-append", "ms=0", "-daemonize", "-pidfile", pidf])
    pids = []
    try:
        settle()
        before = mem_available_kib()
        note("qemu: starting %d VMs" % n)
        dt, t0, fails = launch_all(cmds)
        note("qemu: started in %.2f s, %d failed" % (dt, len(fails)))
        for pf in pidfiles:
            try:
                pids.append(int(open(pf).read()))
            except (FileNotFoundError, ValueError):
                pass
        if fails:
            raise RuntimeError("qemu failed: " + fails[0])
        ready = wait_ready(logs, t0)
        settle()
        after = mem_available_kib()
        pss = sum(pss_kib(p) for p in pids)
        rss = 0
        for p in pids:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
        return {"create_s": dt, "rate": n / dt, "ready_s": ready,
                "mem_kib": (before - after) / n, "pss_kib": pss / n, "rss_kib": rss / n}
    finally:
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--memory", type=int, default=64)
    ap.add_argument("--json")
    a = ap.parse_args()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit("density: needs /dev/kvm (bench/density/run.sh uses tools/kvmhost)")
    res = {"n": a.n, "memory_mib": a.memory, "domus": bench_domus(a.n, a.memory),
           "qemu_microvm": bench_qemu(a.n, a.memory)}
    d, q = res["domus"], res["qemu_microvm"]
    print("density: %d domains of %d MiB (tiny guest 'ticker'), launched at once" % (a.n, a.memory))
    print("%-14s %14s %12s %14s %14s %12s" % ("", "create (dom/s)", "all ready(s)",
                                              "host mem/dom", "PSS/dom", "RSS/dom"))
    for name, r in (("domus", d), ("qemu microvm", q)):
        print("%-14s %14.1f %12.2f %11.0f KiB %10.0f KiB %8.0f KiB" % (
            name, r["rate"], r["ready_s"], r["mem_kib"], r["pss_kib"], r["rss_kib"]))
    rate_x = d["rate"] / q["rate"]
    mem_x = d["mem_kib"] / q["mem_kib"] if q["mem_kib"] > 0 else float("nan")
    print("domus/qemu: creation rate x%.2f (target >= 2), host memory per domain x%.2f "
          "(target <= 0.5)" % (rate_x, mem_x))
    res["rate_ratio"], res["mem_ratio"] = rate_x, mem_x
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
