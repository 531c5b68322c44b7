"""Issue 2: bad input gets one clear line and a non-zero status, never a crash or a hang."""
import os

import pytest

from conftest import domus, guest

# These run without KVM (`make check-fast`): the CLI must refuse bad input before it opens
# /dev/kvm. The few that need KVM to get that far are marked kvm.
pytestmark = pytest.mark.nokvm


def one_error(r, *words):
    assert r.rc != 0, r
    assert r.rc < 128, r  # not killed by a signal (no crash)
    lines = [l for l in r.err.splitlines() if l.startswith("domus: ")]
    assert lines, r
    for w in words:
        assert w in r.err, r
    # Without KVM (`make check-fast`) a refusal must be about the input, not the missing /dev/kvm.
    if not any("kvm" in w.lower() for w in words):
        assert "domus: KVM:" not in r.err, r
    assert "AddressSanitizer" not in r.err and "runtime error" not in r.err, r


def test_missing_kernel():
    one_error(domus("run", "--kernel", "/nonexistent/vmlinuz"), "/nonexistent/vmlinuz",
              "No such file")


def test_unreadable_kernel(tmp_path):
    d = tmp_path / "dir"
    d.mkdir()
    one_error(domus("run", "--kernel", d), "not a regular file")


def test_not_a_kernel(tmp_path):
    f = tmp_path / "junk"
    f.write_bytes(os.urandom(8192))
    one_error(domus("run", "--kernel", f), "neither a bzImage nor an ELF")


def test_elf_without_pvh_note():
    one_error(domus("run", "--kernel", "/bin/true"), "PVH")


@pytest.mark.kvm  # the ELF's segments are loaded (and checked) into guest memory, after KVM is open
def test_truncated_pvh_elf(tmp_path):
    data = open(guest("poweroff"), "rb").read()
    f = tmp_path / "trunc.elf"
    f.write_bytes(data[:len(data) // 3])
    r = domus("run", "--kernel", f)
    one_error(r, "lies outside the file")


def test_initrd_too_big(tmp_path):
    f = tmp_path / "big.img"
    with open(f, "wb") as fh:
        fh.truncate(60 << 20)
    one_error(domus("run", "--kernel", guest("poweroff"), "--initrd", f, "--memory", "32"),
              "initrd")


def test_missing_initrd():
    one_error(domus("run", "--kernel", guest("poweroff"), "--initrd", "/nope.img"), "/nope.img")


@pytest.mark.parametrize("mem,word", [("0", "memory 0"), ("abc", "memory"),
                                      ("99999999", "memory")])
def test_bad_memory(mem, word):
    one_error(domus("run", "--kernel", guest("poweroff"), "--memory", mem), word)


@pytest.mark.kvm  # the host's memory is weighed when the VM is created
def test_memory_beyond_host():
    one_error(domus("run", "--kernel", guest("poweroff"), "--memory", str(1 << 23)),
              "this host has only")


def test_zero_vcpus():
    one_error(domus("run", "--kernel", guest("poweroff"), "--vcpus", "0"), "vcpus 0")


def test_unknown_option():
    r = domus("run", "--bogus")
    one_error(r, "--bogus")
    assert r.rc == 2


def test_unknown_config_key(tmp_path):
    cfg = tmp_path / "bad.cfg"
    cfg.write_text('name = "x"\nkernel = "%s"\nfrobnicate = 1\n' % guest("poweroff"))
    one_error(domus("run", cfg), "bad.cfg:3", "frobnicate")


def test_bad_config_value(tmp_path):
    cfg = tmp_path / "bad.cfg"
    cfg.write_text('name = "x"\nmemory = "lots"\n')
    one_error(domus("run", cfg), "bad.cfg:2", "memory")


def test_no_kernel():
    r = domus("run")
    one_error(r, "no kernel")


def test_kvm_missing_message():
    # The message a user sees without /dev/kvm names the problem and what to do.
    if os.path.exists("/dev/kvm"):
        r = domus("info")
        assert r.rc == 0 and "usable" in r.out
    else:
        r = domus("run", "--kernel", guest("poweroff"))
        one_error(r, "/dev/kvm")
