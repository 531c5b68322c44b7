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
exec tools/kvmhost/kvmhost.sh --mem 20480 -- /usr/bin/python3 -m pytest -c tests/functional/pytest.ini \
	tests/functional "$@"
