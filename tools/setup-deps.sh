#!/bin/bash
# Install everything Domus needs to build, test and benchmark on Debian 12 (as root, or via sudo).
set -euo pipefail
pkgs=(
	build-essential clang llvm make pkg-config git ca-certificates   # compilers, libFuzzer
	liburing-dev libjson-c-dev libmicrohttpd-dev zlib1g-dev         # libraries the monitor uses
	python3 python3-pytest curl                                      # tests
	qemu-system-x86                                                   # nested KVM host, A/B benchmarks
	busybox-static cpio xz-utils                                      # guest kit initramfs
	flex bison bc libelf-dev libssl-dev dwarves                       # guest kit kernel build
	seabios ipxe-qemu acpica-tools                                    # FV firmware, ROMs, iasl
	xorriso mtools grub-pc-bin grub-common grub-rescue-pc isolinux syslinux-common
	iproute2 bridge-utils                                             # TAP/bridge for virtio-net tests
	kbd console-setup-linux e2fsprogs                                 # console fonts for screenshots; mkfs.ext2 for test media
)
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup-deps: installing ${missing[*]}"
	$SUDO apt-get update -q
	$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
	echo "setup-deps: all packages present"
	# apt-get download (guest kit, kvmhost) needs package lists even when nothing is missing
	[ -n "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v lock)" ] || $SUDO apt-get update -q
fi
