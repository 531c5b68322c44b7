#!/usr/bin/env python3
"""Boot the guest kit under QEMU (TCG or KVM) and check that it works end to end.

    tools/kit/qemu-smoke.py [--kit cache/kit] [--accel tcg] [--only NAME ...]

Each case starts qemu-system-x86_64 with the serial port on a pipe and the HMP monitor
on a Unix socket, waits for "domus-kit: ready", talks to the shell or watches a
kit.run= hook, and checks how the guest ends (power-off = QEMU exits by itself).
This is a check of the kit itself, independent of Domus; Domus' own tests boot the same
files with domus-vmm.
"""
import argparse
import os
import select
import socket
import subprocess
import sys
import tempfile
import time

BANNER = b"domus-kit: ready"
HERE = os.path.dirname(os.path.abspath(__file__))


def newc(entries):
    """An uncompressed newc cpio archive from (name, mode, data) tuples."""
    out = bytearray()

    def pad():
        out.extend(b"\0" * (-len(out) % 4))

    for ino, (name, mode, data) in enumerate(entries + [("TRAILER!!!", 0, b"")], 1):
        nb = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0)
        out += b"070701" + b"".join(b"%08X" % f for f in fields) + nb
        pad()
        out += data
        pad()
    return bytes(out)


def sysfault_initrd(base_initrd, system_map, work):
    """The kit initramfs plus /bin/sysfault and the kit.run=sysfault hook."""
    entry = None
    with open(system_map) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "entry_SYSCALL_64":
                entry = parts[0]
    if not entry:
        raise AssertionError("entry_SYSCALL_64 not in %s" % system_map)
    exe = os.path.join(work, "sysfault")
    subprocess.check_call(["gcc", "-static", "-nostdlib", "-ffreestanding", "-fno-stack-protector",
                           "-mno-red-zone", "-O2", "-o", exe, os.path.join(HERE, "test", "sysfault.c")])
    hook = ("/bin/sysfault 0x%s\necho \"sysfault: rc=$?\"\n" % entry).encode()
    extra = newc([("bin/sysfault", 0o100755, open(exe, "rb").read()),
                  ("etc/kit/sysfault.sh", 0o100644, hook)])
    path = os.path.join(work, "initramfs-sysfault.cpio")
    with open(path, "wb") as f:
        f.write(open(base_initrd, "rb").read() + extra)
    return path
PROMPT = b"domus-kit# "


class Guest:
    def __init__(self, args, name, log_dir):
        self.name = name
        self.mon_path = os.path.join(log_dir, name + ".mon")
        self.log_path = os.path.join(log_dir, name + ".log")
        self.log = open(self.log_path, "wb")
        cmd = list(args) + ["-display", "none", "-serial", "stdio",
                            "-monitor", "unix:%s,server=on,wait=off" % self.mon_path]
        self.log.write(("# " + " ".join(cmd) + "\n").encode())
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.buf = b""
        self.pos = 0  # expect() consumes output up to here

    def _read(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return True
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            return False
        self.buf += data
        self.log.write(data)
        self.log.flush()
        return True

    def expect(self, pattern, timeout):
        end = time.monotonic() + timeout
        while True:
            i = self.buf.find(pattern, self.pos)
            if i >= 0:
                self.pos = i + len(pattern)
                return time.monotonic() - self.t0
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("%s: timed out waiting for %r" % (self.name, pattern))
            if not self._read(min(left, 0.5)) and self.proc.poll() is not None:
                raise AssertionError("%s: QEMU exited (rc %s) before %r" %
                                     (self.name, self.proc.returncode, pattern))

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def command(self, line, timeout):
        """Run one shell command; returns its output (between the echoed line and the next prompt)."""
        self.send(line + "\n")
        self.expect(line.encode(), timeout)
        start = self.pos
        self.expect(PROMPT, timeout)
        return self.buf[start:self.pos - len(PROMPT)].decode(errors="replace").strip()

    def monitor(self, cmd):
        s = socket.socket(socket.AF_UNIX)
        s.connect(self.mon_path)
        s.sendall(cmd.encode() + b"\n")
        time.sleep(0.5)
        s.close()

    def wait_exit(self, timeout):
        end = time.monotonic() + timeout
        while self.proc.poll() is None:
            left = end - time.monotonic()
            if left <= 0:
                raise AssertionError("%s: QEMU still running after %ss" % (self.name, timeout))
            self._read(min(left, 0.5))
        while self._read(0):  # drain
            if self.proc.stdout.closed:
                break
            r, _, _ = select.select([self.proc.stdout], [], [], 0)
            if not r:
                break
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser()
    ap.add_argument("--kit", default=os.path.join(root, "cache", "kit"))
    ap.add_argument("--accel", default="tcg")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--timeout", type=float, default=180.0, help="per step, seconds")
    ap.add_argument("--append", default="", help="extra kernel command line")
    ap.add_argument("--only", nargs="*", help="run only these cases")
    ap.add_argument("--logs", default=None, help="directory for serial logs")
    a = ap.parse_args()

    kit = a.kit
    bz, elf, initrd = (os.path.join(kit, f) for f in ("bzImage", "vmlinux", "initramfs.cpio"))
    for f in (bz, elf, initrd):
        if not os.path.exists(f):
            sys.exit("missing %s (run tools/kit/build.sh)" % f)
    log_dir = a.logs or tempfile.mkdtemp(prefix="kit-smoke-")
    os.makedirs(log_dir, exist_ok=True)
    T = a.timeout
    base_append = ("console=ttyS0 " + a.append).strip()

    def qemu(machine, kernel, append, smp=1, mem=256, reboot=False, rd=None):
        args = [a.qemu, "-M", machine, "-accel", a.accel, "-m", str(mem), "-smp", str(smp),
                "-nodefaults", "-kernel", kernel, "-initrd", rd or initrd, "-append", append]
        if not reboot:
            args.append("-no-reboot")
        return args

    def shell_session(g, smp):
        t = g.expect(BANNER, T)
        g.expect(PROMPT, T)
        out = g.command("echo sum=$((6*7))", T)
        assert "sum=42" in out, out
        out = g.command("cat /proc/cpuinfo | grep -c ^processor", T)
        assert out.splitlines()[-1].strip() == str(smp), out
        out = g.command("ls /dev/ttyS0 /proc/self/fd/0 && mount | grep -c -e tmpfs -e devtmpfs", T)
        assert "/dev/ttyS0" in out, out
        g.send("exit\n")
        g.expect(b"domus-kit: powering off", T)
        rc = g.wait_exit(T)
        assert rc == 0, "QEMU rc %s" % rc
        return t

    def case_pc_bzimage():
        g = Guest(qemu("pc", bz, base_append), "pc-bzimage", log_dir)
        try:
            return "banner at %.1fs, shell ok, poweroff ok" % shell_session(g, 1)
        finally:
            g.kill()

    def case_pc_smp2():
        g = Guest(qemu("pc", bz, base_append, smp=2), "pc-smp2", log_dir)
        try:
            return "banner at %.1fs, 2 CPUs, shell ok, poweroff ok" % shell_session(g, 2)
        finally:
            g.kill()

    def case_microvm_pvh():
        g = Guest(qemu("microvm", elf, base_append), "microvm-pvh", log_dir)
        try:
            return "banner at %.1fs, shell ok, poweroff ok" % shell_session(g, 1)
        finally:
            g.kill()

    def case_microvm_pvh_smp2():
        g = Guest(qemu("microvm", elf, base_append, smp=2), "microvm-pvh-smp2", log_dir)
        try:
            return "banner at %.1fs, 2 CPUs, shell ok, poweroff ok" % shell_session(g, 2)
        finally:
            g.kill()

    def case_info():
        g = Guest(qemu("pc", bz, base_append + " kit.run=info", smp=2, mem=192), "info", log_dir)
        try:
            g.expect(BANNER, T)
            g.expect(b"date=", T)
            rc = g.wait_exit(T)
            out = g.buf.decode(errors="replace")
            vals = dict(l.strip().split("=", 1) for l in out.splitlines()
                        if l.strip().split("=", 1)[0] in ("nproc", "memtotal_kb", "date"))
            assert vals.get("nproc") == "2", vals
            assert 100000 < int(vals["memtotal_kb"]) <= 192 * 1024, vals
            assert abs(int(vals["date"]) - time.time()) < 600, vals
            assert rc == 0, rc
            return "nproc=%s memtotal_kb=%s date ok, powered off" % (vals["nproc"], vals["memtotal_kb"])
        finally:
            g.kill()

    def case_power_button():
        g = Guest(qemu("pc", bz, base_append), "power-button", log_dir)
        try:
            g.expect(BANNER, T)
            g.expect(PROMPT, T)
            g.monitor("system_powerdown")
            g.expect(b"power button pressed", T)
            rc = g.wait_exit(T)
            assert rc == 0, rc
            return "ACPI power button -> orderly poweroff"
        finally:
            g.kill()

    def case_poweroff_cmd():
        g = Guest(qemu("pc", bz, base_append), "poweroff-cmd", log_dir)
        try:
            g.expect(BANNER, T)
            g.expect(PROMPT, T)
            g.send("poweroff\n")
            g.expect(b"domus-kit: powering off", T)
            rc = g.wait_exit(T)
            assert rc == 0, rc
            return "plain `poweroff` in the shell powers off"
        finally:
            g.kill()

    def case_panic():
        g = Guest(qemu("pc", bz, base_append + " kit.run=panic panic=1"), "panic", log_dir)
        try:
            g.expect(BANNER, T)
            g.expect(b"Kernel panic", T)
            g.wait_exit(T)  # panic=1 reboots, -no-reboot turns that into an exit
            return "kernel panicked, QEMU exited on the reset"
        finally:
            g.kill()

    def case_reboot():
        g = Guest(qemu("pc", bz, base_append + " kit.run=reboot", reboot=True), "reboot", log_dir)
        try:
            g.expect(BANNER, T)
            g.expect(b"domus-kit: rebooting", T)
            g.expect(BANNER, T)
            return "banner seen twice (rebooted)"
        finally:
            g.kill()

    patched = "patched=1" in open(os.path.join(kit, "kernel.info")).read() \
        if os.path.exists(os.path.join(kit, "kernel.info")) else False

    def sysfault_run(name, append, expect_ok):
        rd = sysfault_initrd(initrd, os.path.join(kit, "System.map"), log_dir)
        g = Guest(qemu("pc", bz, base_append + " kit.run=sysfault " + append, smp=2, rd=rd),
                  name, log_dir)
        try:
            g.expect(BANNER, T)
            g.expect(b"sysfault: rc=", T)
            g.wait_exit(T)
            out = g.buf.decode(errors="replace")
            if expect_ok:
                assert "sysfault: ok" in out and "sysfault: rc=0" in out, "sysfault failed"
                return "write/getpid/ENOSYS/flags/fork via a CPL3 fetch fault at LSTAR: ok"
            assert "sysfault: write ok" not in out and "sysfault: rc=139" in out, \
                "expected SIGSEGV at the first jump"
            return "SIGSEGV at LSTAR as expected (stock behaviour)"
        finally:
            g.kill()

    def case_pvm_syscall():
        return sysfault_run("pvm-syscall", "", patched)

    def case_pvm_syscall_off():
        return sysfault_run("pvm-syscall-off", "domus.pvm_syscall=0", False)

    cases = [("pc-bzimage", case_pc_bzimage), ("pc-smp2", case_pc_smp2),
             ("microvm-pvh", case_microvm_pvh), ("microvm-pvh-smp2", case_microvm_pvh_smp2),
             ("info", case_info), ("power-button", case_power_button),
             ("poweroff-cmd", case_poweroff_cmd), ("panic", case_panic),
             ("reboot", case_reboot), ("pvm-syscall", case_pvm_syscall)]
    if patched:
        cases.append(("pvm-syscall-off", case_pvm_syscall_off))
    passed = failed = 0
    for name, fn in cases:
        if a.only and name not in a.only:
            continue
        t0 = time.monotonic()
        try:
            msg = fn()
            passed += 1
            print("PASS %-18s %6.1fs  %s" % (name, time.monotonic() - t0, msg), flush=True)
        except AssertionError as e:
            failed += 1
            print("FAIL %-18s %6.1fs  %s (log: %s)" % (name, time.monotonic() - t0, e,
                                                     os.path.join(log_dir, name + ".log")), flush=True)
    print("logs in %s" % log_dir)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
