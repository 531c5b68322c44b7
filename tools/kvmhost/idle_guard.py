#!/usr/bin/python3
"""idle_guard.py SECONDS CMD...: run CMD, copy its stdout to ours, and kill it when it has
printed nothing for SECONDS (exit status 124 then, else CMD's own).

Nested SVM under QEMU TCG can freeze the nested host so completely that no watchdog inside it
fires; a test run always prints something every few minutes, so silence means that freeze."""
import os
import signal
import subprocess
import sys
import time


def main():
    limit = float(sys.argv[1])
    p = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE, stdin=sys.stdin)
    fd = p.stdout.fileno()
    os.set_blocking(fd, False)
    last = time.monotonic()
    import select
    while True:
        r, _, _ = select.select([fd], [], [], 5)
        if r:
            data = os.read(fd, 65536)
            if not data:
                break
            os.write(1, data)
            last = time.monotonic()
        elif time.monotonic() - last > limit:
            sys.stderr.write("domus: kvmhost: no output for %d s: the nested KVM host is frozen;"
                             " stopping it\n" % limit)
            p.send_signal(signal.SIGKILL)
            p.wait()
            return 124
    return p.wait()


if __name__ == "__main__":
    sys.exit(main())
