#!/usr/bin/env python3
"""I/O benchmark: Domus vs QEMU with the same tiny guest (build/guests/iobench.elf).

The guest's CPL3 polling driver measures virtio-blk 4 KiB random-read IOPS, 128 KiB
sequential write and read MB/s, and virtio-net transmission to a TAP (frames/s, MB/s).
Domus and QEMU (-M pc booting the PVH ELF, virtio-blk-pci with cache=none,aio=io_uring,
virtio-net-pci on a TAP without vhost) run alternately, ROUNDS times each; medians and
Domus/QEMU ratios are printed. Needs root and /dev/kvm (bench/io/run.sh provides both
through tools/kvmhost when this machine has no KVM).

  bench/io/run.py [--rounds N] [--secs S] [--size-mib M] [--qd N] [--image-dir DIR]
                  [--image-dev DEV] [--baseline DOMUS] [--qemu-cache MODE]

--image-dir: where the disk image file lives (default: the temporary directory).
--image-dev: without --image-dir, use this whole block device as the disk (default
$IOBENCH_DEV, else the nested host's scratch disk $KVMHOST_SCRATCH); its content is overwritten.
Where O_DIRECT cannot be used there (tmpfs), QEMU gets cache=writeback and Domus uses the page
cache too, unless --qemu-cache says otherwise. --baseline: another domus binary (e.g. a build
of an older commit) run in the same alternation, for before/after figures.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GUEST = os.path.join(TOP, "build", "guests", "iobench.elf")
DOMUS = os.path.join(TOP, "build", "domus")
BR, DTAP, QTAP = "br-iobench", "dbench0", "qbench0"


def sh(*cmd, check=True):
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def setup_net():
    sh("ip", "link", "del", BR, check=False)
    sh("ip", "link", "del", QTAP, check=False)
    sh("ip", "link", "add", BR, "type", "bridge")
    sh("ip", "link", "set", BR, "up")
    sh("ip", "tuntap", "add", QTAP, "mode", "tap", "vnet_hdr")
    sh("ip", "link", "set", QTAP, "master", BR)
    sh("ip", "link", "set", QTAP, "up")


def teardown_net():
    sh("ip", "link", "del", QTAP, check=False)
    sh("ip", "link", "del", BR, check=False)


def fs_type(path):
    r = sh("stat", "-f", "-c", "%T", path, check=False)
    return r.stdout.strip() or "?"


def parse(out):
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^BENCH (\S+) (\d+) (\S+)", out, re.M)}


def run(cmd, timeout):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, errors="replace")
    res = parse(p.stdout)
    if p.returncode != 0 or "PASS iobench" not in p.stdout:
        sys.stderr.write("run failed (%d): %s\n%s\n%s\n" % (p.returncode, " ".join(cmd),
                                                           p.stdout[-2000:], p.stderr[-2000:]))
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--secs", type=int, default=2)
    ap.add_argument("--size-mib", type=int, default=64)
    ap.add_argument("--qemu-cache", default=None)
    ap.add_argument("--qd", type=int, default=32)
    ap.add_argument("--image-dir", default=None)
    ap.add_argument("--image-dev", default=os.environ.get("IOBENCH_DEV",
                                                        os.environ.get("KVMHOST_SCRATCH")))
    ap.add_argument("--baseline", default=None)
    a = ap.parse_args()
    if a.image_dev and not a.image_dir:
        # A whole block device (tools/kvmhost --scratch-disk): what a cache=none disk is.
        d, img = None, a.image_dev
        with open(img, "r+b") as f:
            size = f.seek(0, os.SEEK_END) >> 20
            f.seek(0)
            chunk = os.urandom(1 << 20)
            for _ in range(size):
                f.write(chunk)
    else:
        d = tempfile.mkdtemp(prefix="iobench.", dir=a.image_dir)
        img = os.path.join(d, "disk.img")
        with open(img, "wb") as f:
            chunk = os.urandom(1 << 20)
            for _ in range(a.size_mib):
                f.write(chunk)
    if a.qemu_cache is None:
        try:
            os.close(os.open(img, os.O_RDONLY | os.O_DIRECT))
            a.qemu_cache = "none"
        except OSError:
            a.qemu_cache = "writeback"
    where = "block device %s" % img if d is None else "%s (%s)" % (d, fs_type(d))
    print("image: %s, QEMU cache=%s" % (where, a.qemu_cache), flush=True)
    cmdline = "{CMDLINE}"
    domus = [DOMUS, "run", "--memory", "256", "--kernel", GUEST, "--cmdline", cmdline,
             "--disk", img, "--net", "bridge=%s,tap=%s" % (BR, DTAP)]
    qemu = ["qemu-system-x86_64", "-M", "pc", "-accel", "kvm", "-m", "256", "-nodefaults",
            "-nographic", "-serial", "stdio", "-no-reboot", "-kernel", GUEST, "-append", cmdline,
            "-drive", "file=%s,if=none,id=d0,format=raw,cache=%s,aio=io_uring" % (img, a.qemu_cache),
            "-device", "virtio-blk-pci,drive=d0,disable-legacy=on",
            "-netdev", "tap,id=n0,ifname=%s,script=no,downscript=no,vhost=off" % QTAP,
            "-device", "virtio-net-pci,netdev=n0,disable-legacy=on"]
    vmms = [("domus", domus), ("qemu", qemu)]
    if a.baseline:
        vmms.insert(1, ("base", [a.baseline] + domus[1:]))
    setup_net()
    results = {name: [] for name, _ in vmms}
    # Disk and network run in separate boots: the disk figures write hundreds of MB, and
    # whoever wrote more would otherwise measure its network figures during the host's writeback
    # of it (on the nested host's 9p root this was seen to halve them).
    phases = ("net=0", "blk=0")
    try:
        for r in range(a.rounds):
            res = {name: {} for name, _ in vmms}
            for phase in phases:
                args = "secs=%d qd=%d %s" % (a.secs, a.qd, phase)
                for name, cmd in vmms:
                    res[name].update(run([args if c == cmdline else c for c in cmd], 600))
            for name, _ in vmms:
                print("round %d %-5s %s" % (r + 1, name, " ".join(
                    "%s=%d" % kv for kv in sorted(res[name].items()))), flush=True)
                results[name].append(res[name])
    finally:
        teardown_net()
        if d is not None:
            os.unlink(img)
            os.rmdir(d)
    keys = sorted(set().union(*[r.keys() for v in results.values() for r in v]))

    def med(name, k):
        v = [r[k] for r in results[name] if k in r]
        return statistics.median(v) if v else 0

    base = " %12s %10s" % ("baseline", "vs base") if a.baseline else ""
    print("\n%-22s %12s %12s %8s%s" % ("figure (median)", "domus", "qemu", "ratio", base))
    worst = None
    for k in keys:
        dm, qm = med("domus", k), med("qemu", k)
        ratio = dm / qm if qm else float("nan")
        worst = ratio if worst is None or ratio < worst else worst
        extra = ""
        if a.baseline:
            bm = med("base", k)
            extra = " %12.0f %10.2f" % (bm, dm / bm if bm else float("nan"))
        print("%-22s %12.0f %12.0f %8.2f%s" % (k, dm, qm, ratio, extra))
    print("\nlowest ratio: %.2f (target >= 1.2)" % (worst if worst is not None else float("nan")))


if __name__ == "__main__":
    main()
