#!/usr/bin/env python3
"""Boot every tiny test guest under QEMU and check the PASS/FAIL/DONE protocol.

The same guests run under Domus; this script is the reference run (and A/B baseline)
on QEMU. It feeds the serial guest's input, passes the cmdline keys each guest reads,
and checks: QEMU exit status 0, a "PASS <guest>" line, no "FAIL" line, and "DONE".

  tests/guest/qemu_check.py [--machine pc|microvm] [--accel tcg|kvm] [--timer-tol N] [NAME...]
"""
import argparse
import os
import select
import struct
import subprocess
import sys
import tempfile
import time

GUESTS_DIR = os.environ.get("GUESTS_DIR", "build/guests")

_scratch = []  # temporary images, removed when the script ends

IDEREAD_MAGIC = 0x1de5ec7000000000  # tests/guest/g_ideread.c


def ideread_image(mib, magic=IDEREAD_MAGIC):
    """A temporary raw image of mib MiB with the pattern g_ideread.c checks: 64-bit little-endian
    word i of the disk (word k of sector N: i = N * 64 + k) is IDEREAD_MAGIC ^ i."""
    f = tempfile.NamedTemporaryFile(prefix="qemu-check-", suffix=".img")
    words = mib << 17
    f.write(struct.pack("<%dQ" % words, *[magic ^ i for i in range(words)]))
    f.flush()
    _scratch.append(f)
    return f.name


# A line that must be there besides PASS, for guests whose PASS alone would not say the check ran.
EXPECT = {
    "timer": "timer: checking rates within %d%%",  # the --timer-tol given
    "ideread": "ideread: 2 MiB match the pattern",
}


def cases(machine, accel, timer_tol):
    """(label, guest, qemu args, cmdline, serial input by prompt, needs reboot)."""
    now = str(int(time.time()))
    # Under TCG the guest's clocks follow the host's, and a busy host starves the vCPU thread:
    # PIT and LAPIC expirations coalesce (seen: 67 Hz for 100 Hz with two other busy CPUs).
    # With -icount every clock the timer guest compares (PIT, LAPIC, PM timer, TSC) runs on one
    # virtual clock driven by executed instructions, so the check is about the guest's
    # arithmetic and programming of the timers, independent of host load.
    timer_args = ["-icount", "shift=3,sleep=off"] if accel == "tcg" else []
    c = [
        ("serial", "serial", [], "n=8", {b"READY poll 8": b"pollRX!\\", b"READY irq 8": b"irq-RX\x01z"}, False),
        ("smp", "smp", ["-smp", "4"], "cpus=4", {}, False),
        ("memmap", "memmap", ["-m", "256"], "mem=256", {}, False),
        ("rtc", "rtc", [], "now=" + now, {}, False),
        ("timer", "timer", timer_args, "tol=%d" % timer_tol, {}, False),
        ("poweroff", "poweroff", [], "", {}, False),
        ("mmio", "mmio", [], "mmio_ones=0", {}, False),  # QEMU reads unassigned MMIO as 0
        ("exits", "exits", [], "n=10000", {}, False),
    ]
    if machine == "pc":
        c += [
            ("memmap-5g", "memmap", ["-m", "5120"], "mem=5120", {}, False),
            ("memmap-16g", "memmap", ["-m", "16384"], "mem=16384", {}, False),
            ("reset-cf9", "reset", [], "how=cf9", {}, True),
            ("reset-kbd", "reset", [], "how=kbd", {}, True),
            ("reset-triple", "reset", [], "how=triple", {}, True),
            # bench/fv's IDE read guest on QEMU's PIIX IDE (a 2 MiB image with its pattern)
            ("ideread", "ideread", ["-m", "256", "-drive", "file=%s,format=raw,if=ide,index=0" %
                                    ideread_image(2)], "mib=2", {}, False),
        ]
    return c


def run(qemu, machine, accel, guest, args, cmdline, inputs, reboot, timeout):
    cmd = [qemu, "-M", machine, "-accel", accel, "-m", "128", "-display", "none",
           "-serial", "stdio", "-monitor", "none", "-kernel", os.path.join(GUESTS_DIR, guest + ".elf")]
    cmd += args  # a later -m/-smp overrides the default
    if cmdline:
        cmd += ["-append", cmdline]
    if not reboot:
        cmd.append("-no-reboot")
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out, pending, t0 = b"", dict(inputs), time.time()
    sent = []
    while time.time() - t0 < timeout:
        r, _, _ = select.select([p.stdout], [], [], 0.5)
        if r:
            d = os.read(p.stdout.fileno(), 4096)
            if not d:
                break
            out += d
            for prompt in list(pending):
                if prompt + b"\r\n" in out:
                    data = pending.pop(prompt)
                    p.stdin.write(data)
                    p.stdin.flush()
                    sent.append(data)
        elif p.poll() is not None:
            break
    try:
        rc = p.wait(timeout=max(2, timeout - (time.time() - t0)))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = "timeout"
    return rc, out.decode(errors="replace"), sent


def echo_of(data):
    return "".join(chr(b) if 0x20 <= b < 0x7f and b != 0x5c else "\\x%02x" % b for b in data)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--machine", default="pc")
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--timer-tol", type=int, default=10)
    ap.add_argument("--timeout", type=int, default=90)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    failed = 0
    for label, guest, args, cmdline, inputs, reboot in cases(a.machine, a.accel, a.timer_tol):
        if a.names and label not in a.names and guest not in a.names:
            continue
        rc, out, sent = run(a.qemu, a.machine, a.accel, guest, args, cmdline, inputs, reboot, a.timeout)
        lines = [l.strip() for l in out.splitlines()]
        why = []
        if rc != 0:
            why.append("exit status %s" % rc)
        if "PASS " + guest not in lines:
            why.append("no PASS line")
        if any(l.startswith("FAIL") for l in lines):
            why.append("FAIL line")
        if "DONE" not in lines:
            why.append("no DONE line")
        for data in sent:
            if "ECHO " + echo_of(data) not in lines:
                why.append("no ECHO of %r" % data)
        want = EXPECT.get(label, "").replace("%d%%", "%d%%" % a.timer_tol)
        if want and want not in lines:
            why.append("no line %r" % want)
        if reboot and not ("BOOT 1" in lines and "BOOT 2" in lines):
            why.append("no BOOT 1 / BOOT 2")
        print("%-5s %-14s %s" % ("ok" if not why else "FAIL", label, "; ".join(why)))
        if why or a.verbose:
            start = out.find("START ")
            sys.stdout.write("".join("    " + l + "\n" for l in out[max(start, 0):].splitlines()))
        failed += bool(why)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
