#!/usr/bin/env python3
"""Check that src/ keeps its layers: each directory includes only the directories below it.

The table is the architecture (docs/architecture.md): a new include that crosses a layer the
wrong way fails `make unit`, so a cycle between directories cannot come back unnoticed.
"top" is src/ itself (machine_pc.c, machine_fv.c: the wiring).
"""
import os
import re
import sys

ALLOWED = {
    "lib": set(),
    "vmm": {"lib"},
    "config": {"lib"},
    "backend": {"lib"},
    "hw": {"lib", "vmm", "backend"},
    "virtio": {"lib", "vmm", "backend", "hw"},
    "boot": {"lib", "vmm", "hw"},
    "top": {"lib", "vmm", "config", "backend", "hw", "virtio", "boot"},
    "monitor": {"lib", "vmm", "config", "backend", "hw", "virtio", "boot", "top", "manager"},
    "manager": {"lib", "vmm", "config"},
    "cli": {"lib", "vmm", "config", "manager", "monitor"},
}
# manager/domain_files.h names the files of a domain's directory, which the monitor writes:
# the monitor may include it, nothing else of manager/ (checked below).
MONITOR_FROM_MANAGER = {"manager/domain_files.h"}
# domusd links no device code: manager/ includes nothing from these.
DEVICE_DIRS = {"hw", "virtio", "backend", "boot", "top", "monitor"}


def main():
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
    bad = []
    for root, _, files in os.walk(src):
        d = os.path.relpath(root, src)
        d = "top" if d == "." else d
        if d not in ALLOWED:
            bad.append("%s: a directory the layer table does not know (tools/check-layers.py)" % d)
            continue
        for f in sorted(files):
            if not f.endswith((".c", ".h")):
                continue
            path = os.path.join(root, f)
            with open(path) as fh:
                for n, line in enumerate(fh, 1):
                    m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                    if not m:
                        continue
                    inc = m.group(1)
                    to = os.path.dirname(inc) or "top"
                    where = "src/%s:%d" % (os.path.relpath(path, src), n)
                    if to == d:
                        continue
                    if to not in ALLOWED.get(d, set()):
                        bad.append("%s: %s includes %s (%s may use only %s)" %
                                   (where, d, inc, d, ", ".join(sorted(ALLOWED[d])) or "nothing"))
                    elif d == "monitor" and to == "manager" and inc not in MONITOR_FROM_MANAGER:
                        bad.append("%s: the monitor includes %s (only %s)" %
                                   (where, inc, ", ".join(sorted(MONITOR_FROM_MANAGER))))
                    elif d == "manager" and to in DEVICE_DIRS:
                        bad.append("%s: domusd must not include device code (%s)" % (where, inc))
    for b in bad:
        print("domus: layers: " + b, file=sys.stderr)
    if bad:
        return 1
    print("layers: every include in src/ goes down the layer table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
