"""Core dumps of guests (xl's dump-core and on_crash=coredump-*): ELF cores whose PT_LOAD
segments hold the guest's RAM at its guest-physical addresses and whose NT_PRSTATUS notes hold
the vCPU registers. The tiny guest `core` writes a known pattern at 8 MiB and known values in
r12/r13, then panics (pvpanic) or waits."""
import os
import stat
import struct

import pytest

from dom0 import SLOW, dom0, wait_for  # noqa: F401 (dom0 is a fixture)

PATTERN_ADDR, PATTERN_LEN = 0x800000, 0x10000
CORE_MAGIC = 0xC0DEDC0DEC0FFEE5
NT_PRSTATUS = 1
DOMUS_NT_SREGS = 0x444D0001
# struct elf_prstatus of x86-64 Linux: pr_pid at 32, pr_reg (27 registers) at 112
PR_PID, PR_REG = 32, 112
REGS = ("r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax rip cs eflags "
        "rsp ss fs_base gs_base ds es fs gs").split()


def read_core(path):
    """(loads, notes): loads = [(paddr, bytes)], notes = [(name, type, desc)]."""
    data = open(path, "rb").read()
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, "not an ELF64 LE file"
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    assert (e_type, e_machine) == (4, 62), "not an x86-64 core: %d %d" % (e_type, e_machine)
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    loads, notes = [], []
    for i in range(phnum):
        p_type, _, off, _, paddr, filesz, memsz, _ = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + i * phentsize)
        if p_type == 1:
            assert filesz == memsz
            loads.append((paddr, data[off:off + filesz]))
        elif p_type == 4:
            at = off
            while at < off + filesz:
                namesz, descsz, ntype = struct.unpack_from("<III", data, at)
                name = data[at + 12:at + 12 + namesz].rstrip(b"\0").decode()
                d0 = at + 12 + (namesz + 3) // 4 * 4
                notes.append((name, ntype, data[d0:d0 + descsz]))
                at = d0 + (descsz + 3) // 4 * 4
    return loads, notes


def phys(loads, addr, length):
    for base, seg in loads:
        if base <= addr and addr + length <= base + len(seg):
            return seg[addr - base:addr - base + length]
    pytest.fail("no PT_LOAD holds 0x%x+0x%x: %s" % (
        addr, length, [(hex(b), hex(len(s))) for b, s in loads]))


def check_core(path, seed):
    loads, notes = read_core(path)
    want = bytes((i * 31 + seed) & 0xFF for i in range(PATTERN_LEN))
    assert phys(loads, PATTERN_ADDR, PATTERN_LEN) == want, "the guest's pattern is not in the core"
    assert sum(len(s) for _, s in loads) >= 60 << 20, "not all of the 64 MiB of RAM"
    prs = [n for n in notes if n[0] == "CORE" and n[1] == NT_PRSTATUS]
    assert len(prs) == 1, notes
    desc = prs[0][2]
    regs = dict(zip(REGS, struct.unpack_from("<27Q", desc, PR_REG)))
    assert struct.unpack_from("<i", desc, PR_PID)[0] == 1
    assert regs["r12"] == CORE_MAGIC and regs["r13"] == seed, {k: hex(v) for k, v in regs.items()}
    assert 0x100000 <= regs["rip"] < 0x400000, hex(regs["rip"])  # in the guest's image
    sregs = [n for n in notes if n[0] == "DOMUS" and n[1] == DOMUS_NT_SREGS]
    assert len(sregs) == 1
    cr0, = struct.unpack_from("<Q", sregs[0][2], 8)
    assert cr0 & 0x80000001 == 0x80000001, "the guest runs paged and protected: cr0=%x" % cr0
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize("action", ["coredump-destroy", "coredump-restart"])
def test_dom0_on_crash_coredump_writes_the_guest_memory(dom0, action):
    # It may crash (and be gone) before create returns: look at create's answer only.
    r = dom0.domus("create", dom0.cfg("crashy", guest="core", extra="seed=42", on_crash=action),
                   timeout=120)
    assert r.rc == 0 and "Domain crashy created" in r.out, r
    core = os.path.join(dom0.state, "lib", "dump", "crashy.core")
    if action == "coredump-destroy":
        wait_for("crashy gone", lambda: dom0.dom("crashy") is None)
    else:
        wait_for("crashy restarted", lambda: (dom0.dom("crashy") or {}).get("restarts", 0) >= 1)
        dom0.domus("destroy", "crashy")
    assert "guest kernel panicked" in dom0.vmm_log("crashy"), dom0.vmm_log("crashy")
    assert os.path.exists(core), "no core in %s; domusd log:\n%s" % (core, dom0.log()[-2000:])
    check_core(core, 42)
    assert ("domain crashy: on_crash=%s: core in %s" % (action, core)) in dom0.log()


def test_dom0_dump_core_of_a_running_domain(dom0, tmp_path, monkeypatch):
    dom0.create("alive", guest="core", extra="seed=5 then=wait")
    dom0.wait_console("alive", "READY core")
    monkeypatch.chdir(tmp_path)  # the CLI names the file relative to its working directory
    r = dom0.domus("dump-core", "alive", "alive.core", timeout=300)
    assert r.rc == 0, r
    check_core(str(tmp_path / "alive.core"), 5)
    d = dom0.dom("alive")
    assert d["state"] in ("running", "blocked") and not d["paused"], d
    # it runs on: it still handles the power button
    r = dom0.domus("shutdown", "-w", "alive", timeout=120)
    assert r.rc == 0, r
    assert "core: power button pressed" in dom0.console_log("alive")


def test_dom0_dump_core_errors(dom0, tmp_path):
    dom0.create("dc", extra="ms=0")
    r = dom0.domus("dump-core", "dc", str(tmp_path / "no-such-dir" / "x.core"))
    assert r.rc == 1 and "no-such-dir" in r.err and "No such file" in r.err, r
    r = dom0.domus("dump-core", "nosuch", str(tmp_path / "x.core"))
    assert r.rc == 1 and "no domain 'nosuch'" in r.err, r
    assert dom0.dom("dc")["state"] in ("running", "blocked")
