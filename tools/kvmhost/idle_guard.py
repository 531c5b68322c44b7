#!/usr/bin/python3
"""idle_guard.py [--heartbeat FILE SECONDS] SECONDS CMD...: run CMD, copy its stdout to ours, and
kill it when it has printed nothing for SECONDS, or when FILE (which the nested host rewrites every
few seconds while anything in it can run) has not changed for its SECONDS. Exit status 124 then,
else CMD's own.

Nested SVM under QEMU TCG can freeze the nested host so completely that no watchdog inside it
fires. The heartbeat finds that in minutes; the output limit is the last resort for a command that
keeps the host alive but hangs without a word."""
import os
import select
import signal
import subprocess
import sys
import time


def mtime(path):
    try:
        return os.stat(path).st_mtime
    except FileNotFoundError:
        return None


def main():
    args = sys.argv[1:]
    beat, beat_limit = None, None
    if args[0] == "--heartbeat":
        beat, beat_limit, args = args[1], float(args[2]), args[3:]
    limit = float(args[0])
    p = subprocess.Popen(args[1:], stdout=subprocess.PIPE, stdin=sys.stdin)
    fd = p.stdout.fileno()
    os.set_blocking(fd, False)
    last = time.monotonic()
    # The host's first beat comes after it has booted: count from our start until then.
    beat_seen, beat_at = mtime(beat) if beat else None, time.monotonic()
    while True:
        r, _, _ = select.select([fd], [], [], 5)
        now = time.monotonic()
        if r:
            data = os.read(fd, 65536)
            if not data:
                break
            os.write(1, data)
            last = now
        why = None
        if beat:
            m = mtime(beat)
            if m != beat_seen:
                beat_seen, beat_at = m, now
            elif now - beat_at > beat_limit:
                why = "its heartbeat stopped %d s ago" % (now - beat_at)
        if why is None and now - last > limit:
            why = "no output for %d s" % limit
        if why:
            sys.stderr.write("domus: kvmhost: %s: the nested KVM host is frozen; stopping it\n"
                             % why)
            p.send_signal(signal.SIGKILL)
            p.wait()
            return 124
    return p.wait()


if __name__ == "__main__":
    sys.exit(main())
