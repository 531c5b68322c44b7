#!/bin/bash
# Density benchmark (see density.py): N tiny domains through domusd against QEMU microvm.
# Runs directly when /dev/kvm works, else inside tools/kvmhost (nested KVM under TCG: absolute
# figures are slow there, the Domus/QEMU ratios are what to read).
# usage: bench/density/run.sh [-n N] [--memory MIB] [--json FILE]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
[ -x build/domusd ] && [ -f build/guests/ticker.elf ] || { echo "density: run make first" >&2; exit 1; }
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	exec /usr/bin/python3 bench/density/density.py "$@"
fi
exec tools/kvmhost/kvmhost.sh --mem 8192 --freeze-timeout 300 -- /usr/bin/python3 bench/density/density.py "$@"
