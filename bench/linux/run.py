#!/usr/bin/python3
"""bench/linux: the guest kit and Debian's stock kernel, Domus against QEMU, alternating in one run.

For each round (default 5, after one warm-up round that is not counted) and each VMM:
  * kit:   the kit's vmlinux (PVH ELF) + initramfs.cpio, command line "console=ttyS0":
           process start -> "domus-kit: ready" complete on the serial console; then, at the
           shell prompt, "poweroff" is typed: process start -> the process has exited, and
           typed -> exited;
  * stock: Debian's unmodified kernel (cache/stock/vmlinuz, a bzImage) with the same
           initramfs and command line: process start -> "Run /init as init process" complete
           (the process is then killed).
Domus: build/domus run --kernel K --initrd I --cmdline C --memory M --vcpus N.
QEMU:  qemu-system-x86_64 -M microvm,pit=on,pic=on,rtc=on -accel kvm -cpu host (Domus hands
       the guest the host's CPUID too) with the same kernel, initramfs, command line, memory
       and vCPUs; the serial console on stdio. microvm loads a PVH ELF or a bzImage through
       its qboot firmware.
The VMM that goes first alternates from round to round. Medians and Domus/QEMU ratios are
printed; absolute times are only comparable within one run on one machine.

Needs a usable /dev/kvm (bench/linux/run.sh enters tools/kvmhost when there is none). Every
run's serial output is kept in --logs (default build/bench-linux/).
"""
import argparse
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.environ.get("DOMUS_CACHE", os.path.join(TOP, "cache"))
BANNER = b"domus-kit: ready"
PROMPT = b"domus-kit# "
RUN_INIT = b"Run /init as init process"
# Every figure is taken on the host's clock. The kernel's printk timestamps (in the logs) are
# not comparable between the VMMs in the nested host: under QEMU the guest's clock stood still
# for the 62 lines of a WARN dump that took seconds under both.


def load_core():
    """bench/core/run.py's process harness (stdout timestamped per read, exit seen by pidfd)."""
    path = os.path.join(TOP, "bench/core/run.py")
    spec = importlib.util.spec_from_file_location("bench_core", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


core = load_core()


def domus_argv(a, kernel, initrd, cmdline):
    return [a.domus, "run", "--kernel", kernel, "--initrd", initrd, "--cmdline", cmdline,
            "--memory", str(a.memory), "--vcpus", str(a.vcpus)]


def qemu_argv(a, kernel, initrd, cmdline):
    return [a.qemu, "-M", a.machine, "-accel", "kvm", "-cpu", "host", "-m", str(a.memory),
            "-smp", str(a.vcpus), "-nodefaults", "-no-user-config", "-nographic",
            "-serial", "stdio", "-no-reboot", "-kernel", kernel, "-initrd", initrd,
            "-append", cmdline]


class Run:
    """One guest run: the harness process plus its log file."""

    def __init__(self, argv, log):
        self.log = log
        self.p = core.Proc(argv)

    def since_start(self, needle, timeout):
        t, _ = self.p.wait_for(needle, timeout)
        return t - self.p.t0

    def close(self, status):
        self.p.close()
        with open(self.log, "wb") as f:
            f.write(("# %s\n# %s\n" % (" ".join(self.p.argv), status)).encode())
            f.write(bytes(self.p.out))
            f.write(b"\n--- stderr ---\n" + bytes(self.p.err))


def run_kit(argv, a, log):
    r = Run(argv, log)
    rec, status = {}, "ok"
    try:
        rec["banner"] = r.since_start(BANNER, a.timeout)
        r.p.wait_for(PROMPT, a.timeout)
        t_typed = time.monotonic()
        r.p.send(b"poweroff\n")
        rc = r.p.wait_exit(a.timeout)
        if rc != 0:
            raise core.BenchError("exit status %d after poweroff" % rc)
        rec["exit"] = r.p.t_exit - r.p.t0
        rec["off"] = r.p.t_exit - t_typed
    except (core.BenchError, OSError) as e:
        status = "FAILED: %s" % e
    finally:
        r.close(status)
    return rec, status


def run_stock(argv, a, log):
    r = Run(argv, log)
    rec, status = {}, "ok"
    try:
        rec["run_init"] = r.since_start(RUN_INIT, a.timeout)
    except (core.BenchError, OSError) as e:
        status = "FAILED: %s" % e
    finally:
        r.close(status)
    return rec, status


# (case, key, label)
METRICS = [
    ("kit", "banner", "kit: start -> \"domus-kit: ready\""),
    ("kit", "exit", "kit: start -> exit (poweroff typed)"),
    ("kit", "off", "kit: poweroff typed -> exit"),
    ("stock", "run_init", "stock: start -> \"Run /init\""),
]


def report(res, a):
    print("\nMedians of the rounds that finished (of %d), seconds; %d vCPU(s), %d MiB, "
          "QEMU -M %s:" % (a.rounds, a.vcpus, a.memory, a.machine))
    print("%-40s %9s %9s %11s" % ("", "Domus", "QEMU", "Domus/QEMU"))
    for case, key, label in METRICS:
        d = [x[key] for x in res["Domus"][case] if key in x]
        q = [x[key] for x in res["QEMU"][case] if key in x]
        if not d and not q:
            continue
        md = statistics.median(d) if d else None
        mq = statistics.median(q) if q else None
        ratio = "%10.2fx" % (md / mq) if md and mq else "%11s" % "-"
        print("%-40s %9s %9s %s   (n=%d/%d)" % (label, "%.2f" % md if md else "-",
                                                "%.2f" % mq if mq else "-", ratio, len(d), len(q)))
    print("target (issue 3): kit to shell, Domus <= 0.6x QEMU")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="measured rounds (default 5)")
    ap.add_argument("--warmup", type=int, default=1, help="uncounted rounds first (default 1)")
    ap.add_argument("--memory", type=int, default=256, help="guest RAM in MiB (default 256)")
    ap.add_argument("--vcpus", type=int, default=1)
    ap.add_argument("--cmdline", default="console=ttyS0", help="kernel command line for both")
    # microvm leaves the CMOS RTC out under KVM by default; both kernels then spend a long time
    # probing the absent chip (rtc_cmos: "broken or not accessible"), and the kit has no date.
    # Domus's PC has an RTC, a PIT and a PIC, so QEMU gets the same.
    ap.add_argument("--machine", default="microvm,pit=on,pic=on,rtc=on", help="QEMU -M value")
    ap.add_argument("--only", choices=("kit", "stock"), help="run one of the two kernels only")
    ap.add_argument("--domus", default=os.path.join(TOP, "build", "domus"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--kit", default=os.path.join(CACHE, "kit"))
    ap.add_argument("--stock", default=os.path.join(CACHE, "stock", "vmlinuz"))
    ap.add_argument("--timeout", type=int, default=600, help="seconds per step of a run")
    ap.add_argument("--logs", default=os.path.join(TOP, "build", "bench-linux"))
    a = ap.parse_args()

    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        sys.exit("domus: bench/linux: /dev/kvm is not usable here; use bench/linux/run.sh")
    vmlinux, initrd = os.path.join(a.kit, "vmlinux"), os.path.join(a.kit, "initramfs.cpio")
    need = [a.domus, vmlinux, initrd] + ([] if a.only == "kit" else [a.stock])
    for f in need:
        if not os.path.exists(f):
            sys.exit("domus: bench/linux: %s is missing (make; tools/kit/build.sh; "
                     "tools/kit/fetch-stock.sh)" % f)
    if not shutil.which(a.qemu):
        sys.exit("domus: bench/linux: %s not found" % a.qemu)
    # Both VMMs read the images from the same local copy (in the nested host the work tree is
    # a 9p mount, which would add its reads to whichever VMM loads a file first).
    stage = tempfile.mkdtemp(prefix="bench-linux-")
    files = {}
    for name, src in (("vmlinux", vmlinux), ("initrd", initrd), ("stock", a.stock)):
        if os.path.exists(src):
            files[name] = os.path.join(stage, name)
            shutil.copyfile(src, files[name])
    os.makedirs(a.logs, exist_ok=True)

    cases = [c for c in ("kit", "stock") if a.only in (None, c)]
    vmms = [("Domus", domus_argv), ("QEMU", qemu_argv)]
    print("host: %s; Domus %s; QEMU %s -M %s" % (core.host_mode(a.domus),
                                                 os.path.relpath(a.domus, TOP), a.qemu, a.machine))
    print("rounds: %d (+%d warm-up), VMM order alternates; logs in %s" % (a.rounds, a.warmup,
                                                                        a.logs), flush=True)
    res = {v: {c: [] for c in cases} for v, _ in vmms}
    t_begin = time.monotonic()
    try:
        for rnd in range(-a.warmup, a.rounds):
            order = vmms if rnd % 2 == 0 else vmms[::-1]
            tag = "w%d" % (rnd + a.warmup) if rnd < 0 else "%d" % rnd
            for name, argv_for in order:
                for case in cases:
                    kernel = files["vmlinux"] if case == "kit" else files["stock"]
                    argv = argv_for(a, kernel, files["initrd"], a.cmdline)
                    log = os.path.join(a.logs, "%s-%s-%s.log" % (tag, name.lower(), case))
                    rec, status = (run_kit if case == "kit" else run_stock)(argv, a, log)
                    if rnd >= 0:
                        res[name][case].append(rec)
                    print("[%6.0f s] round %-2s %-5s %-5s %s  %s" % (
                        time.monotonic() - t_begin, tag, name, case,
                        " ".join("%s=%.2f" % kv for kv in rec.items()),
                        status if status == "ok" else "%s (log %s)" % (status, log)), flush=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    report(res, a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
