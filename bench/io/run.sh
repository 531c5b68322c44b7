#!/bin/bash
# I/O benchmark, Domus vs QEMU (see run.py). Runs directly where /dev/kvm works, else inside
# the nested KVM host (tools/kvmhost): figures there are slow in absolute terms, the ratios
# are what counts. Arguments go to run.py.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
make -s build/domus guests >/dev/null
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	exec /usr/bin/python3 bench/io/run.py "$@"
fi
# The image goes on the KVM host's root file system (the 9p share) rather than its tmpfs:
# QEMU's cache=none needs O_DIRECT, which tmpfs lacks.
exec tools/kvmhost/kvmhost.sh --freeze-timeout 300 -- env IOBENCH_DIR="$top/build" /usr/bin/python3 bench/io/run.py "$@"
