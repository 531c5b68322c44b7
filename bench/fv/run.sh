#!/bin/bash
# FV benchmark, Domus vs QEMU -M pc (see bench.py). Runs directly where /dev/kvm works, else
# inside the nested KVM host (tools/kvmhost): absolute figures there are slow, the Domus/QEMU
# ratios from one run are what to read. Arguments go to bench.py. The media come from
# tools/fv/fetch-media.sh (run it first; $DOMUS_CACHE is where both look).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
make -s build/domus guests >/dev/null
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	exec /usr/bin/python3 bench/fv/bench.py "$@"
fi
exec tools/kvmhost/kvmhost.sh --mem 8192 --freeze-timeout 300 -- /usr/bin/python3 bench/fv/bench.py "$@"
