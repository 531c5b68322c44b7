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
# The disk is a block device of the nested host (its scratch disk): QEMU's cache=none needs
# O_DIRECT, which the nested host's tmpfs lacks, and its 9p root would measure the 9p server.
# --image-dir /tmp measures the VMMs' own paths on a memory-backed file instead.
exec tools/kvmhost/kvmhost.sh --freeze-timeout 300 --scratch-disk 64 -- \
	/usr/bin/python3 bench/io/run.py "$@"
