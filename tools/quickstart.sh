#!/bin/bash
# One command from a fresh Debian 12 machine to a shell in the default guest:
# install dependencies, build Domus, build the guest kit (cached), boot it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/setup-deps.sh
make -j"$(nproc)"
tools/kit/build.sh
run=()
if ! { [ -r /dev/kvm ] && [ -w /dev/kvm ]; }; then
	# Like our development machines: no /dev/kvm (e.g. inside a PVM guest). Boot on nested
	# KVM in tools/kvmhost instead (slower); the console is still this terminal.
	echo "quickstart: no usable /dev/kvm here; booting on nested KVM in tools/kvmhost (slower)"
	run=(tools/kvmhost/kvmhost.sh --mem 2048 --)
fi
echo "quickstart: booting the guest kit (Ctrl-A x quits, 'poweroff' powers off)"
exec "${run[@]}" build/domus run --kernel cache/kit/vmlinux --initrd cache/kit/initramfs.cpio \
	--memory 256 --cmdline "console=ttyS0" "$@"
