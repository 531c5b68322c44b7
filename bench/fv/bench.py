#!/usr/bin/env python3
"""bench/fv: FV guests, Domus against QEMU -M pc (same SeaBIOS, same media, alternating runs).

  1. process start -> GRUB's "grub>" prompt with Debian's grub-rescue-cdrom.iso
  2. sequential read MB/s of one disk image through IDE (bus-master DMA) by a tiny guest
     (build/guests/ideread.elf); the PV side (virtio-blk) is bench/io.

Needs KVM (run it through tools/kvmhost/kvmhost.sh on hosts without /dev/kvm) and the media
from tools/fv/fetch-media.sh. Usage: bench/fv/bench.py [--rounds N] [--mib N]
"""
import argparse
import os
import re
import select
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.environ.get("DOMUS_CACHE", os.path.join(TOP, "cache"))
FV = os.path.join(CACHE, "fv")
BIOS = os.path.join(FV, "root/usr/share/seabios/bios-256k.bin")
ISO = os.path.join(FV, "root/usr/lib/grub-rescue/grub-rescue-cdrom.iso")
DOMUS = os.path.join(TOP, "build/domus")
IDEREAD = os.path.join(TOP, "build/guests/ideread.elf")
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1bc")


def to_prompt(cmd, timeout):
    """Seconds from process start to "grub>", pressing 'c' at GRUB's menu."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    raw, pressed, took = b"", False, None
    try:
        while time.monotonic() - t0 < timeout:
            r, _, _ = select.select([p.stdout], [], [], 0.2)
            if not r:
                continue
            d = os.read(p.stdout.fileno(), 65536)
            if not d:
                break
            raw += d
            # sercon sends only changed cells: compare without blanks
            text = re.sub(rb"\s+", b"", ANSI.sub(b"", raw))
            if not pressed and b"foracommand-line" in text:
                p.stdin.write(b"c")
                p.stdin.flush()
                pressed = True
            if b"grub>" in text:
                took = time.monotonic() - t0
                break
    finally:
        p.kill()
        p.wait()
    return took


def ideread(cmd, timeout):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout).stdout
    except subprocess.TimeoutExpired:
        return None
    m = re.search(r"ideread: (\d+) MiB in (\d+) ms", out)
    if not m:
        return None
    return int(m.group(1)) * 1048576 / 1e6 / (int(m.group(2)) / 1000.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mib", type=int, default=64)
    ap.add_argument("--timeout", type=float, default=900)
    a = ap.parse_args()
    for f in (BIOS, ISO, DOMUS, IDEREAD):
        if not os.path.exists(f):
            sys.exit("domus: bench/fv: %s is missing (run make and tools/fv/fetch-media.sh)" % f)
    sercon = tempfile.NamedTemporaryFile(delete=False)
    sercon.write(b"\xf8\x03")
    sercon.close()
    disk = tempfile.NamedTemporaryFile(delete=False)
    disk.truncate(a.mib * 1048576)
    disk.close()
    grub = {
        "domus": [DOMUS, "run", "--firmware", BIOS, "--cdrom", ISO, "--boot", "d"],
        "qemu": ["qemu-system-x86_64", "-M", "pc", "-enable-kvm", "-m", "128", "-bios", BIOS,
                 "-cdrom", ISO, "-boot", "d", "-display", "none", "-serial", "stdio",
                 "-net", "none", "-fw_cfg", "name=etc/sercon-port,file=" + sercon.name],
    }
    read = {
        "domus": [DOMUS, "run", "--kernel", IDEREAD, "--fv-devices", "--disk", disk.name,
                  "--cmdline", "mib=%d" % a.mib, "--memory", "256"],
        "qemu": ["qemu-system-x86_64", "-M", "pc", "-enable-kvm", "-m", "256", "-kernel", IDEREAD,
                 "-append", "mib=%d" % a.mib, "-drive", "file=%s,format=raw,if=ide,index=0" % disk.name,
                 "-display", "none", "-serial", "stdio", "-net", "none", "-no-reboot"],
    }
    res = {k: {"grub": [], "read": []} for k in grub}
    for r in range(a.rounds):
        for vmm in ("domus", "qemu"):  # alternate, so drift in the host hits both
            t = to_prompt(grub[vmm], a.timeout)
            res[vmm]["grub"].append(t)
            mbs = ideread(read[vmm], a.timeout)
            res[vmm]["read"].append(mbs)
            print("round %d %-5s  grub> after %s s   IDE read %s MB/s" % (
                r + 1, vmm, "%.2f" % t if t else "-", "%.1f" % mbs if mbs else "-"), flush=True)
    os.unlink(sercon.name)
    os.unlink(disk.name)

    def med(v):
        v = [x for x in v if x]
        return statistics.median(v) if v else None

    print("\nmedian of %d rounds         domus      qemu    domus/qemu" % a.rounds)
    for key, label, unit in (("grub", "start -> grub> prompt", "s"), ("read", "IDE DMA read", "MB/s")):
        d, q = med(res["domus"][key]), med(res["qemu"][key])
        ratio = "%.2f" % (d / q) if d and q else "-"
        print("%-24s %8s  %8s    %s  (%s)" % (label, "%.2f" % d if d else "-",
                                                "%.2f" % q if q else "-", ratio, unit))
    print("virtio-blk (PV) read of the same kind: bench/io (the iobench guest) measures it")


if __name__ == "__main__":
    main()
