#!/usr/bin/env bash
# Fetch Debian's stock (unmodified) 6.1 kernel for the "unmodified guest" case:
#   cache/stock/vmlinuz   bzImage from linux-image-6.1.0-N-amd64 (the one linux-image-amd64 pulls in)
#   cache/stock/config    its config, cache/stock/info the package name and version
# apt-get download + dpkg-deb -x: no root needed. Re-downloads only when apt's candidate changes.
# On a PVM host this kernel cannot reach user space (see tools/kit/README.md); only its log
# can be watched.
set -euo pipefail

KIT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$KIT_DIR/../.." && pwd)
CACHE=${DOMUS_CACHE:-$ROOT/cache}
OUT=$CACHE/stock
DL=$CACHE/dl
mkdir -p "$OUT" "$DL"

die() { echo "fetch-stock: ERROR: $*" >&2; exit 1; }

# The current flavour package: what the linux-image-amd64 metapackage depends on, else the
# highest linux-image-6.1.0-N-amd64 apt knows about.
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n1)
if [ -z "$pkg" ]; then
	pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' 2>/dev/null |
		cut -d' ' -f1 | sort -t- -k4,4n | tail -n1)
fi
[ -n "$pkg" ] || die "no linux-image-6.1.0-*-amd64 package known to apt (try: apt-get update)"
ver=$(apt-cache show --no-all-versions "$pkg" | sed -n 's/^Version: //p' | head -n1)
[ -n "$ver" ] || die "apt has no version for $pkg"

if [ "$(cat "$OUT/info" 2>/dev/null | head -n1)" = "$pkg $ver" ] && [ -s "$OUT/vmlinuz" ]; then
	echo "fetch-stock: up to date: $OUT/vmlinuz ($pkg $ver)"
	exit 0
fi

deb=$(ls "$DL/${pkg}_${ver/:/%3a}_"*.deb 2>/dev/null | head -n1 || true)
if [ -z "$deb" ]; then
	aptopt=()
	[ "$(id -u)" = 0 ] && aptopt=(-o APT::Sandbox::User=root)
	(cd "$DL" && apt-get "${aptopt[@]}" download -q "$pkg=$ver") || die "apt-get download $pkg=$ver failed"
	deb=$(ls "$DL/${pkg}_${ver/:/%3a}_"*.deb | head -n1)
fi

tmp=$(mktemp -d "$CACHE/stock-x.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Only /boot is needed; the modules (~400 MB unpacked) are skipped.
dpkg-deb --fsys-tarfile "$deb" | tar -C "$tmp" -x --wildcards './boot/*'
vmlinuz=$(ls "$tmp"/boot/vmlinuz-* 2>/dev/null | head -n1)
[ -n "$vmlinuz" ] || die "no /boot/vmlinuz-* in $deb"
cp "$vmlinuz" "$OUT/vmlinuz.tmp" && mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
cp "$(ls "$tmp"/boot/config-* | head -n1)" "$OUT/config" 2>/dev/null || true
printf '%s\n' "$pkg $ver" "$(basename "$vmlinuz")" >"$OUT/info"
echo "fetch-stock: $OUT/vmlinuz ($pkg $ver, $(stat -c %s "$OUT/vmlinuz") bytes)"
