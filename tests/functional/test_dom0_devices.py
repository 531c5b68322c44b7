"""Domains with devices under domusd: a PV domain with a disk (virtio-blk), two with vifs on a
bridge (virtio-net on TAPs), and an FV domain (type "hvm": SeaBIOS, IDE CD-ROM) that boots
Debian's GRUB rescue ISO to its prompt, with `domus screenshot` and `domus shutdown` of it."""
import json
import os
import re
import subprocess
import zlib

import pytest

from conftest import CACHE, GUESTS
from dom0 import SLOW, dom0, wait_for  # noqa: F401 (dom0 is a fixture)
from test_fv import BIOS, BOOT_TIMEOUT, RESCUE_ISO, media, screen_text, squash  # noqa: F401
from test_virtio_blk import check_image, discard_mode

MIB = 1 << 20
BR = "br-d0test"


def gone(dom0, name):
    return dom0.dom(name) is None


def test_dom0_pv_domain_with_a_disk(dom0, tmp_path):
    """xl disk spec → virtio-blk: the tiny guest writes, flushes, reads back and leaves a
    marker; the image on the host holds what it wrote, and list -l shows the disk."""
    img = tmp_path / "xvda.img"
    with open(img, "wb") as f:
        f.truncate(MIB)
    cfg = dom0.cfg("blk", guest="vblk", memory=128,
                   extra="serial=xvda sectors=2048 discard=" + discard_mode(img),
                   disk=["format=raw, vdev=xvda, access=rw, target=%s" % img],
                   on_poweroff="preserve")
    d = dom0.create_cfg("blk", cfg)
    assert d["disks"] == [{"path": str(img), "format": "raw", "vdev": "xvda", "readonly": False,
                           "cdrom": False, "discard": True}], d
    dom0.wait_console("blk", "DONE", SLOW * 2)
    log = dom0.console_log("blk")
    assert "PASS vblk" in log and "FAIL" not in log, log
    end = wait_for("blk to power off", lambda: (dom0.dom("blk") or {}).get("state") == "shutdown"
                   and dom0.dom("blk"))
    assert end["exit"]["reason"] == "poweroff", end
    check_image(str(img))


def test_dom0_read_only_disk_and_bad_disk(dom0, tmp_path):
    """access=ro reaches the guest (writes fail); a missing image is the monitor's clear
    error, and no domain is left behind."""
    img = tmp_path / "ro.img"
    img.write_bytes(b"\x5a" * MIB)
    cfg = dom0.cfg("ro", guest="vblk", memory=128, extra="ro=1",
                   disk=["%s,raw,xvda,ro" % img], on_poweroff="preserve")
    dom0.create_cfg("ro", cfg)
    dom0.wait_console("ro", "DONE", SLOW * 2)
    assert "write refused with IOERR" in dom0.console_log("ro")
    assert img.read_bytes() == b"\x5a" * MIB
    cfg = dom0.cfg("nodisk", disk=["%s,raw,xvda,w" % (tmp_path / "missing.img")])
    r = dom0.domus("create", cfg, timeout=120)
    assert r.rc != 0 and "missing.img" in r.err, r
    assert dom0.dom("nodisk") is None


@pytest.fixture
def bridge():
    subprocess.run(["ip", "link", "del", BR], capture_output=True)
    subprocess.run(["ip", "link", "add", BR, "type", "bridge"], check=True)
    subprocess.run(["ip", "link", "set", BR, "up"], check=True)
    yield BR
    subprocess.run(["ip", "link", "del", BR], capture_output=True)


def test_dom0_two_domains_with_vifs_exchange_frames(dom0, bridge):
    """vif = ['bridge=BR'] → a TAP in the bridge and a virtio-net NIC with the MAC xl would
    derive from the name; two such domains see each other's frames."""
    for n in ("na", "nb"):
        dom0.create_cfg(n, dom0.cfg(n, guest="vnet", memory=128, vif=["bridge=" + bridge]))
    for n in ("na", "nb"):
        dom0.wait_console(n, "DONE", SLOW * 2)
        assert "PASS vnet" in dom0.console_log(n), dom0.console_log(n)
    mac_a = re.search(r"vnet: mac (\S+)", dom0.console_log("na")).group(1)
    assert ("vnet: frame from %s" % mac_a) in dom0.console_log("nb")
    wait_for("both to power off", lambda: gone(dom0, "na") and gone(dom0, "nb"))


def png_pixels(path):
    """Width, height and rows of RGB triples of an 8-bit RGB, non-interlaced PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = int.from_bytes(body[0:4], "big"), int.from_bytes(body[4:8], "big")
            assert body[8:13] == bytes([8, 2, 0, 0, 0]), "not 8-bit RGB: %r" % body[8:13]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, rows, stride, prev = zlib.decompress(idat), [], w * 3, bytes(w * 3)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - 3] if i >= 3 else 0
            b, c = prev[i], prev[i - 3] if i >= 3 else 0
            if f == 1:
                line[i] = (line[i] + a) & 0xFF
            elif f == 2:
                line[i] = (line[i] + b) & 0xFF
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = bytes(line)
    return w, h, rows


def cell_inked(rows, row, col, lines=16):
    """Whether the 8x16 cell at (row, col) has pixels of more than one colour in its first
    `lines` scan lines."""
    colours = set()
    for y in range(row * 16, row * 16 + lines):
        for x in range(col * 8, col * 8 + 8):
            colours.add(rows[y][x * 3:x * 3 + 3])
    return len(colours) > 1


@pytest.mark.time_limit(3000)
def test_dom0_fv_grub_rescue_prompt_screenshot_and_shutdown(dom0, media, tmp_path):
    """type = "hvm" under domusd: SeaBIOS boots the unmodified GRUB rescue ISO from the IDE
    CD-ROM (boot = "d") to its prompt, typed on the console socket. `domus screenshot` writes
    the VGA text screen: the PNG has glyph pixels exactly in the cells where the text file
    has characters, and the text shows the typed command. `domus shutdown` presses the power
    button, which GRUB does not handle (no ACPI in GRUB): the domain keeps running and the CLI
    says so; GRUB's halt then powers it off through ACPI S5 and on_poweroff applies."""
    cfg = dom0.cfg_lines("fvg", [
        'type = "hvm"', "memory = 128", 'bios_path_override = "%s"' % BIOS,
        "disk = [ '%s,,hdc,cdrom' ]" % RESCUE_ISO, 'boot = "d"', 'on_poweroff = "preserve"'])
    d = dom0.create_cfg("fvg", cfg)
    assert d["type"] == "hvm" and d["bios_path"] == BIOS and d["boot"] == "d", d
    assert d["disks"][0]["cdrom"] and d["disks"][0]["vdev"] == "hdc", d

    def screen():
        return squash(screen_text(dom0.console_log("fvg").encode("latin1", "replace")))

    wait_for("GRUB's menu", lambda: squash("for a command-line") in screen(), BOOT_TIMEOUT)
    dom0.console_send("fvg", "c")
    wait_for("grub>", lambda: "grub>" in screen(), BOOT_TIMEOUT)
    dom0.console_send("fvg", "echo dom0-typed-$grub_platform\r")
    wait_for("the echo", lambda: "dom0-typed-pc" in screen(), BOOT_TIMEOUT)

    png = tmp_path / "fvg.png"
    r = dom0.domus("screenshot", "fvg", str(png), timeout=120)
    assert r.rc == 0, r
    text = open(str(png) + ".txt").read()
    assert "grub> echo dom0-typed-$grub_platform" in text and "dom0-typed-pc" in text, text
    w, h, rows = png_pixels(png)
    assert (w, h) == (80 * 8, 25 * 16), (w, h)
    lines, cursor = text.split("\n"), []
    for row, line in enumerate(lines[:25]):
        for col in range(80):
            ch = line[col] if col < len(line) else " "
            if ch == " " and cell_inked(rows, row, col):
                # only the cursor may mark a blank cell: an underline in its last two lines
                assert not cell_inked(rows, row, col, 14), "ink in blank cell %d,%d" % (row, col)
                cursor.append((row, col))
            elif ch not in " \u2588":  # a full block is one colour
                assert cell_inked(rows, row, col), "no glyph for %r at %d,%d" % (ch, row, col)
    assert len(cursor) <= 1, cursor
    listed = dom0.dom("fvg")
    assert listed["state"] in ("running", "blocked") and not listed["paused"], listed

    r = dom0.domus("shutdown", "-w", "-t", "20", "fvg", timeout=120)
    assert r.rc != 0 and "still running" in r.err, r
    assert dom0.dom("fvg")["domid"] == d["domid"]
    dom0.console_send("fvg", "halt\r")
    end = wait_for("fvg to power off", lambda: (dom0.dom("fvg") or {}).get("state") == "shutdown"
                   and dom0.dom("fvg"), BOOT_TIMEOUT)
    assert end["exit"]["reason"] == "poweroff", end


def test_dom0_screenshot_of_a_pv_domain_is_refused(dom0, tmp_path):
    dom0.create("pvs", extra="ms=0")
    dom0.wait_console("pvs", "READY ticker")
    r = dom0.domus("screenshot", "pvs", str(tmp_path / "x.png"))
    assert r.rc == 1 and "has no VGA" in r.err, r
    assert not (tmp_path / "x.png").exists()


def test_dom0_unsupported_devices_are_refused(dom0, tmp_path):
    """What the machine cannot build is refused at create, naming the file and line."""
    bad = {
        "q": ["disk = [ '/x.qcow2,qcow2,xvda,w' ]"],
        "cd": ["disk = [ '/x.iso,raw,xvdb,r,devtype=cdrom' ]"],
        "e1k": ["vif = [ 'model=e1000,bridge=br0' ]"],
        "fvnet": ['type = "hvm"', "vif = [ 'bridge=br0' ]"],
        "fvsd": ['type = "hvm"', "disk = [ '/x.img,raw,sda,w' ]"],
    }
    for name, lines in bad.items():
        if not any(l.startswith("type") for l in lines):
            lines = ['kernel = "%s"' % os.path.join(GUESTS, "ticker.elf")] + lines
        cfg = dom0.cfg_lines(name, lines)
        r = dom0.domus("create", cfg)
        assert r.rc == 1 and ("%s.cfg" % name) in r.err, (name, r)
        assert dom0.dom(name) is None
    assert "FV guests have no network devices" in dom0.domus("create", dom0.cfg_lines(
        "fvnet", bad["fvnet"])).err
