"""PCI bus 0: the i440FX host bridge, configuration mechanism #1, DSDT PCI0, 0xCF9 reset."""
from conftest import run_guest


def test_pci_host_bridge():
    r = run_guest("pci", "--cmdline", "devices=0")
    assert r.rc == 0 and r.passed("pci") and not r.fails(), r


def test_reset_via_cf9_beside_pci_config():
    # 0xCF9 now sits inside the PCI host's 0xCF8-0xCFF range and must still reset.
    r = run_guest("reset", "--cmdline", "how=cf9")
    assert r.rc == 0 and r.passed("reset") and "BOOT 2" in r.out, r
