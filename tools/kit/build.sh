#!/usr/bin/env bash
# Domus guest kit: a small Linux kernel + busybox initramfs for end-to-end guest tests.
#
#   tools/kit/build.sh                  -> cache/kit/{vmlinux,bzImage,initramfs.cpio}
#   tools/kit/build.sh --no-pv-patches  -> cache/kit-nopatch/... (same kernel without the
#                                          PVM patches in tools/kit/patches, for VT-x hosts)
#
# Inputs: Debian's linux-source-6.1 and busybox-static (apt-get download + dpkg-deb -x,
# no root needed), tools/kit/kit.config (fragment over `make tinyconfig`),
# tools/kit/patches/*.patch, tools/kit/initramfs/ (files copied into the initramfs).
# Every output is rebuilt only when a hash of its inputs changes (stamps in the output dir).
# See tools/kit/README.md.
set -euo pipefail

usage() {
	cat <<EOF
usage: $0 [--no-pv-patches] [--initramfs-only] [--force] [--jobs N] [--verbose]
  --no-pv-patches  build without tools/kit/patches into cache/kit-nopatch
  --initramfs-only leave the kernel alone, (re)build only initramfs.cpio
  --force          rebuild even if the stamps match
  --jobs N         make -jN (default: number of CPUs)
  --verbose        show the kernel build output instead of logging it to a file
environment: DOMUS_CACHE (default: <repo>/cache)
EOF
}

KIT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$KIT_DIR/../.." && pwd)
CACHE=${DOMUS_CACHE:-$ROOT/cache}
PATCHED=1
KERNEL=1
FORCE=0
VERBOSE=0
JOBS=$(nproc 2>/dev/null || echo 2)

while [ $# -gt 0 ]; do
	case "$1" in
	--no-pv-patches) PATCHED=0 ;;
	--initramfs-only) KERNEL=0 ;;
	--force) FORCE=1 ;;
	--verbose) VERBOSE=1 ;;
	--jobs) JOBS=$2; shift ;;
	--jobs=*) JOBS=${1#--jobs=} ;;
	-h|--help) usage; exit 0 ;;
	*) echo "build.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

if [ "$PATCHED" = 1 ]; then VARIANT=kit; else VARIANT=kit-nopatch; fi
OUT=$CACHE/$VARIANT
WORK=$CACHE/kit-work
VWORK=$WORK/$VARIANT
DL=$CACHE/dl
mkdir -p "$OUT" "$VWORK" "$DL"

log() { echo "kit[$VARIANT]: $*" >&2; }
die() { echo "kit[$VARIANT]: ERROR: $*" >&2; exit 1; }

for tool in apt-get apt-cache dpkg-deb make gcc patch sha256sum tar xz readelf flex bison bc; do
	command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (Debian: apt-get install build-essential flex bison bc libelf-dev libssl-dev xz-utils patch)"
done

# ---------------------------------------------------------------------------------------
# Debian packages: download the candidate version once into cache/dl (no root needed).
# Prints the path of the .deb. Falls back to an already downloaded version when offline.
fetch_deb() {
	local pkg=$1 ver file
	ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
	if [ -n "$ver" ]; then
		# apt-get download names files pkg_<version with ':' as %3a>_<arch>.deb
		file=$(ls "$DL/${pkg}_${ver/:/%3a}_"*.deb 2>/dev/null | head -n1 || true)
		if [ -z "$file" ]; then
			local aptopt=()
			[ "$(id -u)" = 0 ] && aptopt=(-o APT::Sandbox::User=root)
			if (cd "$DL" && apt-get "${aptopt[@]}" download -q "$pkg=$ver" >&2); then
				file=$(ls "$DL/${pkg}_${ver/:/%3a}_"*.deb 2>/dev/null | head -n1 || true)
			fi
		fi
	fi
	if [ -z "${file:-}" ]; then
		file=$(ls -t "$DL/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
		[ -n "$file" ] || die "cannot get Debian package '$pkg' (no apt candidate or download failed; try: apt-get update)"
		log "warning: using already downloaded $(basename "$file") (apt had no usable candidate)"
	fi
	echo "$file"
}

deb_version() { dpkg-deb -f "$1" Version; }

# Unpack a .deb once into $WORK/pkgs/<name>_<version>/; prints that directory.
unpack_deb() {
	local deb=$1 dir
	dir=$WORK/pkgs/$(basename "$deb" .deb)
	if [ ! -e "$dir/.unpacked" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		dpkg-deb -x "$deb" "$dir"
		touch "$dir/.unpacked"
	fi
	echo "$dir"
}

hash_inputs() { # hash_inputs <label>... <files>: content hash of strings and files
	{
		for x in "$@"; do
			if [ -f "$x" ]; then
				printf 'file %s\n' "${x#"$KIT_DIR"/}"
				sha256sum <"$x"
			else
				printf 'str %s\n' "$x"
			fi
		done
	} | sha256sum | cut -d' ' -f1
}

# ---------------------------------------------------------------------------------------
LINUX_DEB=$(fetch_deb linux-source-6.1)
LINUX_VER=$(deb_version "$LINUX_DEB")
BUSYBOX_DEB=$(fetch_deb busybox-static)
BUSYBOX_VER=$(deb_version "$BUSYBOX_DEB")

PATCHES=()
if [ "$PATCHED" = 1 ]; then
	while IFS= read -r p; do PATCHES+=("$p"); done < <(find "$KIT_DIR/patches" -maxdepth 1 -name '*.patch' | LC_ALL=C sort)
	[ "${#PATCHES[@]}" -gt 0 ] || die "no patches found in $KIT_DIR/patches"
fi

KERNEL_STAMP=$(hash_inputs "kernel v1" "linux-source $LINUX_VER" "patched=$PATCHED" \
	"$KIT_DIR/build.sh" "$KIT_DIR/kit.config" ${PATCHES[@]+"${PATCHES[@]}"})
INITRAMFS_FILES=()
while IFS= read -r f; do INITRAMFS_FILES+=("$f"); done < <(cd "$KIT_DIR" && find initramfs -type f | LC_ALL=C sort | sed "s|^|$KIT_DIR/|")
INITRAMFS_STAMP=$(hash_inputs "initramfs v1" "busybox $BUSYBOX_VER" "linux-source $LINUX_VER" \
	"$KIT_DIR/build.sh" "${INITRAMFS_FILES[@]}" \
	$(for f in "${INITRAMFS_FILES[@]}"; do [ -x "$f" ] && echo "exec:${f#"$KIT_DIR"/}"; done))

stamp_ok() { # stamp_ok <name> <hash> <outputs...>
	local name=$1 h=$2; shift 2
	[ "$FORCE" = 0 ] || return 1
	[ "$(cat "$OUT/$name.stamp" 2>/dev/null)" = "$h" ] || return 1
	for f in "$@"; do [ -s "$OUT/$f" ] || return 1; done
}

# ---------------------------------------------------------------------------------------
# Kernel source tree for this variant, with exactly our patch set applied.
# The tree is kept between builds so that kbuild rebuilds only what changed: patches that
# were applied last time are reversed (patch touches the files, so make sees them) and the
# current set applied. If anything about the tree is doubtful it is extracted afresh.
SRC=$VWORK/linux
BUILD=$VWORK/build

fresh_tree() {
	log "extracting linux-source $LINUX_VER"
	rm -rf "$SRC" "$BUILD"
	mkdir -p "$SRC"
	local pkgdir tarball
	pkgdir=$(unpack_deb "$LINUX_DEB")
	tarball=$(ls "$pkgdir"/usr/src/linux-source-*.tar.xz | head -n1)
	[ -f "$tarball" ] || die "no kernel tarball in $LINUX_DEB"
	tar -C "$SRC" --strip-components=1 -xJf "$tarball"
	mkdir -p "$SRC/.kit-applied"
	echo "$LINUX_VER" >"$SRC/.kit-version"
}

applied_set_matches() { # same patch names with the same contents, no more, no less
	local want have p
	want=$(for p in ${PATCHES[@]+"${PATCHES[@]}"}; do echo "$(basename "$p") $(sha256sum <"$p")"; done)
	have=$(for p in $(ls "$SRC/.kit-applied" | LC_ALL=C sort); do echo "$p $(sha256sum <"$SRC/.kit-applied/$p")"; done)
	[ "$want" = "$have" ]
}

prepare_tree() {
	if [ "$(cat "$SRC/.kit-version" 2>/dev/null)" != "$LINUX_VER" ] || [ ! -d "$SRC/.kit-applied" ]; then
		fresh_tree
	elif applied_set_matches; then
		log "source tree already carries the current patch set"
		return 0
	else
		# Reverse what is applied, newest first. On any failure start from scratch.
		local old
		for old in $(ls "$SRC/.kit-applied" | LC_ALL=C sort -r); do
			if ! patch -d "$SRC" -p1 -R -F0 -s --batch --no-backup-if-mismatch <"$SRC/.kit-applied/$old" >/dev/null; then
				log "could not reverse $old; re-extracting"
				fresh_tree
				break
			fi
			rm -f "$SRC/.kit-applied/$old"
		done
	fi
	local p name
	for p in ${PATCHES[@]+"${PATCHES[@]}"}; do
		name=$(basename "$p")
		if ! patch -d "$SRC" -p1 -F0 --dry-run --batch -s <"$p" >"$VWORK/patch.log" 2>&1; then
			cat "$VWORK/patch.log" >&2
			rm -f "$SRC/.kit-version" # tree must be re-extracted next time
			die "patch $name does not apply to linux-source $LINUX_VER"
		fi
		patch -d "$SRC" -p1 -F0 --batch -s --no-backup-if-mismatch <"$p" || {
			rm -f "$SRC/.kit-version"
			die "patch $name failed"
		}
		cp "$p" "$SRC/.kit-applied/$name"
		log "applied $name"
	done
}

configure_kernel() {
	mkdir -p "$BUILD"
	# Each kconfig run re-evaluates dozens of compiler probes: skip it when nothing that
	# goes into .config changed since the last successful configure.
	local cstamp
	cstamp=$(hash_inputs "config v1" "linux-source $LINUX_VER" "$KIT_DIR/kit.config")
	if [ -s "$BUILD/.config" ] && [ "$(cat "$BUILD/.kit-config-stamp" 2>/dev/null)" = "$cstamp" ]; then
		log ".config up to date"
		return 0
	fi
	rm -f "$BUILD/.kit-config-stamp"
	local mk=(make -s -C "$SRC" O="$BUILD" ARCH=x86_64)
	"${mk[@]}" tinyconfig >"$VWORK/config.log" 2>&1 || { cat "$VWORK/config.log" >&2; die "make tinyconfig failed"; }
	cp "$BUILD/.config" "$BUILD/kit-base.config"
	(cd "$SRC" && scripts/kconfig/merge_config.sh -m -O "$BUILD" "$BUILD/kit-base.config" "$KIT_DIR/kit.config") \
		>>"$VWORK/config.log" 2>&1 || { cat "$VWORK/config.log" >&2; die "merge_config.sh failed"; }
	"${mk[@]}" olddefconfig >>"$VWORK/config.log" 2>&1 || { cat "$VWORK/config.log" >&2; die "make olddefconfig failed"; }

	# Every line of the fragment must have survived olddefconfig.
	local line name bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			if ! grep -qxF -- "$line" "$BUILD/.config"; then
				name=${line%%=*}
				echo "  wanted: $line   got: $(grep -E "^$name=|^# $name is not set" "$BUILD/.config" || echo '(absent: unmet dependency)')" >&2
				bad=1
			fi
			;;
		"# CONFIG_"*" is not set")
			name=${line#\# }
			name=${name%% *}
			if grep -q "^$name=" "$BUILD/.config"; then
				echo "  wanted: $line   got: $(grep "^$name=" "$BUILD/.config")" >&2
				bad=1
			fi
			;;
		esac
	done <"$KIT_DIR/kit.config"
	[ "$bad" = 0 ] || die "kit.config options were dropped by olddefconfig (see above)"
	echo "$cstamp" >"$BUILD/.kit-config-stamp"
}

build_kernel() {
	prepare_tree
	configure_kernel
	log "building vmlinux + bzImage with -j$JOBS (log: $VWORK/build.log)"
	local t0 t1
	t0=$(date +%s)
	if [ "$VERBOSE" = 1 ]; then
		make -C "$SRC" O="$BUILD" ARCH=x86_64 -j"$JOBS" vmlinux bzImage 2>&1 | tee "$VWORK/build.log"
		[ "${PIPESTATUS[0]}" = 0 ] || die "kernel build failed"
	else
		make -C "$SRC" O="$BUILD" ARCH=x86_64 -j"$JOBS" vmlinux bzImage >"$VWORK/build.log" 2>&1 || {
			tail -n 40 "$VWORK/build.log" >&2
			die "kernel build failed (full log: $VWORK/build.log)"
		}
	fi
	t1=$(date +%s)
	log "kernel built in $((t1 - t0)) s"

	local vmlinux=$BUILD/vmlinux bz=$BUILD/arch/x86/boot/bzImage
	[ -s "$vmlinux" ] && [ -s "$bz" ] || die "build produced no vmlinux/bzImage"
	# The PVH entry point is an ELF note owned by "Xen" of type 18 (XEN_ELFNOTE_PHYS32_ENTRY).
	readelf -W -n "$vmlinux" | awk '$1 == "Xen" && /\(0x00000012\)|PHYS32_ENTRY/ { found = 1 } END { exit !found }' ||
		die "vmlinux has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); is CONFIG_PVH set?"
	if [ "$PATCHED" = 1 ]; then
		grep -q 'domus.pvm_syscall' "$vmlinux" || die "patched vmlinux lacks the domus.pvm_syscall option"
	fi

	cp "$vmlinux" "$OUT/vmlinux.tmp" && mv "$OUT/vmlinux.tmp" "$OUT/vmlinux"
	cp "$bz" "$OUT/bzImage.tmp" && mv "$OUT/bzImage.tmp" "$OUT/bzImage"
	cp "$BUILD/.config" "$OUT/config"
	cp "$BUILD/System.map" "$OUT/System.map"
	printf '%s\n' "linux-source-6.1 $LINUX_VER" "patched=$PATCHED" "kernel_build_seconds=$((t1 - t0))" \
		${PATCHES[@]+$(for p in "${PATCHES[@]}"; do echo "patch $(basename "$p")"; done)} >"$OUT/kernel.info"
	echo "$KERNEL_STAMP" >"$OUT/kernel.stamp"
}

# ---------------------------------------------------------------------------------------
# initramfs: uncompressed newc built with the kernel's own gen_init_cpio (host tool, built
# from the same source package), so device nodes and root ownership need no root.
build_initramfs() {
	local lpkg bbpkg gen list bb
	lpkg=$(unpack_deb "$LINUX_DEB")
	bbpkg=$(unpack_deb "$BUSYBOX_DEB")
	bb=$bbpkg/bin/busybox
	[ -x "$bb" ] || die "no bin/busybox in $BUSYBOX_DEB"
	gen=$WORK/gen_init_cpio-$LINUX_VER
	if [ ! -x "$gen" ]; then
		local gsrc=$WORK/gen_init_cpio-src
		rm -rf "$gsrc"
		mkdir -p "$gsrc"
		tar -C "$gsrc" --strip-components=1 -xJf "$(ls "$lpkg"/usr/src/linux-source-*.tar.xz | head -n1)" \
			--wildcards '*/usr/gen_init_cpio.c'
		gcc -O2 -o "$gen.tmp" "$gsrc/usr/gen_init_cpio.c" && mv "$gen.tmp" "$gen"
		rm -rf "$gsrc"
	fi

	list=$VWORK/initramfs.list
	{
		echo "# generated by tools/kit/build.sh"
		for d in /bin /sbin /usr /usr/bin /usr/sbin /dev /proc /sys /tmp /root /mnt /run /var /var/run /var/log /etc; do
			echo "dir $d 0755 0 0"
		done
		echo "nod /dev/console 0600 0 0 c 5 1"
		echo "nod /dev/null 0666 0 0 c 1 3"
		echo "file /bin/busybox $bb 0755 0 0"
		# One symlink per applet at the path busybox itself reports (/bin/sh, /sbin/acpid, ...).
		"$bb" --list-full | LC_ALL=C sort | while read -r applet; do
			[ "$applet" = bin/busybox ] && continue
			echo "slink /$applet /bin/busybox 0777 0 0"
		done
		# Our files, with parent directories (tools/kit/initramfs/etc/x -> /etc/x).
		(cd "$KIT_DIR/initramfs" && find . -mindepth 1 -type d | LC_ALL=C sort) | while read -r d; do
			d=${d#.}
			case "$d" in /etc|/bin|/sbin|/usr|/usr/bin|/usr/sbin|/tmp|/root|/mnt|/run|/var|/var/run|/var/log) continue ;; esac
			echo "dir $d 0755 0 0"
		done
		(cd "$KIT_DIR/initramfs" && find . -type f | LC_ALL=C sort) | while read -r f; do
			local mode=0644
			[ -x "$KIT_DIR/initramfs/$f" ] && mode=0755
			echo "file ${f#.} $KIT_DIR/initramfs/${f#./} $mode 0 0"
		done
	} >"$list"
	[ -x "$KIT_DIR/initramfs/init" ] || die "tools/kit/initramfs/init missing or not executable"
	"$gen" -t 0 "$list" >"$OUT/initramfs.cpio.tmp" || die "gen_init_cpio failed"
	mv "$OUT/initramfs.cpio.tmp" "$OUT/initramfs.cpio"
	echo "busybox-static $BUSYBOX_VER" >"$OUT/initramfs.info"
	echo "$INITRAMFS_STAMP" >"$OUT/initramfs.stamp"
	log "initramfs.cpio: $(stat -c %s "$OUT/initramfs.cpio") bytes"
}

# ---------------------------------------------------------------------------------------
# One build per variant at a time.
exec 9>"$VWORK/.lock"
if command -v flock >/dev/null 2>&1; then
	flock 9 || die "cannot lock $VWORK/.lock"
fi

if [ "$KERNEL" = 0 ]; then
	:
elif stamp_ok kernel "$KERNEL_STAMP" vmlinux bzImage; then
	log "kernel up to date ($OUT)"
else
	build_kernel
fi
if stamp_ok initramfs "$INITRAMFS_STAMP" initramfs.cpio; then
	log "initramfs up to date ($OUT)"
else
	build_initramfs
fi
log "ready: $OUT/vmlinux $OUT/bzImage $OUT/initramfs.cpio"
