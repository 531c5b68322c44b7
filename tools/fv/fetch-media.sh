#!/bin/bash
# Test media for FV guests, from Debian packages, into $DOMUS_CACHE/fv (default cache/fv):
#   root/          the unpacked packages: seabios (bios-256k.bin, vgabios), grub-rescue-pc
#                  (grub-rescue-cdrom.iso), isolinux + syslinux-common (isolinux.bin, ldlinux.c32)
#   hashsum.iso    grub-mkrescue ISO whose grub.cfg lists and checksums files on the CD and on
#                  an IDE disk (disk.img, an ext2 image made here) and prints the results
#   disk.img       that disk: a whole-disk ext2 file system holding two files
#   expected.txt   the checksums the guest must print
#   isolinux.iso   isolinux (unmodified, from Debian) with a prompt and Debian's kernel
#                  (the nested KVM host's vmlinuz, or the build machine's /boot/vmlinuz-*)
# Needs apt-get (download only), dpkg-deb, grub-mkrescue (grub-pc-bin, grub-common), xorriso,
# mtools, e2fsprogs. Idempotent: skips what exists.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=${DOMUS_CACHE:-$top/cache}/fv
mkdir -p "$out/debs" "$out/root"
cd "$out/debs"
for p in seabios grub-rescue-pc isolinux syslinux-common; do
	if ! ls "${p}"_*.deb >/dev/null 2>&1; then
		apt-get download "$p" >/dev/null 2>&1 || { echo "domus: fetch-media: apt-get download $p failed" >&2; exit 1; }
	fi
done
for d in *.deb; do
	stamp="$out/root/.$(basename "$d" .deb)"
	[ -f "$stamp" ] || { dpkg-deb -x "$d" "$out/root"; touch "$stamp"; }
done

# The hashsum test: files on the CD and on a disk, checksummed by GRUB itself.
if [ ! -f "$out/hashsum.iso" ] || [ ! -f "$out/disk.img" ]; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	mkdir -p "$work/iso/boot/grub" "$work/iso/data" "$work/disk"
	head -c 65536 /dev/urandom > "$work/iso/data/cd-blob.bin"
	printf 'a file on the CD\n' > "$work/iso/data/cd-note.txt"
	head -c 49152 /dev/urandom > "$work/disk/disk-blob.bin"
	printf 'a file on the IDE disk\n' > "$work/disk/disk-note.txt"
	cat > "$work/iso/boot/grub/grub.cfg" <<'CFG'
insmod ext2
insmod hashsum
echo HASHSUM-BEGIN
ls (cd)/data/
ls (hd0)/
sha256sum (cd)/data/cd-blob.bin (cd)/data/cd-note.txt
sha256sum (hd0)/disk-blob.bin (hd0)/disk-note.txt
echo HASHSUM-END
halt
CFG
	grub-mkrescue -o "$out/hashsum.iso.tmp" "$work/iso" >/dev/null 2>&1
	# 8 MiB disk: a whole-disk ext2 file system (no partition table: GRUB calls it (hd0))
	truncate -s 8M "$work/disk.img"
	mkfs.ext2 -q -F -d "$work/disk" "$work/disk.img"
	( cd "$work/iso/data" && sha256sum cd-blob.bin cd-note.txt
	  cd "$work/disk" && sha256sum disk-blob.bin disk-note.txt ) | awk '{print $1}' > "$out/expected.txt"
	mv "$work/disk.img" "$out/disk.img"
	mv "$out/hashsum.iso.tmp" "$out/hashsum.iso"
fi
# The isolinux test: boot: prompt, then a kernel that isolinux loads with BIOS calls.
if [ ! -f "$out/isolinux.iso" ]; then
	kernel=""
	for k in "${DOMUS_CACHE:-$top/cache}/kvmhost/vmlinuz" "${DOMUS_CACHE:-$top/cache}/stock/vmlinuz" \
		/boot/vmlinuz-*; do
		[ -f "$k" ] && { kernel=$k; break; }
	done
	if [ -z "$kernel" ]; then
		echo "domus: fetch-media: no Linux kernel for isolinux.iso (run tools/kit/fetch-stock.sh" \
			"first, build tools/kvmhost or install a linux-image package)" >&2
		exit 1
	fi
	iwork=$(mktemp -d)
	mkdir -p "$iwork/isolinux"
	cp "$out/root/usr/lib/ISOLINUX/isolinux.bin" "$out/root/usr/lib/syslinux/modules/bios/ldlinux.c32" \
		"$iwork/isolinux/"
	cp "$kernel" "$iwork/vmlinuz"
	cat > "$iwork/isolinux/isolinux.cfg" <<'CFG'
SAY isolinux-ready: type linux
PROMPT 1
TIMEOUT 0
DEFAULT linux
LABEL linux
  KERNEL /vmlinuz
  APPEND console=ttyS0 earlyprintk=ttyS0 panic=-1 loglevel=7
CFG
	xorriso -as mkisofs -quiet -o "$out/isolinux.iso.tmp" -b isolinux/isolinux.bin \
		-c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table "$iwork"
	rm -rf "$iwork"
	mv "$out/isolinux.iso.tmp" "$out/isolinux.iso"
fi
echo "$out"
