#!/bin/bash
# Run the functional (guest-booting) tests: directly when /dev/kvm works here, else inside the
# nested KVM host (tools/kvmhost). On a PVM host (kvm_pvm) the tiny guests and FV guests run
# directly on it, and the tests that boot Linux to user space (pytest marker "slow": the guest
# kit, Debian's kernel) run in the nested host: Linux's ring 0 runs in KVM's instruction
# emulator on PVM, which makes each of those boots take minutes (docs/pvm-host.md).
# Arguments go to pytest.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/prepare-guests.sh
# Every finished test leaves a line "OUTCOME NODEID" in $progress (tests/functional/conftest.py),
# the tests run a second time in the nested host are listed in $progress.reruns, and the first
# run's failure of each of them is kept in $rerun_log (.ci/run prints it).
cache_dir=${DOMUS_CACHE:-$top/cache}
progress=$cache_dir/functional.progress
rerun_log=$cache_dir/functional.reruns.log
mkdir -p "$cache_dir"
: >"$progress"
: >"$progress.reruns"
: >"$rerun_log"
export DOMUS_TEST_PROGRESS=$progress DOMUS_TEST_RESUME=0 DOMUS_TEST_RERUN_LOG=$rerun_log

# The closing line, in both modes: each test counted once, by its last outcome (failed if any
# phase of it failed). Fails the run (status 1) if a test failed but pytest's status says not.
summary() {
	local counts passed failed skipped reruns
	counts=$(awk '{ o = $1; id = substr($0, length(o) + 2)
		if (o == "failed") st[id] = "failed"
		else if (o == "skipped") { if (st[id] != "failed") st[id] = "skipped" }
		else if (!(id in st)) st[id] = "passed" }
		END { for (i in st) n[st[i]]++; printf "%d %d %d\n", n["passed"], n["failed"], n["skipped"] }' \
		"$progress")
	read -r passed failed skipped <<<"$counts"
	reruns=$(sort -u "$progress.reruns" | grep -c . || true)
	echo "functional tests: $passed passed, $failed failed, $reruns rerun"
	[ "$skipped" = 0 ] || echo "functional tests: $skipped skipped"
	if [ -s "$rerun_log" ]; then
		echo "functional tests: the first failure of each rerun test is in $rerun_log"
	fi
	if [ "$failed" != 0 ] && [ "$rc" = 0 ]; then
		rc=1
	fi
}

# Which KVM this host has, as Domus sees it ("PVM", "VT-x", ...; empty without /dev/kvm).
host_kvm() {
	local bin
	for bin in build/domus build-san/domus; do
		if [ -x "$bin" ]; then
			"$bin" info 2>/dev/null | awk -F': ' '/^kvm / && $2 ~ /^usable/ { ok = 1 }
				/^host_virtualization/ { mode = $2 } END { if (ok) print mode }'
			return
		fi
	done
}

# pytest directly on this host's KVM; sets rc.
direct() {
	local r=0
	/usr/bin/python3 -m pytest -c tests/functional/pytest.ini tests/functional "$@" || r=$?
	[ "$r" != 5 ] || r=0 # nothing selected
	[ "$r" = 0 ] || rc=$r
}

# pytest inside the nested KVM host, restarted when it dies; sets rc.
nested() {
	if ! command -v qemu-system-x86_64 >/dev/null; then
		echo "domus: functional tests: the nested KVM host needs qemu-system-x86_64: run" \
			"tools/setup-deps.sh" >&2
		rc=1
		return
	fi
	# Nested SVM under QEMU TCG sometimes freezes the nested host for good (seen a few times
	# per hour of tests under load, never the same test). That is not a test verdict: the
	# host is restarted and the run goes on from the test that was running
	# (tests/functional/conftest.py keeps the list of finished tests in $progress).
	local attempt=0 stuck=0 before r=0
	DOMUS_TEST_RESUME=0
	while :; do
		attempt=$((attempt + 1))
		before=$(wc -l <"$progress")
		r=0
		tools/kvmhost/kvmhost.sh --mem 20480 --freeze-timeout 300 --idle-timeout 1200 -- \
			/usr/bin/python3 -m pytest -c tests/functional/pytest.ini tests/functional \
			"$@" || r=$?
		[ "$r" = 125 ] || break
		# Give up when the host died twice without a test finishing in between, or too often.
		if [ "$(wc -l <"$progress")" = "$before" ]; then stuck=$((stuck + 1)); else stuck=0; fi
		if [ "$stuck" -ge 2 ] || [ "$attempt" -ge 6 ]; then
			echo "domus: functional tests: the nested KVM host died $attempt times; giving up" >&2
			break
		fi
		echo "functional tests: the nested KVM host died (a QEMU TCG nested-SVM problem, see" \
			"its console above; attempt $attempt); restarting it and going on from the test" \
			"that was running" >&2
		DOMUS_TEST_RESUME=1
	done
	# pytest exits 5 when nothing was selected, or nothing was left after a restart.
	[ "$r" != 5 ] || r=0
	if [ "$DOMUS_TEST_RESUME" = 1 ]; then
		echo "functional tests: counted over $attempt starts of the nested KVM host; failed:"
		grep '^failed ' "$progress" | sed 's/^/  /' || true
	fi
	[ "$r" = 0 ] || rc=$r
	export DOMUS_TEST_RESUME=0
}

rc=0
mode=$(host_kvm)
case "$mode" in
PVM*)
	echo "functional tests: this is a PVM host (kvm_pvm): tiny and FV guests run on its KVM," \
		"the tests that boot Linux to user space in the nested KVM host (tools/kvmhost)"
	direct -m "not slow" "$@"
	nested -m slow "$@"
	;;
"")
	echo "functional tests: no usable /dev/kvm here; running them on KVM (AMD-V, nested) inside" \
		"a QEMU TCG machine (tools/kvmhost): slower, but every guest really boots on KVM"
	nested "$@"
	;;
*)
	echo "functional tests: /dev/kvm is usable here ($mode); running guests on this host's KVM"
	direct "$@"
	;;
esac
if [ -s "$progress.reruns" ]; then
	echo "functional tests: these failed once in the nested KVM host and were run again" \
		"(see RERUN above):"
	sed 's/^/  /' "$progress.reruns"
fi
summary
exit "$rc"
