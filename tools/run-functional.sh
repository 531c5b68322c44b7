#!/bin/bash
# Run the functional (guest-booting) tests: directly when /dev/kvm works here, else inside the
# nested KVM host (tools/kvmhost). Arguments go to pytest.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
tools/prepare-guests.sh
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	echo "functional tests: /dev/kvm is usable here; running guests on this host's KVM"
	exec /usr/bin/python3 -m pytest -c tests/functional/pytest.ini tests/functional "$@"
fi
if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "domus: functional tests: /dev/kvm is missing and qemu-system-x86_64 (for the nested" \
		"KVM host) is not installed: run tools/setup-deps.sh" >&2
	exit 1
fi
echo "functional tests: no usable /dev/kvm here; running them on KVM (AMD-V, nested) inside a" \
	"QEMU TCG machine (tools/kvmhost): slower, but every guest really boots on KVM"
# Nested SVM under QEMU TCG sometimes freezes the nested host for good (seen a few times per
# hour of tests under load, never the same test). That is not a test verdict: the host is
# restarted and the run goes on from the test that was running (tests/functional/conftest.py
# keeps the list of finished tests in this file).
progress=${DOMUS_CACHE:-$top/cache}/functional.progress
mkdir -p "$(dirname "$progress")"
: >"$progress"
: >"$progress.reruns"
export DOMUS_TEST_PROGRESS=$progress DOMUS_TEST_RESUME=0
rc=0 attempt=0 stuck=0
while :; do
	attempt=$((attempt + 1))
	before=$(wc -l <"$progress")
	rc=0
	tools/kvmhost/kvmhost.sh --mem 20480 --freeze-timeout 300 --idle-timeout 1200 -- \
		/usr/bin/python3 -m pytest -c tests/functional/pytest.ini tests/functional "$@" || rc=$?
	[ "$rc" = 125 ] || break
	# Give up when the host died twice without a test finishing in between, or too often.
	if [ "$(wc -l <"$progress")" = "$before" ]; then stuck=$((stuck + 1)); else stuck=0; fi
	if [ "$stuck" -ge 2 ] || [ "$attempt" -ge 6 ]; then
		echo "domus: functional tests: the nested KVM host died $attempt times; giving up" >&2
		break
	fi
	echo "functional tests: the nested KVM host died (a QEMU TCG nested-SVM problem, see its" \
		"console above; attempt $attempt); restarting it and going on from the test that was" \
		"running" >&2
	DOMUS_TEST_RESUME=1
done
if [ -s "$progress.reruns" ]; then
	echo "functional tests: these failed once in the nested KVM host and were run again" \
		"(see RERUN above):"
	sed 's/^/  /' "$progress.reruns"
fi
# pytest exits 5 when nothing was left to run after a restart.
[ "$rc" != 5 ] || [ "$DOMUS_TEST_RESUME" != 1 ] || rc=0
if [ "$DOMUS_TEST_RESUME" = 1 ]; then
	echo "functional tests, all attempts: $(grep -c '^passed ' "$progress") passed," \
		"$(grep -c '^failed ' "$progress") failed, $(grep -c '^skipped ' "$progress") skipped"
	if grep '^failed ' "$progress" >&2; then
		[ "$rc" != 0 ] || rc=1
	fi
fi
exit "$rc"
