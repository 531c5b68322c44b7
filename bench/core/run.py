#!/usr/bin/python3
"""bench/core: Domus and QEMU run the same tiny guests, alternating in one run.

For each round (default 7, after one warm-up round that is not counted) and each VMM:
  * the `exits` guest:  process start -> first byte of "START exits" on stdout;
                        PIO/MMIO exit round trips per second from the guest's CPL3 loops;
                        "DONE" line complete -> the process has exited (ACPI S5 power-off);
  * the `serial` guest: while it waits for input, the VMM's RSS outside guest RAM, from
                        /proc/PID/smaps.
The order of the two VMMs alternates from round to round. Medians and Domus/QEMU ratios are
printed; absolute times are only comparable within one run on one machine.

Needs a usable /dev/kvm (on hosts without one: tools/kvmhost/kvmhost.sh -- /usr/bin/python3
bench/core/run.py). Uses the normal build (build/domus, build/guests), never build-san.
"""
import argparse
import fcntl
import os
import select
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MIB = 1 << 20
PCI_HOLE_START = 3 << 30  # Domus: low RAM is min(memory, 3 GiB), the rest starts at 4 GiB
EXIT_TESTS = ("pio_in", "pio_out", "mmio_in", "mmio_out")
# A port and an MMIO address that neither VMM decodes: both drop writes and return a constant
# (Domus all ones, QEMU's unassigned region 0), so each access is one plain exit round trip.
# 0x440 is free on the PC and on microvm; 0xd0000000 is unassigned in Domus's PCI window and in
# microvm (no PCIe there unless pcie=on).
EXIT_PORT = 0x440
EXIT_MMIO = 0xD0000000
SERIAL_INPUT = b"bench-rx"  # 8 bytes, sent after each READY line of the serial guest


class BenchError(Exception):
    pass


VERBOSE = False
T_BEGIN = time.monotonic()


def progress(msg):
    if VERBOSE:
        print("[%7.1f s] %s" % (time.monotonic() - T_BEGIN, msg))
        sys.stdout.flush()


class Vmm:
    """How to start one VMM with a tiny guest."""

    def __init__(self, name, argv_for, ram_sizes):
        self.name = name
        self.argv_for = argv_for    # (guest elf, cmdline) -> argv
        self.ram_sizes = ram_sizes  # sizes in bytes of the guest RAM mappings


def domus_vmm(binary, mem_mib):
    mem = mem_mib * MIB
    sizes = [min(mem, PCI_HOLE_START)] + ([mem - PCI_HOLE_START] if mem > PCI_HOLE_START else [])

    def argv(elf, cmdline):
        return [binary, "run", "--memory", str(mem_mib), "--kernel", elf, "--cmdline", cmdline]
    return Vmm("Domus", argv, sizes)


def qemu_vmm(binary, machine, mem_mib):
    # microvm boots a PVH ELF through its qboot firmware; its ACPI (on by default, spelled out
    # here) is hardware-reduced with a GED sleep control register, which the guests' power-off
    # path uses. QEMU backs all guest RAM with one anonymous mapping of the full size.
    mach = "microvm,acpi=on" if machine == "microvm" else machine

    def argv(elf, cmdline):
        return [binary, "-M", mach, "-accel", "kvm", "-m", str(mem_mib), "-nodefaults",
                "-no-user-config", "-nographic", "-serial", "stdio", "-no-reboot",
                "-kernel", elf, "-append", cmdline]
    return Vmm("QEMU", argv, [mem_mib * MIB])


class Proc:
    """A VMM process whose stdout we timestamp chunk by chunk; pidfd tells when it exits."""

    def __init__(self, argv):
        self.argv = argv
        self.out = bytearray()
        self.err = bytearray()
        self.chunks = []  # (end offset in out, monotonic time of the read)
        self.t_exit = None
        self.t0 = time.monotonic()
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, cwd=TOP)
        self.pidfd = os.pidfd_open(self.p.pid)
        self.poll = select.poll()
        self.fds = {}
        for f, buf in ((self.p.stdout, self.out), (self.p.stderr, self.err)):
            fd = f.fileno()
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
            self.fds[fd] = buf
            self.poll.register(fd, select.POLLIN)
        self.poll.register(self.pidfd, select.POLLIN)

    def _step(self, timeout_s):
        events = self.poll.poll(max(0, timeout_s) * 1000)
        now = time.monotonic()
        for fd, ev in events:
            if fd == self.pidfd:
                self.t_exit = now
                self.poll.unregister(fd)
                continue
            try:
                d = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not d:
                self.poll.unregister(fd)
                del self.fds[fd]
                continue
            buf = self.fds[fd]
            buf += d
            if buf is self.out:
                self.chunks.append((len(buf), now))

    def time_at(self, offset):
        """When the byte at offset of stdout was read."""
        for end, t in self.chunks:
            if offset < end:
                return t
        raise BenchError("no byte %d in the output" % offset)

    def wait_for(self, needle, timeout):
        """Time at which needle (bytes) had fully arrived on stdout, and its offset."""
        deadline = time.monotonic() + timeout
        while True:
            i = self.out.find(needle)
            if i >= 0:
                return self.time_at(i + len(needle) - 1), i
            if self.t_exit is not None and not self.fds:
                raise BenchError("%s exited before printing %r" % (self.name(), needle))
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError("%s: no %r within %d s" % (self.name(), needle, timeout))
            self._step(min(left, 1.0))

    def wait_exit(self, timeout):
        deadline = time.monotonic() + timeout
        while self.t_exit is None or self.fds:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError("%s did not exit within %d s" % (self.name(), timeout))
            self._step(min(left, 1.0))
        return self.p.wait()

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def name(self):
        return os.path.basename(self.argv[0])

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        try:
            self.p.wait(timeout=60)
        finally:
            for f in (self.p.stdin, self.p.stdout, self.p.stderr):
                f.close()
            os.close(self.pidfd)

    def transcript(self):
        return ("$ %s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
            " ".join(self.argv), self.out.decode(errors="replace")[-3000:],
            self.err.decode(errors="replace")[-2000:]))


def smaps(pid):
    """[(header line, {field: kB})] for every mapping of pid."""
    maps = []
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if " " not in key and rest and rest.split()[-1] == "kB":
                maps[-1][1][key] = int(rest.split()[0])
            elif "-" in line.split(" ", 1)[0]:
                maps.append((line.rstrip("\n"), {}))
    return maps


def is_anonymous(header):
    f = header.split(None, 5)
    return len(f) < 6 or f[5].startswith("[anon")


def overhead_kib(maps, ram_sizes):
    """Rss of all mappings except guest RAM: for each RAM size, the anonymous mapping of exactly
    that size with the most Rss. Returns (overhead kB, guest RAM Rss kB)."""
    left = list(range(len(maps)))
    ram_rss = 0
    for size in ram_sizes:
        cand = [i for i in left if is_anonymous(maps[i][0]) and maps[i][1].get("Size") == size // 1024]
        if not cand:
            raise BenchError("no anonymous mapping of %d KiB (guest RAM) in smaps" % (size // 1024))
        best = max(cand, key=lambda i: maps[i][1].get("Rss", 0))
        ram_rss += maps[best][1].get("Rss", 0)
        left.remove(best)
    return sum(maps[i][1].get("Rss", 0) for i in left), ram_rss


def run_exits(vmm, args, rec):
    cmdline = "n=%d port=0x%x mmio=0x%x" % (args.n, EXIT_PORT, EXIT_MMIO)
    p = Proc(vmm.argv_for(os.path.join(args.guests, "exits.elf"), cmdline))
    try:
        p.wait_for(b"START exits", args.timeout)
        progress("  started")
        # The first byte of the START line: the chunk that held the "S".
        rec["start_ms"] = (p.time_at(p.out.find(b"START exits")) - p.t0) * 1000
        for t in EXIT_TESTS:
            p.wait_for(b"exits: %s " % t.encode(), args.timeout)
            progress("  %s done" % t)
        t_done, _ = p.wait_for(b"DONE\r\n", args.timeout)
        rc = p.wait_exit(args.timeout)
        rec["exit_ms"] = (p.t_exit - t_done) * 1000
        text = p.out.decode(errors="replace")
        if rc != 0 or "PASS exits" not in text or "FAIL" in text:
            raise BenchError("exits guest failed (status %s)" % rc)
        # Each test's line is printed right after its loop: the time between it and the line
        # before, on the host's clock, is the loop (plus one printed line, the same for both
        # VMMs). The guest's own figures rest on its TSC calibration, which uses a different
        # timer under each VMM (PM timer in Domus, PIT in microvm), so they are shown apart.
        prev_t, pos = None, 0
        for raw in bytes(p.out).split(b"\n"):
            end = pos + len(raw)
            pos = end + 1
            f = raw.decode(errors="replace").split()
            if f[:2] and f[0] == "exits:" and f[1].startswith("tsc_khz="):
                prev_t = p.time_at(end)
                rec["guest_tsc_khz"] = int(f[1].split("=")[1])
            elif len(f) == 5 and f[0] == "exits:" and f[1] in EXIT_TESTS and prev_t is not None:
                kv = dict(x.split("=", 1) for x in f[2:])
                n, us = int(kv["n"]), int(kv["total_us"])
                t = p.time_at(end)
                rec[f[1]] = n / (t - prev_t)
                rec["guest_" + f[1]] = n * 1e6 / us if us else float("inf")
                prev_t = t
        missing = [t for t in EXIT_TESTS if t not in rec]
        if missing:
            raise BenchError("exits guest printed no figure for " + ", ".join(missing))
    except BenchError as e:
        raise BenchError("%s: %s\n%s" % (vmm.name, e, p.transcript()))
    finally:
        p.close()


def run_memory(vmm, args, rec, dump):
    cmdline = "n=%d timeout=%d" % (len(SERIAL_INPUT), args.timeout)
    p = Proc(vmm.argv_for(os.path.join(args.guests, "serial.elf"), cmdline))
    try:
        p.wait_for(b"READY poll %d\r\n" % len(SERIAL_INPUT), args.timeout)
        progress("  waiting for input")
        time.sleep(args.settle)  # let the VMM finish whatever it does after boot
        maps = smaps(p.p.pid)
        over, ram = overhead_kib(maps, vmm.ram_sizes)
        rec["rss_mib"] = over / 1024
        rec["ram_rss_mib"] = ram / 1024
        if dump:
            print("\n%s smaps, mappings with Rss > 0 (guest RAM excluded from the sum):" % vmm.name)
            for header, fields in sorted(maps, key=lambda m: -m[1].get("Rss", 0)):
                if fields.get("Rss", 0):
                    print("  %6d kB Rss %8d kB size  %s" % (fields["Rss"], fields["Size"], header))
        p.send(SERIAL_INPUT)
        p.wait_for(b"READY irq %d\r\n" % len(SERIAL_INPUT), args.timeout)
        p.send(SERIAL_INPUT)
        rc = p.wait_exit(args.timeout)
        text = p.out.decode(errors="replace")
        if rc != 0 or "PASS serial" not in text or "FAIL" in text:
            raise BenchError("serial guest failed (status %s)" % rc)
    except (BenchError, OSError) as e:
        raise BenchError("%s: %s\n%s" % (vmm.name, e, p.transcript()))
    finally:
        p.close()


# (key, label, unit scale, better, target: (kind, value) or None)
METRICS = [
    ("start_ms", "start -> first serial line (ms)", 1, "lower", ("ratio_le", 0.5)),
    ("pio_in", "pio_in round trips, host clock (k/s)", 1e-3, "higher", ("ratio_gt", 1.0)),
    ("pio_out", "pio_out round trips, host clock (k/s)", 1e-3, "higher", ("ratio_gt", 1.0)),
    ("mmio_in", "mmio_in round trips, host clock (k/s)", 1e-3, "higher", ("ratio_gt", 1.0)),
    ("mmio_out", "mmio_out round trips, host clock (k/s)", 1e-3, "higher", ("ratio_gt", 1.0)),
    ("guest_pio_in", "  pio_in, guest's TSC (k/s)", 1e-3, "higher", None),
    ("guest_pio_out", "  pio_out, guest's TSC (k/s)", 1e-3, "higher", None),
    ("guest_mmio_in", "  mmio_in, guest's TSC (k/s)", 1e-3, "higher", None),
    ("guest_mmio_out", "  mmio_out, guest's TSC (k/s)", 1e-3, "higher", None),
    ("guest_tsc_khz", "  guest's TSC calibration (MHz)", 1e-3, None, None),
    ("exit_ms", "DONE -> process exit (ms)", 1, "lower", None),
    ("rss_mib", "VMM RSS outside guest RAM (MiB)", 1, "lower", ("abs_lt", 3.0)),
]


def verdict(target, ratio, domus):
    if not target:
        return ""
    kind, v = target
    if kind == "ratio_le":
        return ("ok" if ratio <= v else "MISSED") + " (<= %.2gx)" % v
    if kind == "ratio_gt":
        return ("ok" if ratio > v else "MISSED") + " (> %.2gx)" % v
    return ("ok" if domus < v else "MISSED") + " (< %g MiB)" % v


def fmt(v):
    if v >= 100:
        return "%.0f" % v
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def report(results, vmms, args):
    print("\nMedians of %d rounds (%s guest RAM %d MiB, exits n=%d):" % (
        args.rounds, "QEMU -M %s," % args.machine, args.memory, args.n))
    print("%-40s %10s %10s %11s  %s" % ("", vmms[0].name, vmms[1].name, "Domus/QEMU", "target"))
    missed = 0
    for key, label, scale, _, target in METRICS:
        a = [r[key] for r in results[vmms[0].name] if key in r]
        b = [r[key] for r in results[vmms[1].name] if key in r]
        if not a or not b:
            continue
        ma, mb = statistics.median(a), statistics.median(b)
        ratio = ma / mb if mb else float("inf")
        v = verdict(target, ratio, ma)
        missed += v.startswith("MISSED")
        print("%-40s %10s %10s %10.2fx  %s" % (label, fmt(ma * scale), fmt(mb * scale), ratio, v))
    ram = [r["ram_rss_mib"] for r in results[vmms[0].name] if "ram_rss_mib" in r]
    qram = [r["ram_rss_mib"] for r in results[vmms[1].name] if "ram_rss_mib" in r]
    if ram and qram:
        print("(guest RAM resident, not counted above: Domus %.1f MiB, QEMU %.1f MiB)" % (
            statistics.median(ram), statistics.median(qram)))
    return missed


def host_mode(domus):
    try:
        out = subprocess.run([domus, "info"], capture_output=True, text=True, timeout=30).stdout
    except OSError as e:
        return "unknown (%s)" % e
    for line in out.splitlines():
        if line.startswith("host_virtualization"):
            return line.split(":", 1)[1].strip()
    return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=7, help="measured rounds (default 7)")
    ap.add_argument("--warmup", type=int, default=1, help="uncounted rounds first (default 1)")
    ap.add_argument("--n", type=int, default=10000, help="exits per test in the exits guest")
    ap.add_argument("--memory", type=int, default=128, help="guest RAM in MiB (default 128)")
    ap.add_argument("--machine", default="microvm", help="QEMU machine: microvm (default) or pc")
    ap.add_argument("--domus", default=os.path.join(TOP, "build", "domus"))
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--guests", default=os.path.join(TOP, "build", "guests"))
    ap.add_argument("--settle", type=float, default=0.5,
                    help="seconds between the serial guest's READY line and reading smaps")
    ap.add_argument("--timeout", type=int, default=120, help="seconds per guest run")
    ap.add_argument("--only", choices=("exits", "memory"), help="run one of the two guests only")
    ap.add_argument("--smaps", action="store_true", help="print each VMM's mappings once")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every round's figures")
    args = ap.parse_args()
    global VERBOSE
    VERBOSE = args.verbose

    if not (os.access("/dev/kvm", os.R_OK | os.W_OK)):
        sys.exit("domus: bench: /dev/kvm is not usable here; run it on a KVM host, e.g. "
                 "tools/kvmhost/kvmhost.sh -- /usr/bin/python3 bench/core/run.py")
    for f in (args.domus, os.path.join(args.guests, "exits.elf"),
              os.path.join(args.guests, "serial.elf")):
        if not os.path.exists(f):
            sys.exit("domus: bench: %s is missing (run make)" % f)
    vmms = [domus_vmm(args.domus, args.memory), qemu_vmm(args.qemu, args.machine, args.memory)]
    print("host: %s; Domus %s; QEMU %s -M %s" % (
        host_mode(args.domus), os.path.relpath(args.domus, TOP), args.qemu, args.machine))
    print("rounds: %d (+%d warm-up), VMM order alternates" % (args.rounds, args.warmup))
    sys.stdout.flush()

    results = {v.name: [] for v in vmms}
    dumped = set()
    try:
        for rnd in range(-args.warmup, args.rounds):
            order = vmms if rnd % 2 == 0 else vmms[::-1]
            for v in order:
                rec = {}
                if args.only != "memory":
                    progress("%s: exits guest" % v.name)
                    run_exits(v, args, rec)
                if args.only != "exits":
                    progress("%s: serial guest" % v.name)
                    dump = args.smaps and rnd >= 0 and v.name not in dumped
                    run_memory(v, args, rec, dump)
                    dumped.add(v.name) if dump else None
                if rnd >= 0:
                    results[v.name].append(rec)
                if args.verbose:
                    print("round %s %-5s %s" % (rnd if rnd >= 0 else "w", v.name, " ".join(
                        "%s=%s" % (k, fmt(x)) for k, x in sorted(rec.items()))))
                    sys.stdout.flush()
    except BenchError as e:
        sys.exit("domus: bench: %s" % e)
    missed = report(results, vmms, args)
    print("\n%s" % ("all targets met" if not missed else "%d target(s) missed" % missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
