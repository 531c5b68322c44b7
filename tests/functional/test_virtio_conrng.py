"""Issue 4: virtio-console (hvc0) and virtio-rng with a tiny guest's own driver."""
import os
import tempfile
import threading

from conftest import guest, run_guest


def test_rng_and_console_output(tmp_path):
    out = tmp_path / "hvc.log"
    r = run_guest("vconrng", "--memory", 128, "--rng", "--hvc", out)
    assert r.passed("vconrng") and not r.fails() and r.rc == 0, r
    assert out.read_text() == "hvc0: hello from the guest\n"


def test_console_input(tmp_path):
    # A FIFO needs a local file system (tmp_path may be 9p inside the nested KVM host).
    shm = tempfile.mkdtemp(dir="/dev/shm") if os.path.isdir("/dev/shm") else str(tmp_path)
    out, fifo = tmp_path / "hvc.log", os.path.join(shm, "hvc.in")
    os.mkfifo(fifo)

    def feed():
        with open(fifo, "w") as f:
            f.write("ping-42")

    t = threading.Thread(target=feed, daemon=True)
    t.start()
    r = run_guest("vconrng", "--memory", 128, "--hvc", "%s,in=%s" % (out, fifo),
                  "--cmdline", "rng=0 echo=1")
    assert r.passed("vconrng") and not r.fails() and r.rc == 0, r
    assert "hvc0: echo ping-42" in out.read_text()
