"""Issue 4: virtio-blk, checked from inside tiny guests with their own virtio-pci driver and
then on the host in the image file."""
import os

from conftest import Live, domus, guest, run_guest

MIB = 1 << 20


def image(tmp_path, name="disk.img", size=MIB):
    p = tmp_path / name
    with open(p, "wb") as f:
        f.truncate(size)
    return str(p)


def assert_pass(r, name):
    assert r.passed(name) and not r.fails() and "DONE" in r.lines() and r.rc == 0, r


FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE = 1, 2


def punch_holes(directory):
    """Whether the file system of directory punches holes (what Domus does for DISCARD): a
    4 KiB hole punched into a file with data reads back as zeros and SEEK_DATA skips it."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]
    path = os.path.join(str(directory), ".punch-probe")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, b"\xa5" * 8192)
        os.fsync(fd)
        if libc.fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096) != 0:
            return False
        return os.pread(fd, 4096, 0) == bytes(4096) and os.lseek(fd, 0, os.SEEK_DATA) >= 4096
    finally:
        os.close(fd)
        os.unlink(path)


def discard_mode(path):
    """The vblk guest's discard= for an image at path: zero where the host punches holes (the
    discarded block must read back as zeros), keep where it cannot (it must keep its data)."""
    return "zero" if punch_holes(os.path.dirname(str(path))) else "keep"


def check_image(path):
    """The image the vblk guest left behind (see tests/guest/g_vblk.c for the layout). The
    DISCARDed block 0 must be a hole on a file system that punches holes, else hold its data."""
    with open(path, "rb") as f:
        data = f.read()
        data_from_0 = os.lseek(f.fileno(), 0, os.SEEK_DATA)
    assert data[4096:8192] == bytes(4096), "the write-zeroes block is not zero on the host"
    if discard_mode(path) == "zero":
        assert data[0:4096] == bytes(4096), "the discarded block is not zero on the host"
        assert data_from_0 >= 4096, "the discarded block was not deallocated (no hole at 0)"
    else:
        pattern0 = bytes((j) & 0xFF for j in range(4096))
        assert data[0:4096] == pattern0, "the discarded block lost its data without a hole"
    for i in range(2, 32):
        want = bytes((i * 7 + j) & 0xFF for j in range(4096))
        assert data[4096 * i:4096 * (i + 1)] == want, "block %d differs on the host" % i
    assert data[512 * 512:512 * 512 + 17] == b"DOMUS-VBLK-MARKER"


def test_blk_write_flush_read_discard_roundtrip(tmp_path):
    img = image(tmp_path)
    mode = discard_mode(img)
    r = run_guest("vblk", "--memory", 128, "--disk", img + ",name=xvda",
                  "--cmdline", "serial=xvda sectors=2048 discard=" + mode)
    assert_pass(r, "vblk")
    assert "msi-x" in r.out
    assert "discard=%s)" % mode in r.out, r
    check_image(img)


def test_blk_intx_fallback(tmp_path):
    img = image(tmp_path)
    r = run_guest("vblk", "--memory", 128, "--disk", img, "--cmdline",
                  "intx=1 discard=" + discard_mode(img))
    assert_pass(r, "vblk")
    assert "(intx)" in r.out
    check_image(img)


def test_blk_read_only_refuses_writes(tmp_path):
    img = image(tmp_path)
    with open(img, "r+b") as f:
        f.write(b"\x5a" * 4096)
    before = open(img, "rb").read()
    r = run_guest("vblk", "--memory", 128, "--disk", img + ",ro", "--cmdline", "ro=1")
    assert_pass(r, "vblk")
    assert "write refused with IOERR" in r.out
    assert open(img, "rb").read() == before


def test_blk_two_disks(tmp_path):
    a, b = image(tmp_path, "a.img"), image(tmp_path, "b.img", 2 * MIB)
    r = run_guest("vblk", "--memory", 128, "--disk", a + ",name=xvda", "--disk",
                  b + ",name=xvdb", "--cmdline",
                  "nth=1 serial=xvdb sectors=4096 discard=" + discard_mode(b))
    assert_pass(r, "vblk")
    check_image(b)
    assert open(a, "rb").read() == bytes(MIB)


def test_blk_xl_cfg_disks(tmp_path):
    a, b = image(tmp_path, "a.img"), image(tmp_path, "b.img", 2 * MIB)
    cfg = tmp_path / "dom.cfg"
    cfg.write_text('name = "blk"\nkernel = "%s"\nmemory = 128\n'
                   "disk = ['file:%s,xvda,w', 'format=raw, vdev=xvdb, access=ro, target=%s']\n"
                   'extra = "nth=1 ro=1 serial=xvdb sectors=4096"\n' % (guest("vblk"), a, b))
    r = domus("run", str(cfg))
    assert_pass(r, "vblk")
    assert "write refused with IOERR" in r.out


def test_blk_image_size_not_multiple_of_512_refused(tmp_path):
    img = image(tmp_path, size=1000)
    r = run_guest("vblk", "--memory", 128, "--disk", img)
    assert r.rc == 1 and "not a multiple of 512" in r.err, r
    assert "START" not in r.out


def test_blk_image_in_use_by_another_domain_refused(tmp_path):
    img = image(tmp_path)
    g = Live(["run", "--kernel", guest("serial"), "--disk", img, "--cmdline", "n=8"])
    try:
        g.wait_for("READY poll 8", 60)
        r = run_guest("vblk", "--memory", 128, "--disk", img)
        assert r.rc == 1 and "in use by another domain" in r.err, r
        r = run_guest("vblk", "--memory", 128, "--disk", img + ",ro", "--cmdline", "ro=1")
        assert r.rc == 1 and "in use by another domain" in r.err, r
    finally:
        g.send("abcdefgh")
        g.wait_for("READY irq 8", 60)
        g.send("IJKLMNOP")
        g.wait(60)


def test_malicious_driver_gets_needs_reset_and_vmm_survives(tmp_path):
    img = image(tmp_path)
    r = run_guest("vevil", "--memory", 128, "--disk", img, "--rng", timeout=180)
    assert r.passed("vevil") and not r.fails() and r.rc == 0, r
    for what in ("looping chain", "buffer outside RAM", "huge length", "avail index far ahead",
                 "head beyond the queue", "readable after writable", "bad indirect table",
                 "request without a status byte", "rings outside RAM"):
        assert "vevil: %s: NEEDS_RESET" % what in r.out, r
    # One line per break, not a flood.
    assert r.err.count("guest driver error") <= 12, r
