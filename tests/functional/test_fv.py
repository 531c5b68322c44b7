"""Issue 6: FV guests — SeaBIOS on the emulated PC, IDE/ATAPI, ACPI power-off, boot order.

The media come from Debian packages (tools/fv/fetch-media.sh, cached in $DOMUS_CACHE/fv).
Firmware output reaches the serial console through SeaBIOS's sercon, which sends only the
screen cells that changed, with cursor movements between them: the checks compare text with
escapes and blanks removed, and read whole screens from the VGA screenshot (--screenshot).
Timeouts are generous: in the nested KVM host every guest instruction runs under TCG.
"""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import CACHE, DOMUS, TOP, Live

FV = os.path.join(CACHE, "fv")
RESCUE_ISO = os.path.join(FV, "root", "usr", "lib", "grub-rescue", "grub-rescue-cdrom.iso")
BIOS = os.path.join(FV, "root", "usr", "share", "seabios", "bios-256k.bin")
BOOT_TIMEOUT = 900  # nested TCG on a shared 2-core machine: minutes, bounded

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][0-9A-Za-z]|\x1bc")


def screen_text(raw):
    """Console bytes without escape sequences; runs of spaces collapsed."""
    t = ANSI.sub(b"", raw).decode("latin1")
    return re.sub(r"[ \t]+", " ", t)


def squash(text):
    """Text without any blanks: sercon skips cells that already hold the right character."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="session")
def media():
    script = os.path.join(TOP, "tools", "fv", "fetch-media.sh")
    p = subprocess.run([script], capture_output=True, text=True, env=dict(os.environ, DOMUS_CACHE=CACHE))
    assert p.returncode == 0, "fetch-media.sh failed:\n" + p.stderr
    for f in (RESCUE_ISO, BIOS, os.path.join(FV, "hashsum.iso"), os.path.join(FV, "disk.img")):
        assert os.path.exists(f), f + " missing after fetch-media.sh"
    return FV


class Screen(Live):
    """A domus run whose serial console is matched as text, escapes removed."""

    def plain(self):
        with self.cond:
            return screen_text(self.out)

    def wait_for(self, needle, timeout=60):
        deadline = time.monotonic() + timeout
        while squash(needle) not in squash(self.plain()):
            # An exited guest may still have output in the pipe: fail only once it is read.
            exited = self.p.poll() is not None and not self.t_out.is_alive()
            if time.monotonic() > deadline or exited:
                self.kill()
                pytest.fail("did not see %r within %ss (rc=%s); screen:\n%s\nstderr:\n%s" % (
                    needle, timeout, self.p.returncode, self.plain()[-3000:],
                    self.err.decode(errors="replace")[-2000:]), pytrace=False)
            with self.cond:
                self.cond.wait(0.5)

    def type(self, text):
        # One key at a time, as a person types: sercon polls the UART from the BIOS timer.
        for ch in text:
            self.send(ch)
            time.sleep(0.05)


def run_fv(*args):
    return Screen(["run", "--firmware", BIOS] + [str(a) for a in args])


def test_grub_rescue_cdrom_prompt_typing_halt_and_screenshot(media, tmp_path):
    """Debian's grub-rescue-cdrom.iso, unmodified: GRUB's menu and prompt on the serial
    console (SeaBIOS's sercon), typed commands, halt through ACPI S5 (exit status 0), and the
    VGA text screen as a PNG drawn with a console font."""
    png = tmp_path / "screen.png"
    g = run_fv("--cdrom", RESCUE_ISO, "--screenshot", png)
    g.wait_for("Booting from DVD/CD", BOOT_TIMEOUT)
    g.wait_for("GNU GRUB", BOOT_TIMEOUT)
    g.wait_for("for a command-line", BOOT_TIMEOUT)
    g.send("c")  # leave the menu for the command line
    g.wait_for("grub>", BOOT_TIMEOUT)
    g.type("echo typed-$grub_platform\r")
    g.wait_for("typed-pc", BOOT_TIMEOUT)
    g.type("halt\r")
    assert g.wait(300) == 0, g.plain()[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (80 * 8, 25 * 16), (width, height)
    text = (tmp_path / "screen.png.txt").read_text()
    assert "grub> echo typed-$grub_platform" in text, text
    assert "typed-pc" in text, text


def test_hashsum_iso_reads_cd_and_ide_disk(media, tmp_path):
    """An unmodified GRUB checksums files on the ATAPI CD and on the ATA disk."""
    expected = open(os.path.join(FV, "expected.txt")).read().split()
    disk = os.path.join(FV, "disk.img")
    png = str(tmp_path / "hashsum.png")
    g = run_fv("--cdrom", os.path.join(FV, "hashsum.iso"), "--disk", disk, "--boot", "d",
               "--screenshot", png)
    # The serial console is SeaBIOS's mirror of the screen (sercon), which buffers the last
    # characters and never flushes them when GRUB halts at once: the screen is authoritative.
    g.wait_for("HASHSUM-BEGIN", BOOT_TIMEOUT)
    assert g.wait(BOOT_TIMEOUT) == 0, g.plain()[-2000:]  # grub.cfg ends with halt: ACPI S5
    text = open(png + ".txt").read()  # the whole screen GRUB printed, from the VGA
    assert "HASHSUM-END" in text, text
    body = text[text.index("HASHSUM-BEGIN"):]
    for name in ("cd-blob.bin", "cd-note.txt", "disk-blob.bin", "disk-note.txt"):
        assert name in body, body
    for h in expected:
        assert h in body, "checksum %s not printed by GRUB:\n%s" % (h, body)


def write_cfg(tmp_path, boot, disks):
    cfg = tmp_path / "fv.cfg"
    cfg.write_text('name = "fv"\ntype = "hvm"\nmemory = 128\nbios = "seabios"\n'
                   'boot = "%s"\ndisk = [ %s ]\n' % (boot, ", ".join("'%s'" % d for d in disks)))
    return str(cfg)


@pytest.mark.parametrize("boot", ["dc", "cd"])
def test_boot_order_from_xl_cfg(media, tmp_path, boot):
    # The disk holds a file system but no boot sector: booting from it fails and SeaBIOS goes
    # on with the next device in the order.
    disk = tmp_path / "disk.img"
    disk.write_bytes(open(os.path.join(FV, "disk.img"), "rb").read())
    cfg = write_cfg(tmp_path, boot, ["%s,raw,hda,w" % disk,
                                     "%s,,hdc,cdrom" % os.path.join(FV, "hashsum.iso")])
    png = str(tmp_path / "order.png")
    g = Screen(["run", "--firmware", BIOS, "--screenshot", png, cfg])
    g.wait_for("HASHSUM-BEGIN", BOOT_TIMEOUT)  # the serial mirror may lose the last line
    assert g.wait(BOOT_TIMEOUT) == 0
    assert "HASHSUM-END" in open(png + ".txt").read()
    text = squash(g.plain())
    cd = text.index("BootingfromDVD/CD")
    if boot == "dc":
        assert "BootingfromHardDisk" not in text[:cd], text[:cd]
    else:
        hd = text.index("BootingfromHardDisk")
        assert hd < cd, text[:cd]


def test_bad_isos_give_guest_errors_not_a_crash(media, tmp_path):
    """A truncated ISO (its boot catalog points past the end) and one of garbage, as two
    CD-ROM drives: the firmware gets read errors and finds nothing to boot; Domus keeps
    running until it is told to stop."""
    data = open(RESCUE_ISO, "rb").read()
    short = tmp_path / "short.iso"
    short.write_bytes(data[:40000])
    junk = tmp_path / "junk.iso"
    junk.write_bytes(bytes((i * 131 + 7) & 0xFF for i in range(2 * 1024 * 1024)))
    cfg = write_cfg(tmp_path, "d", ["%s,,hdc,cdrom" % short, "%s,,hdd,cdrom" % junk])
    g = Screen(["run", "--firmware", BIOS, cfg])
    g.wait_for("No bootable device", BOOT_TIMEOUT)
    assert g.p.poll() is None, "domus exited: " + g.err.decode(errors="replace")
    g.p.send_signal(signal.SIGTERM)
    assert g.wait(60) == 128 + signal.SIGTERM
    assert squash(g.plain()).count("Bootfailed") >= 2, g.plain()


def test_power_button_reaches_guest_and_s5_ends_domain():
    """The fixed ACPI power button: the guest sees PWRBTN_STS through the SCI, then S5."""
    from conftest import domus, guest
    r = domus("run", "--kernel", guest("pwrbtn"), "--power-button-after", "3", timeout=300)
    assert r.passed("pwrbtn"), r
    assert "pwrbtn: button pressed" in r.out, r
    assert r.rc == 0, r


# Debian's kernel decompresses itself in ring 0, which a PVM host runs in KVM's emulator for
# minutes: "slow" puts it in the nested host there (tools/run-functional.sh).
@pytest.mark.slow
def test_isolinux_prompt_then_loads_a_kernel(media):
    """isolinux (32-bit protected mode code with IRETs: on PVM hosts this needs Domus's
    emulation fallbacks) reaches its prompt and loads Debian's kernel through BIOS calls."""
    iso = os.path.join(FV, "isolinux.iso")
    assert os.path.exists(iso), "fetch-media.sh made no isolinux.iso"
    g = run_fv("--cdrom", iso, "--boot", "d")
    g.wait_for("isolinux-ready", BOOT_TIMEOUT)
    g.wait_for("boot:", BOOT_TIMEOUT)
    g.type("linux\r")
    g.wait_for("Loading /vmlinuz", BOOT_TIMEOUT)
    # The kernel's own early console proves isolinux loaded and started it.
    g.wait_for("Linux version", BOOT_TIMEOUT)
    g.p.send_signal(signal.SIGTERM)
    assert g.wait(120) == 128 + signal.SIGTERM
