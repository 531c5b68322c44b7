#!/bin/bash
# Run a command on a KVM host when this machine has no usable /dev/kvm.
#
# Our development and CI machines are PVM guests themselves, and there kvm_pvm may refuse to bind
# ("this kernel is itself a kvm-pvm guest"), leaving no /dev/kvm. Guest tests must still boot guests
# on a real KVM, so this script starts Debian's stock kernel in QEMU (TCG, an emulated AMD CPU with
# SVM + NPT), loads kvm-amd there, mounts this machine's root file system read-write over virtio-9p
# and runs the command inside, in the same directory. Everything Domus does there is real KVM
# (AMD-V, nested), only slower.
#
# usage: tools/kvmhost/kvmhost.sh [--mem MiB] [--smp N] [--idle-timeout S] [--freeze-timeout S]
#                                 -- CMD [ARGS...]
# --idle-timeout: stop the nested host when it has printed nothing for S seconds (status 125).
# --freeze-timeout: stop it when its heartbeat (a file it rewrites every 10 s) is S seconds old.
# --scratch-disk MiB: give the nested host an empty disk of that size, /dev/vda there (named in
#   $KVMHOST_SCRATCH), for what needs a real block device (O_DIRECT, cache=none).
# Exit status: the command's. Output: the command's stdout/stderr (interleaved on one console).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${DOMUS_CACHE:-$top/cache}/kvmhost
mem=8192
smp=2
idle=
freeze=
scratch=
while [ $# -gt 0 ]; do
	case $1 in
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--idle-timeout) idle=$2; shift 2 ;;
	--freeze-timeout) freeze=$2; shift 2 ;;
	--scratch-disk) scratch=$2; shift 2 ;;
	--) shift; break ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--mem MiB] [--smp N] -- CMD..." >&2; exit 2; }

# The nested host mounts a tmpfs of its own on /tmp (host-init), so nothing it must share with
# this machine (the job, the checkout, the cache) may live under /tmp here.
for p in "$(cd "$here/../.." && pwd -P)" "$(mkdir -p "$(dirname "$cache")" && cd "$(dirname "$cache")" && pwd -P)"; do
	case "$p/" in
	/tmp/*)
		echo "domus: kvmhost: $p is under /tmp, which the nested KVM host replaces with its own;" \
			"use a checkout and DOMUS_CACHE outside /tmp" >&2
		exit 1
		;;
	esac
done
"$here/build-host.sh" "$cache" >&2

# The command and its environment travel in a script on the shared file system.
mkdir -p "$cache.jobs"
job=$(mktemp -d "$cache.jobs/job.XXXXXX")
trap 'rm -rf "$job"' EXIT
{
	echo "cd $(printf %q "$PWD")"
	echo "export DOMUS_KVMHOST=1"
	[ -z "$scratch" ] || echo "export KVMHOST_SCRATCH=/dev/vda"
	for v in PATH HOME LANG CI DOMUS_CACHE DOMUS_DEBUG DOMUS_SAN PYTHONDONTWRITEBYTECODE \
		DOMUS_TEST_PROGRESS DOMUS_TEST_RESUME DOMUS_TEST_RERUN_LOG; do
		[ -n "${!v:-}" ] && echo "export $v=$(printf %q "${!v}")"
	done
	printf '%q ' "$@"; echo
} >"$job/cmd.sh"

# Nested SVM under TCG has been seen to freeze both of the host's CPUs for good (soft lockups,
# nothing runs). A locked-up host panics, and panic=-1 with -no-reboot ends QEMU, so that a
# run fails in minutes instead of hanging; the threshold is generous for loaded machines.
lockup="softlockup_panic=1 watchdog_thresh=60"
# On a terminal the nested host's console is this terminal, unmultiplexed (Ctrl-A reaches the
# command, e.g. Domus's Ctrl-A x), so an interactive guest console works through both layers.
if [ -t 0 ] && [ -t 1 ]; then
	console=(-display none -chardev stdio,id=con,signal=off -serial chardev:con)
	exec 3<&0
else
	console=(-nographic -serial stdio)
	exec 3</dev/null
fi
disk=()
if [ -n "$scratch" ]; then
	truncate -s "${scratch}M" "$job/scratch.img"
	disk=(-drive "file=$job/scratch.img,if=none,id=scratch,format=raw"
		-device virtio-blk-pci,drive=scratch)
fi
guard=()
if [ -n "$idle$freeze" ]; then
	guard=("$here/idle_guard.py")
	[ -z "$freeze" ] || guard+=(--heartbeat "$job/alive" "$freeze")
	guard+=("${idle:-1000000}")
fi
"${guard[@]}" qemu-system-x86_64 -M q35 -accel tcg,thread=multi -cpu EPYC-v3,+svm,+npt \
	-smp "$smp" -m "$mem" "${console[@]}" -no-reboot -nodefaults "${disk[@]}" \
	-kernel "$cache/vmlinuz" -initrd "$cache/initrd.cpio" \
	-append "console=ttyS0 ${KVMHOST_KERNEL_ARGS:-quiet} panic=-1 $lockup kvmhost.job=$job" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,id=hostroot,multidevs=remap \
	2> >(grep -v "TCG doesn't support requested feature" >&2) <&3 || true
[ -f "$job/status" ] || {
	echo "domus: kvmhost: the KVM host VM ended without a status (it crashed or locked up;" \
		"its console above says which)" >&2
	exit 125
}
exit "$(cat "$job/status")"
