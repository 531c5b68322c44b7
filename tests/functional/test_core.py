"""Issue 2: the VMM core with the tiny test guests."""
import os
import signal
import time

import pytest

from conftest import DOMUS, Live, domus, guest, run_guest


def assert_pass(r, name, rc=0):
    assert r.passed(name), r
    assert not r.fails(), r
    assert "DONE" in r.lines(), r
    assert r.rc == rc, r


def test_poweroff_exits_zero():
    r = run_guest("poweroff")
    assert_pass(r, "poweroff")
    assert "s5=yes" in r.out


def test_serial_polled_and_interrupt_input():
    g = Live(["run", "--kernel", guest("serial"), "--cmdline", "n=8"])
    g.wait_for("READY poll 8", 60)
    g.send("abcdefgh")
    g.wait_for("ECHO abcdefgh", 30)
    g.wait_for("READY irq 8", 30)
    g.send("IJKLMNOP")
    g.wait_for("ECHO IJKLMNOP", 30)
    assert g.wait(60) == 0
    assert "PASS serial" in g.text()


@pytest.mark.parametrize("vcpus", [1, 2, 4])
def test_smp_every_vcpu_reports(vcpus):
    r = run_guest("smp", "--vcpus", vcpus, "--cmdline", "cpus=%d" % vcpus, timeout=180)
    assert_pass(r, "smp")
    ids = sorted(int(l.split("apic_id")[1].split()[0], 0) for l in r.lines()
                 if l.startswith("smp: cpu ") and " up" in l)
    assert ids == list(range(vcpus)), r


@pytest.mark.parametrize("mib", [64, 1024, 3072, 5120])
def test_memmap_matches_memory(mib):
    r = run_guest("memmap", "--memory", mib, "--cmdline", "mem=%d" % mib, timeout=180)
    assert_pass(r, "memmap")
    assert "expected_mib=%d" % mib in r.out
    if mib > 3072:
        assert "addr=0x100000000" in r.out, r


def test_memmap_16_gib():
    r = run_guest("memmap", "--memory", 16384, "--cmdline", "mem=16384", timeout=240)
    assert_pass(r, "memmap")
    assert "size=0x340000000" in r.out, r  # 13 GiB above 4 GiB


def test_rtc_matches_host_time():
    r = run_guest("rtc", "--cmdline", "now=%d" % int(time.time()))
    assert_pass(r, "rtc")


def test_timers_tick():
    # Inside the nested KVM host (QEMU TCG on a shared machine) interrupt delivery and the
    # TSC-vs-PIT calibration are distorted by emulation (seen: 16 Hz for 100 Hz, TSC off 2.4x),
    # so there only the arrival of PIT and LAPIC ticks is checked (rates=0); real KVM hosts get
    # 10%. (tol= must be 1..99: the guest refuses anything else instead of clamping it.)
    nested = os.environ.get("DOMUS_KVMHOST") == "1"
    r = run_guest("timer", "--cmdline", "rates=0" if nested else "tol=10", timeout=180)
    assert_pass(r, "timer")
    if nested:
        assert "timer: rates=0: PIT, LAPIC timer and TSC tick" in r.out, r
    else:
        assert "timer: checking rates within 10%" in r.out, r


@pytest.mark.parametrize("how", ["cf9", "kbd", "acpi"])
def test_reset_reboots_in_process(how):
    r = run_guest("reset", "--cmdline", "how=" + how, timeout=180)
    assert_pass(r, "reset")
    assert "BOOT 1" in r.out and "BOOT 2" in r.out


# A guest triple fault hangs the whole nested host when KVM runs on QEMU TCG's emulated AMD-V
# (seen with both the reset and the crash handling): these two run on real KVM hosts only.
nested_triple = pytest.mark.skipif(os.environ.get("DOMUS_KVMHOST") == "1",
                                   reason="triple faults hang KVM nested in QEMU TCG (tools/kvmhost)")


@nested_triple
def test_triple_fault_reset_when_asked():
    r = run_guest("reset", "--triple-fault-reset", "--cmdline", "how=triple", timeout=180)
    assert_pass(r, "reset")
    assert "BOOT 2" in r.out


@nested_triple
def test_triple_fault_is_a_crash_by_default():
    r = run_guest("reset", "--cmdline", "how=triple", timeout=120)
    assert r.rc == 4, r
    assert "triple fault" in r.err
    assert "BOOT 2" not in r.out


def test_no_reboot_exits_with_reboot_status():
    r = run_guest("reset", "--no-reboot", "--cmdline", "how=cf9", timeout=120)
    assert r.rc == 3, r
    assert "BOOT 1" in r.out and "BOOT 2" not in r.out


def test_unmapped_mmio_and_ports_are_not_fatal():
    r = run_guest("mmio", "--debug")
    assert_pass(r, "mmio")
    # logged once per address, at debug level
    assert r.err.count("0xd0000000: no device there") == 1, r


def test_sigterm_ends_cleanly():
    g = Live(["run", "--kernel", guest("serial"), "--cmdline", "n=8 timeout=120"])
    g.wait_for("READY poll", 60)
    g.p.send_signal(signal.SIGTERM)
    rc = g.wait(30)
    assert rc == 128 + signal.SIGTERM
    assert "stopped by signal" in g.err.decode()


def test_config_file(tmp_path):
    cfg = tmp_path / "vm.cfg"
    cfg.write_text('name = "mm"\ntype = "pvh"\nkernel = "%s"\nmemory = 192\nvcpus = 2\n'
                   'cmdline = "mem=192"  # comment\n' % guest("memmap"))
    r = domus("run", cfg)
    assert_pass(r, "memmap")
    assert "expected_mib=192" in r.out
    r = domus("run", cfg, "memory=256", 'cmdline="mem=256"')
    assert_pass(r, "memmap")
    assert "expected_mib=256" in r.out
