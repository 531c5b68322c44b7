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
run() {
	tools/kvmhost/kvmhost.sh --mem 20480 --idle-timeout 600 -- /usr/bin/python3 -m pytest -c tests/functional/pytest.ini \
		tests/functional "$@"
}
rc=0
run "$@" || rc=$?
if [ "$rc" = 125 ]; then
	# 125: the nested host itself died (see tools/kvmhost/kvmhost.sh), not a test verdict.
	echo "functional tests: the nested KVM host died under the tests (a QEMU TCG nested-SVM" \
		"problem, see its console above); running the suite once more" >&2
	rc=0
	run "$@" || rc=$?
fi
exit "$rc"
