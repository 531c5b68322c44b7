#!/usr/bin/env python3
"""bench/fv: FV guests, Domus against QEMU -M pc (same SeaBIOS, same media, alternating runs).

  1. process start -> GRUB's "grub>" prompt with Debian's grub-rescue-cdrom.iso
  2. sequential read MB/s of one disk image through IDE (bus-master DMA, READ DMA EXT of
     64 KiB, one command at a time) by a tiny guest (build/guests/ideread.elf), timed on the
     host's clock between the guest's "reading" line and its result line, and on the guest's
  3. what paravirtualization buys: the same image read through virtio-blk by the iobench
     guest (128 KiB sequential reads, one in flight like IDE, qd=1, and 8 in flight, qd=8),
     its own figure (guest's clock); bench/io has the full virtio comparison.

Needs KVM (bench/fv/run.sh enters tools/kvmhost on hosts without /dev/kvm) and the media
from tools/fv/fetch-media.sh. Usage: bench/fv/bench.py [--rounds N] [--mib N]
"""
import argparse
import importlib.util
import os
import re
import select
import statistics
import struct
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
IDEREAD_MAGIC = 0x1de5ec7000000000  # tests/guest/g_ideread.c: the image pattern it checks
IOBENCH = os.path.join(TOP, "build/guests/iobench.elf")
ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1bc")
IDE_DONE = re.compile(rb"ideread: (\d+) MiB in (\d+) ms")
VIRTIO_SEQREAD = re.compile(rb"BENCH blk_seqread_128k (\d+) MB/s")


def load_core():
    """bench/core/run.py's process harness (stdout timestamped per read, exit seen by pidfd)."""
    path = os.path.join(TOP, "bench/core/run.py")
    spec = importlib.util.spec_from_file_location("bench_core", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


core = load_core()


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


def guest_run(cmd, timeout, measure):
    """Run a tiny guest to its power-off; measure(proc) returns figures. None when it fails."""
    p = core.Proc(cmd)
    try:
        rec = measure(p)
        rc = p.wait_exit(timeout)
        if rc != 0 or b"PASS " not in p.out:
            raise core.BenchError("exit status %d" % rc)
        return rec
    except (core.BenchError, OSError) as e:
        sys.stderr.write("bench/fv: %s: %s\n%s\n" % (os.path.basename(cmd[0]), e, p.transcript()))
        return None
    finally:
        p.close()


def ideread(cmd, timeout):
    """{host, guest}: MB/s on the host's clock and on the guest's."""
    def measure(p):
        t_start, _ = p.wait_for(b"ideread: reading", timeout)
        t_end, off = p.wait_for(b" ms: ", timeout)
        m = IDE_DONE.search(bytes(p.out), max(0, off - 64))
        mib, ms = int(m.group(1)), int(m.group(2))
        return {"host": mib * 1048576 / 1e6 / (t_end - t_start),
                "guest": mib * 1048576 / 1e6 / (max(ms, 1) / 1000.0)}
    return guest_run(cmd, timeout, measure)


def virtio_read(cmd, timeout):
    """iobench's 128 KiB sequential read, which it reports in MiB/s, as MB/s."""
    def measure(p):
        p.wait_for(b"PASS iobench", timeout)  # with net=0 the read's line is the last
        m = VIRTIO_SEQREAD.search(bytes(p.out))
        if not m:
            raise core.BenchError("no blk_seqread_128k figure")
        return {"guest": int(m.group(1)) * 1048576 / 1e6}
    return guest_run(cmd, timeout, measure)


def med(v):
    v = [x for x in v if x is not None]
    return statistics.median(v) if v else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mib", type=int, default=64, help="size of the image and of the IDE read")
    ap.add_argument("--secs", type=int, default=2, help="seconds of each iobench figure")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--only", choices=("grub", "read"), help="one part only")
    a = ap.parse_args()
    for f in (BIOS, ISO, DOMUS, IDEREAD, IOBENCH):
        if not os.path.exists(f):
            sys.exit("domus: bench/fv: %s is missing (run make and tools/fv/fetch-media.sh)" % f)
    work = tempfile.mkdtemp(prefix="bench-fv-")
    sercon = os.path.join(work, "sercon")
    with open(sercon, "wb") as f:
        f.write(b"\xf8\x03")
    # Real data, so that both interfaces copy pages (a sparse file would read as holes): the
    # pattern the IDE read guest checks (word i of the disk is IDEREAD_MAGIC ^ i).
    disk = os.path.join(work, "disk.img")
    with open(disk, "wb") as f:
        for m in range(a.mib):
            first = m << 17
            f.write(struct.pack("<131072Q", *[IDEREAD_MAGIC ^ (first + i) for i in range(1 << 17)]))
    qemu_pc = ["qemu-system-x86_64", "-M", "pc", "-accel", "kvm", "-display", "none",
               "-serial", "stdio", "-net", "none"]
    grub = {
        "domus": [DOMUS, "run", "--firmware", BIOS, "--cdrom", ISO, "--boot", "d"],
        "qemu": qemu_pc + ["-m", "128", "-bios", BIOS, "-cdrom", ISO, "-boot", "d",
                           "-fw_cfg", "name=etc/sercon-port,file=" + sercon],
    }
    ide = {
        "domus": [DOMUS, "run", "--kernel", IDEREAD, "--fv-devices", "--disk", disk,
                  "--cmdline", "mib=%d" % a.mib, "--memory", "256"],
        "qemu": qemu_pc + ["-m", "256", "-no-reboot", "-kernel", IDEREAD, "-append",
                           "mib=%d" % a.mib, "-drive", "file=%s,format=raw,if=ide,index=0" % disk],
    }
    def pv(vmm, qd):
        cmdline = "net=0 qd=%d secs=%d" % (qd, a.secs)
        if vmm == "domus":
            return [DOMUS, "run", "--kernel", IOBENCH, "--disk", disk, "--cmdline", cmdline,
                    "--memory", "256"]
        return qemu_pc + ["-m", "256", "-no-reboot", "-kernel", IOBENCH, "-append", cmdline,
                          "-drive", "file=%s,if=none,id=d0,format=raw" % disk,
                          "-device", "virtio-blk-pci,drive=d0,disable-legacy=on"]
    res = {k: {"grub": [], "ide_host": [], "ide_guest": [], "virtio1": [], "virtio8": []}
           for k in grub}

    def fmt(v):
        return "%.2f" % v if v is not None else "-"
    try:
        for r in range(a.rounds):
            # alternate the order, so drift in the host hits both
            for vmm in (("domus", "qemu") if r % 2 == 0 else ("qemu", "domus")):
                row = res[vmm]
                t, ide_r, pv1, pv8 = None, {}, {}, {}
                if a.only != "read":
                    t = to_prompt(grub[vmm], a.timeout)
                    row["grub"].append(t)
                if a.only != "grub":
                    ide_r = ideread(ide[vmm], a.timeout) or {}
                    row["ide_host"].append(ide_r.get("host"))
                    row["ide_guest"].append(ide_r.get("guest"))
                    pv1 = virtio_read(pv(vmm, 1), a.timeout) or {}
                    row["virtio1"].append(pv1.get("guest"))
                    pv8 = virtio_read(pv(vmm, 8), a.timeout) or {}
                    row["virtio8"].append(pv8.get("guest"))
                print("round %d %-5s  grub> after %s s   IDE read %s MB/s (guest clock %s)   "
                      "virtio-blk read qd=1 %s, qd=8 %s MB/s" % (
                          r + 1, vmm, fmt(t), fmt(ide_r.get("host")), fmt(ide_r.get("guest")),
                          fmt(pv1.get("guest")), fmt(pv8.get("guest"))), flush=True)
    finally:
        for f in (sercon, disk):
            os.unlink(f)
        os.rmdir(work)

    print("\nmedian of %d rounds                     domus      qemu    domus/qemu" % a.rounds)
    for key, label, unit in (("grub", "start -> grub> prompt", "s"),
                             ("ide_host", "IDE DMA read, host clock", "MB/s"),
                             ("ide_guest", "IDE DMA read, guest clock", "MB/s"),
                             ("virtio1", "virtio-blk read qd=1, guest clock", "MB/s"),
                             ("virtio8", "virtio-blk read qd=8, guest clock", "MB/s")):
        d, q = med(res["domus"][key]), med(res["qemu"][key])
        if d is None and q is None:
            continue
        ratio = "%.2f" % (d / q) if d and q else "-"
        print("%-36s %8s  %8s    %s  (%s)" % (label, fmt(d), fmt(q), ratio, unit))
    for vmm in ("domus", "qemu"):
        i = med(res[vmm]["ide_guest"])
        v1, v8 = med(res[vmm]["virtio1"]), med(res[vmm]["virtio8"])
        if i and v1 and v8:
            print("%s: virtio-blk / IDE read (guest clock): qd=1 %.2fx, qd=8 %.2fx" % (
                vmm, v1 / i, v8 / i))


if __name__ == "__main__":
    main()
