"""`make run` and `make demo` as an operator meets them (issue: the first ten minutes).

Each test runs the real Makefile (SKIP_BUILD=1: the binaries under test are already built) in a
scratch directory that links to the repository's etc/ and webui/, so the development database
and socket the targets create (var/) are the scratch directory's, never the repository's.
"""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import shutil
import unittest

from harness import CHATD, CHATCTL, ROOT, Client, free_port, wait_for, main


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


class Daemon:
    """What Client needs to talk to a chatd started by make."""

    def __init__(self, port):
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"


class MakeTargets(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="chatd-make-")
        for name in ("etc", "webui"):
            os.symlink(os.path.join(ROOT, name), os.path.join(self.dir, name))
        self.build = os.path.dirname(CHATD)
        self.running = []

    def tearDown(self):
        for proc, log in self.running:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
            log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def make_args(self, target, **vars):
        args = ["make", "--no-print-directory", "-f", os.path.join(ROOT, "Makefile"), target, "SKIP_BUILD=1",
                f"BUILD_DIR={self.build}"]
        return args + [f"{k}={v}" for k, v in vars.items()]

    def start(self, target, **vars):
        """make TARGET in the background; returns (process, path of its output)."""
        path = os.path.join(self.dir, f"{target}-{len(self.running)}.log")
        log = open(path, "wb")
        proc = subprocess.Popen(self.make_args(target, **vars), cwd=self.dir, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
        self.running.append((proc, log))
        return proc, path

    def run_make(self, target, **vars):
        return subprocess.run(self.make_args(target, **vars), cwd=self.dir, capture_output=True, text=True,
                              timeout=60)

    def wait_started(self, proc, log_path, what, port):
        """Until make has printed its instructions and chatd answers on PORT."""
        def started():
            if proc.poll() is not None:
                raise AssertionError(f"{what} exited {proc.returncode}:\n{read(log_path)}")
            if "Stop with Ctrl-C." not in read(log_path):
                return False
            try:
                return Client(Daemon(port)).http("GET", "/healthz")[0] == 200
            except OSError:
                return False
        wait_for(started, timeout=60, what=what)

    def ctl(self, socket, *args):
        r = subprocess.run([CHATCTL, "-s", socket, "--json", *args], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_demo_keeps_its_own_data_and_refuses_a_busy_port_or_socket(self):
        port = free_port()
        run, run_log = self.start("run", PORT=port)
        self.wait_started(run, run_log, "make run", port)
        dev_socket = os.path.join(self.dir, "var", "admin.sock")
        self.assertTrue(os.path.exists(os.path.join(self.dir, "var", "chatd.db")))

        # The port make run holds: the demo refuses before starting or creating anything.
        refused = self.run_make("demo", PORT=port, FAKE_PORT=free_port())
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn(f"127.0.0.1:{port} is already in use", refused.stderr)
        self.assertIn("PORT=", refused.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "var", "demo")))

        # A second make run on the same port refuses the same way.
        again = self.run_make("run", PORT=port)
        self.assertNotEqual(again.returncode, 0)
        self.assertIn("already in use", again.stderr)

        demo_port = free_port()
        demo, demo_log = self.start("demo", PORT=demo_port, FAKE_PORT=free_port())
        self.wait_started(demo, demo_log, "make demo", demo_port)
        out = read(demo_log)
        demo_socket = os.path.join("var", "demo", "admin.sock")
        self.assertIn(f"-s {demo_socket} admin add NAME", out)
        self.assertIn(f"http://127.0.0.1:{demo_port}", out)

        # The demo's key lives in the demo's database only; the development socket still
        # answers for the development daemon, which has no key.
        demo_keys = self.ctl(os.path.join(self.dir, demo_socket), "keys", "list")["items"]
        self.assertEqual(len(demo_keys), 1)
        self.assertEqual(self.ctl(dev_socket, "keys", "list")["items"], [])
        self.assertTrue(os.path.exists(os.path.join(self.dir, "var", "demo", "chatd.db")))

        # The demo's own socket is busy now: another demo on another port refuses too.
        third = self.run_make("demo", PORT=free_port(), FAKE_PORT=free_port())
        self.assertNotEqual(third.returncode, 0)
        self.assertIn("admin socket", third.stderr)

        # The demo answers show the product, in the question's language, varied by question.
        client = Client(Daemon(demo_port))
        client.register("visitor")
        _, zh, final = client.answer("请用表格对比三种学习方法")
        self.assertEqual(final[0], "done", final)
        self.assertIn("演示模式", zh)
        self.assertRegex(zh, r"\n\|[^\n]+\|\n\|---")
        _, en_code, _ = client.answer("Show me some Python code")
        self.assertIn("Demo mode", en_code)
        self.assertIn("```python", en_code)
        _, en_math, _ = client.answer("What is the formula for a sum?")
        self.assertIn("$$", en_math)
        self.assertNotEqual(en_code, en_math)
        self.assertFalse(re.search(r"[\u4e00-\u9fff]", en_code))

        # Ctrl-C ends the demo and its fake upstream.
        os.killpg(demo.pid, signal.SIGINT)
        demo.wait(30)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", demo_port), timeout=1).close()

    def test_listen_sets_the_address(self):
        port = free_port()
        run, run_log = self.start("run", LISTEN=f"127.0.0.1:{port}")
        self.wait_started(run, run_log, "make run", port)
        self.assertIn(f"open http://127.0.0.1:{port}", read(run_log))
        status, _, body = Client(Daemon(port)).http("GET", "/healthz")
        self.assertEqual(status, 200, body)


if __name__ == "__main__":
    main()
