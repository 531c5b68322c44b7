#!/bin/bash
# Build the kernel + initramfs of the nested KVM host used by kvmhost.sh, from Debian packages:
# linux-image-6.1.0-*-amd64 (the newest in the registry) and busybox-static. Cached in $1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$1
stamp_in=$(sha256sum "$here/build-host.sh" "$here/host-init" | sha256sum | cut -c1-16)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp_in" ]; then exit 0; fi
# Several test runs may start at once: one builds, the others wait for it.
mkdir -p "$(dirname "$out")"
exec 9>"$out.lock"
flock 9
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp_in" ]; then exit 0; fi
echo "kvmhost: building the nested KVM host in $out" >&2
final=$out
out=$(mktemp -d "$final.new.XXXXXX")
mkdir -p "$out/dl"
cd "$out/dl"
pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -1)
[ -n "$pkg" ] || { echo "domus: kvmhost: no linux-image-6.1.0-*-amd64 in the package lists (run apt-get update)" >&2; exit 1; }
apt-get download -q "$pkg" busybox-static >/dev/null 2>&1 || apt-get download "$pkg" busybox-static
for d in *.deb; do dpkg-deb -x "$d" root; done
kver=${pkg#linux-image-}
K=root/lib/modules/$kver/kernel
ird=$out/ird
mkdir -p "$ird"/{bin,mod,proc,sys,dev,host}
cp root/bin/busybox "$ird/bin/busybox"
# Load order matters: busybox insmod does not resolve dependencies.
for m in virt/lib/irqbypass arch/x86/kvm/kvm drivers/crypto/ccp/ccp arch/x86/kvm/kvm-amd \
	drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev \
	drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/block/virtio_blk \
	fs/netfs/netfs \
	fs/fscache/fscache net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p drivers/net/tun \
	net/llc/llc net/802/stp net/bridge/bridge; do
	cp "$K/$m.ko" "$ird/mod/"
	echo "${m##*/}" >>"$ird/mod/order"
done
cp "$here/host-init" "$ird/init"
chmod +x "$ird/init"
(cd "$ird" && find . | cpio -o -H newc 2>/dev/null) >"$out/initrd.cpio"
cp root/boot/vmlinuz-"$kver" "$out/vmlinuz"
rm -rf "$out/dl" "$ird"
echo "$stamp_in" >"$out/stamp"
rm -rf "$final"
mv "$out" "$final"
