#!/bin/bash
# Build or fetch, on this machine, every guest the functional tests boot, into $DOMUS_CACHE
# (default cache/). It must run here and not inside tools/kvmhost: the nested host has no
# network, and the packages come from Debian's registry. Each step is cached and cheap when
# its inputs have not changed.
#   tools/fv/fetch-media.sh   SeaBIOS, GRUB rescue ISO, isolinux, test ISOs and disks
#   tools/kit/build.sh        the guest kit (kernel with Domus's PV patches + busybox initramfs)
#   tools/kit/fetch-stock.sh  Debian's unmodified kernel
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
step() {
	local t0=$SECONDS
	"$@" >/dev/null || { echo "domus: preparing test guests: $* failed" >&2; exit 1; }
	echo "prepare-guests: $1 done in $((SECONDS - t0)) s"
}
# The nested KVM host: for every guest test without a usable /dev/kvm, and on a PVM host for the
# tests that boot Linux to user space (tools/run-functional.sh). isolinux.iso carries its
# kernel when there is one; build it first.
if ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; } || [ -d /sys/module/kvm_pvm ]; then
	step tools/kvmhost/build-host.sh "${DOMUS_CACHE:-$top/cache}/kvmhost"
fi
# Debian's stock kernel first: isolinux.iso carries it when there is no nested host.
step tools/kit/fetch-stock.sh
step tools/fv/fetch-media.sh
step tools/kit/build.sh
