"""The faults a round hits chatd with, each at a random moment of the load: kill -9, SIGTERM,
SIGHUP (a config reload), the disk under the data dir filling up, and the upstream vanishing.
Each returns what the invariants need to know: when chatd died, and how fast it came back."""
import os
import signal
import subprocess
import time

from harness import FAKE, wait_for

FAULTS = ("kill9", "sigterm", "sighup", "disk_full", "upstream_vanish")
HEALTHY_WITHIN_S = 5.0


class Upstream:
    """fake_upstream on a fixed port, so that it can vanish and come back where the keys point."""

    def __init__(self, workdir, port):
        self.workdir, self.port = workdir, port
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self.proc = None
        self.log = open(os.path.join(workdir, "fake.log"), "ab")
        self.start()

    def start(self):
        port_file = os.path.join(self.workdir, "fake.port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        self.proc = subprocess.Popen([FAKE, "--listen", f"127.0.0.1:{self.port}", "--port-file", port_file],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(lambda: os.path.exists(port_file) or self.proc.poll() is not None, what="fake_upstream")
        if self.proc.poll() is not None:
            raise AssertionError(f"fake_upstream exited with {self.proc.returncode} (port {self.port} taken?)")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(10)


class Outcome:
    def __init__(self, fault):
        self.fault = fault
        self.died_at = None  # monotonic time chatd stopped writing (kill -9)
        self.drained = False  # SIGTERM: chatd finished or ended its answers itself
        self.healthy_after_s = None  # from the restart to /healthz 200
        self.detail = ""


def restart(daemon, outcome):
    began = time.monotonic()
    daemon.start()
    outcome.healthy_after_s = time.monotonic() - began


def hit(fault, daemon, upstream, data_dir):
    """Applies one fault now and undoes it (restart, space back, upstream back)."""
    outcome = Outcome(fault)
    if fault == "kill9":
        outcome.died_at = time.monotonic()
        daemon.stop(signal.SIGKILL)
        time.sleep(0.3)
        restart(daemon, outcome)
    elif fault == "sigterm":
        code = daemon.stop(signal.SIGTERM, timeout=60)
        outcome.drained = True
        outcome.detail = f"exit {code}"
        if code != 0:
            raise AssertionError(f"chatd exited {code} on SIGTERM")
        restart(daemon, outcome)
    elif fault == "sighup":
        daemon.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        if daemon.proc.poll() is not None:
            raise AssertionError(f"chatd exited {daemon.proc.returncode} on SIGHUP")
    elif fault == "disk_full":
        filler = os.path.join(data_dir, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            for chunk in (1 << 20, 1 << 12):  # to the last page
                try:
                    while True:
                        os.write(fd, b"\0" * chunk)
                except OSError:
                    pass  # full at this granularity
        finally:
            os.close(fd)
        time.sleep(1.5)
        os.unlink(filler)
        outcome.detail = "full for 1.5 s"
    elif fault == "upstream_vanish":
        upstream.stop(signal.SIGKILL)
        time.sleep(1.5)
        upstream.start()
        outcome.detail = "gone for 1.5 s"
    else:
        raise ValueError(fault)
    return outcome
