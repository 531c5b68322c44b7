#!/bin/bash
# One command from a fresh Debian 12 machine to a shell in the default guest:
# install dependencies, build Domus, build the guest kit (cached), boot it.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/setup-deps.sh
make -j"$(nproc)"
tools/kit/build.sh
echo "quickstart: booting the guest kit (Ctrl-A x quits, 'poweroff' powers off)"
exec build/domus run --kernel cache/kit/vmlinux --initrd cache/kit/initramfs.cpio \
	--memory 256 --cmdline "console=ttyS0" "$@"
