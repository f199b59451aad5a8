"""Starts real chatd and fake_upstream processes on loopback for integration tests.

Binaries come from the environment (set by CTest): CHATD_BIN, CHATCTL_BIN, FAKE_UPSTREAM_BIN;
FAKE_WECHAT_SCRIPT may point at another fake_wechat.py. With CHATD_TEST_POSTGRES_URL (set by
tests/support/pg_server.py --run) every chatd keeps its state in a fresh PostgreSQL database
on that server instead of a SQLite file, and db() reads that database.

Against a sanitized build (`make test-sanitize`, which sets ASAN_OPTIONS) each test ends its
chatd with SIGTERM, so that LeakSanitizer looks at its exit, and fails when a chatd or
fake_upstream it started wrote a sanitizer report, even if every assertion passed.
"""
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
CHATD = os.environ.get("CHATD_BIN", os.path.join(BUILD, "chatd"))
CHATCTL = os.environ.get("CHATCTL_BIN", os.path.join(BUILD, "chatctl"))
FAKE = os.environ.get("FAKE_UPSTREAM_BIN", os.path.join(BUILD, "fake_upstream"))
FAKE_WECHAT = os.environ.get("FAKE_WECHAT_SCRIPT", os.path.join(ROOT, "tests", "fakes", "fake_wechat.py"))
POSTGRES = os.environ.get("CHATD_TEST_POSTGRES_URL", "")
FAKES_DIR = os.path.join(ROOT, "tests", "fakes")
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
SANITIZED = "ASAN_OPTIONS" in os.environ
# The sanitized build runs several times slower: wait_for allows it this many times as long.
SLOWER = 4 if SANITIZED else 1
# What a sanitizer writes when it finds something (on stderr, unless log_path sends it to a file).
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def sanitizer_report(pid, log_path=None):
    """What the sanitizers reported about process pid: the file log_path=PREFIX in ASAN_OPTIONS
    named them to (PREFIX.pid), and the lines of its own log that carry a sanitizer's marker."""
    found = []
    prefix = re.search(r"(?:^|:)log_path=([^:]+)", os.environ.get("ASAN_OPTIONS", ""))
    if prefix and os.path.exists(f"{prefix.group(1)}.{pid}"):
        with open(f"{prefix.group(1)}.{pid}", errors="replace") as f:
            found.append(f.read())
    if log_path and os.path.exists(log_path):
        with open(log_path, errors="replace") as f:
            found += [line for line in f if any(m in line for m in SANITIZER_MARKERS)]
    return "".join(found)


# Every chatd and fake_upstream started, as (name, process, log path): checked for sanitizer
# reports at the end of each test (ChatdTestCase) and of the whole file (main).
started = []


def sanitizer_findings(processes):
    """The sanitizer reports about those of processes that have exited, one text."""
    return "".join(f"--- {name} (pid {proc.pid}) ---\n{report}\n" for name, proc, log in processes
                   if proc.poll() is not None and (report := sanitizer_report(proc.pid, log)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout=10.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout * SLOWER
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


class FakeUpstream:
    def __init__(self, workdir, *args):
        self.port_file = os.path.join(workdir, "fake.port")
        self.log = open(os.path.join(workdir, "fake.log"), "wb")
        self.proc = subprocess.Popen([FAKE, "--listen", "127.0.0.1:0", "--port-file", self.port_file, *args],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        started.append(("fake_upstream", self.proc, self.log.name))
        self.port = int(wait_for(self.read_port, what="fake_upstream port"))
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def read_port(self):
        if not os.path.exists(self.port_file):
            return None
        with open(self.port_file) as f:
            return f.read().strip()

    def get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body

    def stats(self):
        return json.loads(self.get("/_fake/stats")[1])

    def requests_for(self, key):
        return self.stats()["requests"].get(key, 0)

    def last_body(self, key):
        status, body = self.get("/_fake/last?key=" + urllib.parse.quote(key, safe=""))
        return json.loads(body) if status == 200 else None

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


class FakeWeChat:
    """The fake WeChat Official Account platform and its phone simulator (tests/fakes/README.md)."""

    def __init__(self, workdir, *args):
        self.port_file = os.path.join(workdir, "wechat.port")
        self.log = open(os.path.join(workdir, "wechat.log"), "wb")
        self.proc = subprocess.Popen([sys.executable, FAKE_WECHAT, "--listen", "127.0.0.1:0",
                                      "--port-file", self.port_file, *args],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.port = int(wait_for(self.read_port, what="fake_wechat port"))
        self.api_base = f"http://127.0.0.1:{self.port}"

    def read_port(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"fake_wechat exited with {self.proc.returncode}")
        if not os.path.exists(self.port_file):
            return None
        with open(self.port_file) as f:
            return f.read().strip()

    def request(self, method, path, obj=None):
        """Returns (status, parsed JSON body)."""
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        body = None if obj is None else json.dumps(obj).encode()
        c.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, json.loads(data)

    def get(self, path):
        return self.request("GET", path)[1]

    def post(self, path, obj=None):
        return self.request("POST", path, {} if obj is None else obj)[1]

    def stats(self):
        return self.get("/_fake/stats")

    def qrcodes(self):
        return self.get("/_fake/qrcodes")

    def pushes(self):
        return self.get("/_fake/pushes")

    def configure(self, **settings):
        return self.post("/_fake/config", settings)

    def scan(self, **fields):
        return self.post("/_fake/scan", fields)

    def follow(self, **fields):
        return self.post("/_fake/follow", fields)

    def text(self, **fields):
        return self.post("/_fake/text", fields)

    def push(self, **fields):
        return self.post("/_fake/push", fields)

    def fail(self, api, errcode, count=1):
        return self.post("/_fake/fail", {"api": api, "errcode": errcode, "count": count})

    def rotate(self):
        return self.post("/_fake/rotate")

    def verify_url(self, sign="good"):
        return self.post("/_fake/verify_url", {"sign": sign})

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


class FakeChannel:
    """A payment channel's fake (fake_epay, fake_wechatpay, fake_alipay) with quick retries."""

    def __init__(self, workdir, script, *args):
        self.port_file = os.path.join(workdir, script + ".port")
        self.log = open(os.path.join(workdir, script + ".log"), "wb")
        self.proc = subprocess.Popen([sys.executable, os.path.join(FAKES_DIR, script + ".py"), "--listen", "127.0.0.1:0",
                                      "--port-file", self.port_file, "--retry-delays", "0.3,0.6,1", *args],
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        self.port = int(wait_for(self.read_port, what=script + " port"))
        self.base = f"http://127.0.0.1:{self.port}"

    def read_port(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"fake exited with {self.proc.returncode}")
        if not os.path.exists(self.port_file):
            return None
        with open(self.port_file) as f:
            return f.read().strip()

    def call(self, method, path, obj=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        c.request(method, path, body=None if obj is None else json.dumps(obj).encode(),
                  headers={"Content-Type": "application/json"} if obj is not None else {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, json.loads(data) if data else None

    def pay(self, order_no, notify=True):
        status, body = self.call("POST", "/_fake/pay", {"out_trade_no": order_no, "notify": notify})
        assert status == 200, body
        return body

    def notify(self, order_no, **opts):
        status, body = self.call("POST", "/_fake/notify", dict(opts, out_trade_no=order_no))
        assert status == 200, body
        return body["notifications"]

    def order(self, order_no):
        status, body = self.call("GET", "/_fake/orders")
        orders = body["orders"] if isinstance(body, dict) else body
        return [o for o in orders if o["out_trade_no"] == order_no][0]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


class RpcError(Exception):
    def __init__(self, error):
        super().__init__(error.get("message"))
        self.error = error
        self.code = error.get("code")
        self.reason = (error.get("data") or {}).get("reason")


class Client:
    """A browser-like client: keeps the session cookie, sends Origin."""

    def __init__(self, daemon):
        self.d = daemon
        self.cookie = None  # the session
        self.login_cookie = None  # ties a WeChat QR login to this browser

    def http(self, method, path, body=None, headers=None, origin=True):
        h = dict(headers or {})
        if origin:
            h.setdefault("Origin", self.d.origin)
        cookies = "; ".join(c for c in (self.cookie, self.login_cookie) if c)
        if cookies:
            h.setdefault("Cookie", cookies)
        if body is not None and not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        c = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=30)
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie" and v.startswith("chatd_session="):
                token = v.split(";", 1)[0]
                self.cookie = None if token == "chatd_session=" else token
            if k.lower() == "set-cookie" and v.startswith("chatd_wxlogin="):
                self.login_cookie = v.split(";", 1)[0]
        c.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

    def rpc(self, method, params=None):
        req = {"jsonrpc": "2.0", "id": 1, "method": method}
        if params is not None:
            req["params"] = params
        status, _, data = self.http("POST", "/rpc", req)
        assert status == 200, (status, data)
        reply = json.loads(data)
        if "error" in reply:
            raise RpcError(reply["error"])
        return reply["result"]

    def register(self, username, password="correct horse battery"):
        return self.rpc("auth.password.register", {"username": username, "password": password})["user"]

    def open_stream(self, message_id, after=None, query=""):
        h = {}
        if self.cookie:
            h["Cookie"] = self.cookie
        if after is not None:
            h["Last-Event-ID"] = str(after)
        c = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=60)
        c.request("GET", f"/api/stream/{message_id}{query}", headers=h)
        return c, c.getresponse()

    def stream(self, message_id, after=None, stop_after_deltas=None, query=""):
        """Reads SSE events until the stream ends; returns [(event, id, data)]."""
        c, r = self.open_stream(message_id, after, query)
        if r.status != 200:
            body = r.read()
            c.close()
            return r.status, body
        events = read_events(r, stop_after_deltas)
        c.close()
        return events

    def ask(self, content, **params):
        params["content"] = content
        return self.rpc("chat.send", params)

    def answer(self, content, **params):
        """Sends a question and reads its whole answer: (send result, text, final event)."""
        sent = self.ask(content, **params)
        events = self.stream(sent["message_id"])
        text = "".join(json.loads(d)["text"] for e, _, d in events if e == "delta")
        return sent, text, events[-1]


def read_events(response, stop_after_deltas=None, stop_after_events=None):
    """[(event, id, data)] until the stream ends, or after that many deltas or events (comments too)."""
    events, event, eid, data, deltas = [], None, None, [], 0
    while True:
        line = response.readline()
        if not line:
            break
        line = line.decode().rstrip("\r\n")
        if line == "":
            if data:
                events.append((event or "message", eid, "\n".join(data)))
                if event == "delta":
                    deltas += 1
                if event in ("done", "error"):
                    break
                if stop_after_deltas is not None and deltas >= stop_after_deltas:
                    break
                if stop_after_events is not None and len(events) >= stop_after_events:
                    break
            event, data = None, []
            continue
        if line.startswith(":"):
            events.append(("comment", None, line))
            if stop_after_events is not None and len(events) >= stop_after_events:
                break
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            event = value
        elif field == "id":
            eid = int(value)
        elif field == "data":
            data.append(value)
    return events


class Chatd:
    def __init__(self, workdir, extra_conf="", args=(), public_url=False, postgres_url=None, files_limit=None):
        """public_url: the config names the listener's own origin (payment channels notify it).
        postgres_url: share this PostgreSQL database (another instance's) instead of a new one.
        files_limit: chatd's RLIMIT_NOFILE, soft and hard (default: this process's)."""
        self.workdir = workdir
        self.files_limit = files_limit
        self.public_url = public_url
        self.data_dir = os.path.join(workdir, "var")
        self.socket = os.path.join(workdir, "admin.sock")
        self.conf = os.path.join(workdir, "chatd.conf")
        self.extra_conf = extra_conf
        self.args = list(args)
        self.postgres_url = postgres_url or ""
        self.log_from = 0  # where the log of the last start begins
        if POSTGRES and not postgres_url:
            from pg_database import create_database
            self.postgres_url = create_database(POSTGRES, "chatd_it_" + os.urandom(6).hex())
        self.pick_port()
        self.proc = None
        self.started_once = False
        self.log_path = os.path.join(workdir, "chatd.log")

    def pick_port(self):
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        with open(self.conf, "w") as f:
            if self.public_url:
                f.write(f"public_url = {self.origin}\n")
            f.write(f"listen = 127.0.0.1:{self.port}\nadmin_socket = {self.socket}\n"
                    f"data_dir = {self.data_dir}\nwebui_dir = {os.path.join(self.workdir, 'webui')}\n"
                    "log_level = debug\ndrain_timeout = 10\n"
                    + (f"[store]\nbackend = postgres\npostgres_url = {self.postgres_url}\npostgres_pool = 4\n"
                       if self.postgres_url else "")
                    + "[auth]\npassword = on\n"
                    "[limits]\nsignups_per_hour = 1000\nquestions_per_minute = 1000\n" + self.extra_conf)

    def start(self):
        for attempt in range(5):
            self.log = open(self.log_path, "ab")
            logged = self.log_from = self.log.tell()
            limit = self.files_limit
            self.proc = subprocess.Popen([CHATD, "--config", self.conf, *self.args], stdout=self.log,
                                         stderr=subprocess.STDOUT,
                                         preexec_fn=(lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
                                         if limit else None)
            started.append(("chatd", self.proc, self.log_path))
            try:
                wait_for(self.healthy, what="chatd /healthz")
                break
            except AssertionError:
                # The free port may have gone to another test's client socket meanwhile; before
                # the first start nothing depends on the port yet, so another one will do.
                with open(self.log_path, "rb") as f:
                    port_taken = b"Address already in use" in f.read()[logged:]
                if self.started_once or attempt == 4 or not port_taken:
                    self.end()  # not left running when the test that started it fails
                    raise
                self.log.close()
                self.pick_port()
        self.started_once = True
        return self

    def healthy(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"chatd exited with {self.proc.returncode}:\n{self.log_text()}")
        # The port is checked free before chatd starts, but another test's process may take it
        # first: the answer must come from this chatd, which has said it listens (on both).
        with open(self.log_path, "rb") as f:
            f.seek(self.log_from)
            if b" listening on " not in f.read():
                return False
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
            c.request("GET", "/healthz")
            ok = c.getresponse().status == 200
            c.close()
            return ok
        except OSError:
            return False

    def log_text(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout)
        if self.proc:
            self.log.close()
        return self.proc.returncode if self.proc else None

    def end(self):
        """Stops chatd at a test's end: SIGKILL, or under the sanitizers SIGTERM (SIGKILL after
        30 s), since LeakSanitizer only looks at a process that exits."""
        if self.proc and self.proc.poll() is None:
            try:
                self.stop(signal.SIGTERM if SANITIZED else signal.SIGKILL)
            except subprocess.TimeoutExpired:
                self.stop(signal.SIGKILL)

    def ctl(self, *args, input=None, check=True):
        r = subprocess.run([CHATCTL, "-s", self.socket, *args], input=input, capture_output=True,
                           text=True, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError(f"chatctl {args} exited {r.returncode}: {r.stderr}")
        return r

    def ctl_json(self, *args, input=None):
        return json.loads(self.ctl("--json", *args, input=input).stdout)

    def add_key(self, key, base_url, *extra):
        return self.ctl_json("keys", "add", "--base-url", base_url, *extra, "-", input=key + "\n")["ids"][0]

    def client(self):
        return Client(self)


class ChatdTestCase(unittest.TestCase):
    """Each test gets a fresh work dir, fake upstream and chatd."""

    extra_conf = ""  # appended to the config file, after its [limits] section
    chatd_args = ()  # command-line options (top-level keys go here)
    files_limit = None  # chatd's descriptor limit (RLIMIT_NOFILE)
    fake_args = ()

    def run(self, result=None):
        # Here rather than in setUp, which some tests replace: what this test starts is checked.
        self.first_started = len(started)
        return super().run(result)

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="chatd-it-")
        self.fake = FakeUpstream(self.workdir, *self.fake_args)
        try:
            self.chatd = Chatd(self.workdir, self.extra_conf, self.chatd_args, files_limit=self.files_limit).start()
        except BaseException:
            self.fake.stop()  # tearDown does not run when setUp fails
            raise

    def tearDown(self):
        try:
            self.chatd.end()
        finally:
            self.fake.stop()
        findings = sanitizer_findings(started[self.first_started:])
        failed = any(e for _, e in getattr(self._outcome, "errors", []) if e) if hasattr(self._outcome, "errors") else False
        if failed or findings or os.environ.get("KEEP_WORKDIR"):
            print(f"\nwork dir kept: {self.workdir}\n--- chatd log tail ---\n{self.chatd.log_text()[-4000:]}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)
        if findings:
            raise AssertionError(f"sanitizer reports:\n{findings}")

    def key(self, behaviour="ok", **opts):
        """A fake key string with a unique prefix."""
        self._keyn = getattr(self, "_keyn", 0) + 1
        parts = [f"sk-test{self._keyn:04d}", behaviour] + [f"{k}={v}" for k, v in opts.items()]
        return ":".join(parts)

    def add_key(self, behaviour="ok", **opts):
        k = self.key(behaviour, **opts)
        return k, self.chatd.add_key(k, self.fake.base_url)

    def db(self):
        """The chatd's database: its SQLite file, or its PostgreSQL database (through the same
        sqlite3-like calls: execute with ? parameters, fetchone, fetchall, commit)."""
        if self.chatd.postgres_url:
            from pg_database import Connection
            return Connection(self.chatd.postgres_url)
        import sqlite3
        return sqlite3.connect(os.path.join(self.chatd.data_dir, "chatd.db"))


def main():
    """Runs the file's tests; fails when any of them failed or when a process they started wrote
    a sanitizer report (also those a test of its own stops, e.g. in tearDownClass)."""
    result = unittest.main(verbosity=2, exit=False).result
    findings = sanitizer_findings(started)
    if findings:
        print(f"\nsanitizer reports:\n{findings}", file=sys.stderr)
    sys.exit(0 if result.wasSuccessful() and not findings else 1)
