#!/bin/bash
# Linux boot benchmark, Domus vs QEMU microvm (see run.py). Runs directly where /dev/kvm works,
# else inside the nested KVM host (tools/kvmhost): absolute times there are 10-50x slower,
# the Domus/QEMU ratios from one run are what to read. Arguments go to run.py.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
make -s build/domus >/dev/null
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	exec /usr/bin/python3 bench/linux/run.py "$@"
fi
exec tools/kvmhost/kvmhost.sh --mem 8192 --freeze-timeout 300 -- /usr/bin/python3 bench/linux/run.py "$@"
