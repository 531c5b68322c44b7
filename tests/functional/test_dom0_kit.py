"""The guest kit (Linux + busybox) under domusd: `domus shutdown` powers it off through the
kit's acpid (ACPI power button → KEY_POWER → acpid runs /etc/acpi/PWRF/00000080, which
prints "domus-kit: power button pressed, powering off", syncs and powers off through S5), and `domus reboot`
(the power button too, then on_reboot) brings it back to "domus-kit: ready" under a new ID.
A real Linux boot is slow inside tools/kvmhost (minutes under load): one test boots twice."""
import os

import pytest

from conftest import CACHE
from dom0 import dom0, wait_for  # noqa: F401 (dom0 is a fixture)

KIT = os.path.join(CACHE, "kit")
PRESSED = "domus-kit: power button pressed, powering off"  # tools/kit/.../PWRF/00000080
BOOT = 1200  # s, bounds a hang; a boot takes 1-7 min in the nested host on a busy machine


def kit_cfg(dom0, name):
    for f in ("vmlinux", "initramfs.cpio"):
        assert os.path.exists(os.path.join(KIT, f)), "the kit is not built: tools/kit/build.sh"
    return dom0.cfg_lines(name, [
        'kernel = "%s"' % os.path.join(KIT, "vmlinux"),
        'ramdisk = "%s"' % os.path.join(KIT, "initramfs.cpio"),
        "memory = 256", 'cmdline = "console=ttyS0"', 'on_reboot = "restart"'])


@pytest.mark.slow
@pytest.mark.time_limit(3 * BOOT)
def test_dom0_kit_reboot_and_shutdown_through_acpid(dom0):
    d = dom0.create_cfg("kit", kit_cfg(dom0, "kit"))
    dom0.wait_console("kit", "domus-kit: ready", BOOT)

    # reboot: the guest is asked (power button), powers off in order, and comes back.
    r = dom0.domus("reboot", "kit")
    assert r.rc == 0, r
    new = wait_for("kit back under a new ID", lambda: (lambda x: x if x and x["domid"] !=
                   d["domid"] and x["state"] in ("running", "blocked") else None)(dom0.dom("kit")),
                   BOOT)
    assert new["restarts"] == 1, new
    log = dom0.console_log("kit")
    assert PRESSED in log, "the kit's acpid did not power it off:\n" + log[-3000:]
    wait_for("a second boot", lambda: dom0.console_log("kit").count("domus-kit: ready") >= 2,
             BOOT)
    assert "powered off after domus reboot" in dom0.log(), dom0.log()[-2000:]

    # shutdown: the same button, and now on_poweroff (destroy).
    r = dom0.domus("shutdown", "-w", "-t", str(BOOT), "kit", timeout=BOOT + 60)
    assert r.rc == 0 and "has shut down" in r.out, r
    assert dom0.dom("kit") is None
    assert dom0.console_log("kit").count(PRESSED) == 2
