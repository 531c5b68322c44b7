"""Issue 6: tiny guests for the FV PC's devices, booted directly on its chipset (--fv-devices):
PCI configuration, the PM timer, IDE/ATAPI register sequences, VGA text mode."""
import os
import struct

import pytest

from conftest import domus, guest

IDEREAD_MAGIC = 0x1de5ec7000000000  # tests/guest/g_ideread.c


def assert_pass(r, name):
    assert r.passed(name), r
    assert not r.fails(), r
    assert r.rc == 0, r


def test_pci_config_and_pm_timer():
    # Inside the nested KVM host (TCG, a busy machine) a vCPU can stall between the PIT and PM
    # timer reads: the rate check there only tells the PM timer from other clocks.
    tol = 40 if os.environ.get("DOMUS_KVMHOST") else 10
    r = domus("run", "--kernel", guest("fvpci"), "--fv-devices", "--cmdline", "tol=%d" % tol,
              timeout=300)
    assert_pass(r, "fvpci")
    assert "fvpci: chipset ok" in r.out, r


def make_images(tmp_path, disk_sectors=1024, cd_blocks=64):
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"".join(bytes([(n & 0xFF) ^ 0x3C]) * 512 for n in range(disk_sectors)))
    cd = tmp_path / "cd.iso"
    cd.write_bytes(b"".join(bytes([(n & 0xFF) ^ 0xC3]) * 2048 for n in range(cd_blocks)))
    return disk, cd


def test_ide_ata_and_atapi_register_sequences(tmp_path):
    disk, cd = make_images(tmp_path)
    r = domus("run", "--kernel", guest("ide"), "--fv-devices", "--disk", disk, "--cdrom", cd,
              "--cmdline", "disk_sectors=1024 cd_blocks=64", timeout=300)
    assert_pass(r, "ide")
    assert "hda PIO, multiple, LBA48 and DMA reads ok" in r.out, r
    data = disk.read_bytes()
    assert data[9 * 512:10 * 512] == b"\x5a\xa5" * 256  # the guest's write reached the image


def test_vga_text_mode_and_screenshot(tmp_path):
    png = tmp_path / "vga.png"
    r = domus("run", "--kernel", guest("vga"), "--fv-devices", "--screenshot", png, timeout=300)
    assert_pass(r, "vga")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    text = (tmp_path / "vga.png.txt").read_text()
    lines = text.splitlines()
    assert len(lines) >= 4 and lines[2] == "     DOMUS-VGA-TEXT-OK", text
    assert lines[3].startswith("\u263a"), text  # CP437 0x01 is the smiling face


def test_ideread_bench_guest(tmp_path):
    # bench/fv's IDE read guest: READ DMA EXT with nIEN clear, waiting for the bus-master
    # interrupt bit (tests/guest/qemu_check.py runs it under QEMU -M pc too).
    # The image holds the pattern the guest compares every sector with (word i of the disk is
    # IDEREAD_MAGIC ^ i, see tests/guest/g_ideread.c): a sector read from the wrong place, or
    # not at all, is a FAIL.
    disk = tmp_path / "disk.img"
    words = 2 << 17
    disk.write_bytes(struct.pack("<%dQ" % words, *[IDEREAD_MAGIC ^ i for i in range(words)]))
    r = domus("run", "--kernel", guest("ideread"), "--fv-devices", "--disk", disk,
              "--cmdline", "mib=2", "--memory", "256", timeout=300)
    assert_pass(r, "ideread")
    assert "ideread: reading 2 MiB" in r.out and "ideread: 2 MiB in " in r.out, r
    assert "ideread: 2 MiB match the pattern" in r.out, r
