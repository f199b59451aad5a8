"""Command-line manners of chatd and chatctl: help wrapped between words at the terminal's width,
local times (--json keeps Unix seconds), the operator's language, `keys test` changing a failing
key's status and exit status, the default model checked, and --check-config naming each line."""
import datetime
import http.server
import json
import os
import socketserver
import subprocess
import tempfile
import threading
import unittest

from harness import CHATCTL, CHATD, ChatdTestCase, main, wait_for

# Unwrapped text: wider than any line of help.
UNWRAPPED = 100000


def run(program, *args, env=None, socket_path="/nonexistent/admin.sock"):
    environment = dict(os.environ, CHATD_SOCKET=socket_path)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "COLUMNS", "TZ"):
        environment.pop(name, None)
    environment.update(env or {})
    return subprocess.run([program, *args], capture_output=True, text=True, env=environment, timeout=60,
                          stdin=subprocess.DEVNULL)


def ctl_as(chatd, env, *args):
    return run(CHATCTL, "-s", chatd.socket, *args, env=env)


class HelpWrapping(unittest.TestCase):
    HELPS = [(CHATCTL, "--help"), (CHATCTL, "help", "models", "set"), (CHATCTL, "help", "keys", "test"),
             (CHATCTL, "help", "keys"), (CHATCTL, "help", "cards", "list"), (CHATD, "--help")]

    def test_lines_fit_and_no_word_is_split(self):
        for command in self.HELPS:
            unwrapped = run(*command, env={"COLUMNS": str(UNWRAPPED)})
            self.assertEqual(unwrapped.returncode, 0, unwrapped.stderr)
            for width in (60, 100):
                with self.subTest(command=command[1:], width=width):
                    wrapped = run(*command, env={"COLUMNS": str(width)})
                    self.assertEqual(wrapped.returncode, 0, wrapped.stderr)
                    too_long = [line for line in wrapped.stdout.splitlines() if len(line) > width]
                    self.assertEqual(too_long, [])
                    # The same words in the same order: wrapping only moved line breaks.
                    self.assertEqual(wrapped.stdout.split(), unwrapped.stdout.split())
                    self.assertNotEqual(wrapped.stdout, unwrapped.stdout)

    def test_the_summary_is_a_whole_sentence_and_continuations_hang(self):
        out = run(CHATCTL, "--help", env={"COLUMNS": "60"}).stdout
        lines = out.splitlines()
        start = lines.index("  keys balance [ID]")
        summary = " ".join(line.strip() for line in lines[start + 1:start + 3])
        self.assertEqual(summary, "Ask the providers for the balance of every key, or of one.")
        self.assertTrue(lines[start + 2].startswith("      "), lines[start + 2])
        # A synopsis goes on under the command's first argument.
        start = lines.index(next(line for line in lines if line.startswith("  models set ID")))
        self.assertTrue(lines[start + 1].startswith(" " * len("  models set ")), lines[start + 1])

    def test_default_width_is_80_and_never_below_40(self):
        for env, width in (({}, 80), ({"COLUMNS": "20"}, 40)):
            out = run(CHATCTL, "--help", env=env).stdout
            self.assertLessEqual(max(len(line) for line in out.splitlines()), width)
            self.assertGreater(max(len(line) for line in out.splitlines()), width - 10)


class ChatdCheckConfig(unittest.TestCase):
    def check(self, text, *args):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "bad.conf")
            with open(path, "w") as f:
                f.write(text)
            r = run(CHATD, "--config", path, "--check-config", *args)
            return r.returncode, r.stderr.replace(path, "bad.conf")

    def test_every_error_names_its_line(self):
        cases = [
            ("listen = 127.0.0.1:8080\n[upstream\nmax_attempts = 2\n", "bad.conf:2:", "'[upstream'"),
            ("# a comment\n[upstream]\nmax_attempts = 2\n\nmax_attempts = 3\n", "bad.conf:5:", "first on line 3"),
            ("listen = 127.0.0.1:8080\n\nno_such_key = 1\n", "bad.conf:3:", "unknown key 'no_such_key'"),
            ("[upstream]\nproxy =\n# x\nmax_attempts = lots\n", "bad.conf:4:", "upstream.max_attempts"),
            ("threads = 2\n\n[upstream]\nmax_attempts = 99\n", "bad.conf:4:", "expected 1..20"),
            ("listen = 127.0.0.1:8080\njust some words\n", "bad.conf:2:", "'just some words'"),
            ("[wechat]\nmode = sometimes\n", "bad.conf:2:", "wechat.mode"),
        ]
        for text, line, detail in cases:
            with self.subTest(text=text):
                status, message = self.check(text)
                self.assertEqual(status, 2, message)
                self.assertTrue(message.startswith("chatd: " + line), message)
                self.assertIn(detail, message)

    def test_a_bad_value_on_the_command_line_is_named_as_the_option(self):
        status, message = self.check("[upstream]\nmax_attempts = 2\n", "--upstream.max-attempts", "0")
        self.assertEqual(status, 2)
        self.assertIn("option --upstream.max_attempts", message)
        self.assertNotIn("bad.conf:", message)

    def test_a_value_that_looks_like_a_placeholder_is_reported_not_hung(self):
        # Boost fills %value% and the like into its messages until none is left.
        status, message = self.check("[upstream]\nidle_timeout = 6%value%\n")
        self.assertEqual(status, 2, message)
        self.assertTrue(message.startswith("chatd: bad.conf:2:"), message)
        self.assertIn("('6%value%')", message)
        status, message = self.check("", "--drain_timeout", "%value%", "--%canonical_option%", "x")
        self.assertEqual(status, 2, message)
        self.assertIn("command line:", message)
        r = run(CHATCTL, "--timeout", "%original_token%", "status")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("('%original_token%') for option '--timeout' is invalid", r.stderr)

    def test_a_valid_file_passes(self):
        status, message = self.check("listen = 127.0.0.1:8080 # the port\n[upstream]\nmax_attempts = 2\n")
        self.assertEqual(status, 0, message)


class FakeAdminSocket:
    """An admin socket that answers every call with one JSON-RPC error, as the daemon words them."""

    def __init__(self, directory, error):
        self.path = os.path.join(directory, "fake.sock")
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "error": error}).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
            daemon_threads = True

            def get_request(self):
                request, _ = super().get_request()
                return request, ("local", 0)

        self.server = Server(self.path, Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


ENGLISH = {"LANG": "en_US.UTF-8"}
CHINESE = {"LANG": "zh_CN.UTF-8"}


class Language(unittest.TestCase):
    def test_daemon_messages_in_the_operators_language(self):
        with tempfile.TemporaryDirectory() as directory:
            fake = FakeAdminSocket(directory, {"code": -32001, "message": "请先登录 (please log in)",
                                               "data": {"reason": "unauthorized"}})
            try:
                english = run(CHATCTL, "-s", fake.path, "status", env=ENGLISH)
                chinese = run(CHATCTL, "-s", fake.path, "status", env=CHINESE)
                # LC_ALL comes first, then LC_MESSAGES, then LANG.
                overridden = run(CHATCTL, "-s", fake.path, "status",
                                 env={"LC_ALL": "en_GB.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8", **CHINESE})
                by_messages = run(CHATCTL, "-s", fake.path, "status", env={"LC_MESSAGES": "zh_TW", **ENGLISH})
            finally:
                fake.stop()
        self.assertEqual(english.returncode, 1)
        self.assertEqual(english.stderr, "chatctl: please log in (unauthorized)\n")
        self.assertEqual(chinese.stderr, "chatctl: 请先登录 (unauthorized)\n")
        self.assertEqual(overridden.stderr, english.stderr)
        self.assertEqual(by_messages.stderr, chinese.stderr)

    def test_chatctls_own_messages(self):
        english = run(CHATCTL, "status", env=ENGLISH)
        chinese = run(CHATCTL, "status", env=CHINESE)
        self.assertEqual(english.returncode, 3)
        self.assertIn("cannot connect to /nonexistent/admin.sock: no such socket (is chatd running?)",
                      english.stderr)
        self.assertIn("无法连接 /nonexistent/admin.sock", chinese.stderr)
        self.assertIn("chatd 在运行吗", chinese.stderr)
        self.assertNotRegex(english.stderr, "[\u4e00-\u9fff]")
        for env, text in ((ENGLISH, "unknown command 'frob'"), (CHINESE, "未知命令 'frob'")):
            r = run(CHATCTL, "frob", env=env)
            self.assertEqual(r.returncode, 2)
            self.assertIn(text, r.stderr)
        r = run(CHATCTL, "keys", "rm", "x", env=CHINESE)
        self.assertIn("ID 必须是正整数", r.stderr)


class WithDaemon(ChatdTestCase):
    def keys(self):
        return {k["id"]: k for k in self.chatd.ctl_json("keys", "list")["items"]}

    def table(self, out):
        """[{header: cell}] of a printed table: cells are split on runs of two or more spaces."""
        import re
        lines = [line for line in out.splitlines() if line.strip()]
        header = re.split(r"\s{2,}", lines[0].strip())
        return header, [re.split(r"\s{2,}", line.strip()) for line in lines[1:]]

    def test_headers_and_confirmations_in_the_operators_language(self):
        english = ctl_as(self.chatd, ENGLISH, "keys", "list")
        chinese = ctl_as(self.chatd, CHINESE, "keys", "list")
        self.assertTrue(english.stdout.startswith("ID  KEY  STATUS"), english.stdout)
        self.assertTrue(chinese.stdout.startswith("编号  密钥  状态"), chinese.stdout)
        _, kid = self.add_key("ok")
        self.assertEqual(ctl_as(self.chatd, ENGLISH, "keys", "disable", str(kid)).stdout, f"disabled key {kid}\n")
        self.assertEqual(ctl_as(self.chatd, CHINESE, "keys", "enable", str(kid)).stdout, f"已启用密钥 {kid}\n")
        # --json is for programs: the same in every language.
        self.assertEqual(ctl_as(self.chatd, ENGLISH, "--json", "keys", "list").stdout,
                         ctl_as(self.chatd, CHINESE, "--json", "keys", "list").stdout)

    def test_times_are_local_and_json_keeps_seconds(self):
        self.chatd.client().register("timely")
        shanghai = ctl_as(self.chatd, {"TZ": "Asia/Shanghai", **ENGLISH}, "users", "list")
        utc = ctl_as(self.chatd, {"TZ": "UTC", **ENGLISH}, "users", "list")
        header, rows = self.table(shanghai.stdout)
        created = header.index("CREATED")
        at_shanghai = datetime.datetime.strptime(rows[0][created], "%Y-%m-%d %H:%M:%S")
        at_utc = datetime.datetime.strptime(self.table(utc.stdout)[1][0][created], "%Y-%m-%d %H:%M:%S")
        self.assertEqual(at_shanghai - at_utc, datetime.timedelta(hours=8))
        raw = [ctl_as(self.chatd, {"TZ": tz}, "--json", "users", "list").stdout for tz in ("Asia/Shanghai", "UTC")]
        self.assertEqual(raw[0], raw[1])
        seconds = json.loads(raw[0])["items"][0]["created_at"]
        self.assertIsInstance(seconds, int)
        self.assertEqual(datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).replace(tzinfo=None),
                         at_utc)
        # `users show` and the ledger too.
        uid = json.loads(raw[0])["items"][0]["id"]
        show = ctl_as(self.chatd, {"TZ": "UTC"}, "users", "show", str(uid)).stdout
        self.assertIn("created_at: " + at_utc.strftime("%Y-%m-%d %H:%M:%S"), show)

    def test_keys_test_marks_a_refused_key_and_exits_1(self):
        _, refused = self.add_key("invalid")
        _, empty = self.add_key("quota")
        _, healthy = self.add_key("ok")
        r = self.chatd.ctl("keys", "test", str(refused), check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("1 of the tested keys failed", r.stderr)
        self.assertRegex(r.stdout, rf"\n\s*{refused}\s+fails\s+invalid\s+HTTP 401")
        self.assertEqual(self.keys()[empty]["status"], "active")
        r = self.chatd.ctl("--json", "keys", "test", str(empty), check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        item = json.loads(r.stdout)["items"][0]
        self.assertEqual((item["ok"], item["status"]), (False, "invalid"))
        keys = self.keys()
        self.assertEqual((keys[refused]["status"], keys[empty]["status"], keys[healthy]["status"]),
                         ("invalid", "invalid", "active"))
        # The change is written to the database with the pool's next save, within seconds.
        history = wait_for(lambda: self.chatd.ctl_json("keys", "history", str(refused))["items"],
                           what="the eviction in the key's history")
        self.assertEqual(history[0]["status"], "invalid")

        r = self.chatd.ctl("keys", "test", str(healthy), check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        # Evictions outlive a restart.
        self.chatd.stop()
        self.chatd.start()
        keys = self.keys()
        self.assertEqual((keys[refused]["status"], keys[empty]["status"], keys[healthy]["status"]),
                         ("invalid", "invalid", "active"))

    def test_a_passing_failure_does_not_evict(self):
        _, broken = self.add_key("error", status=503)
        _, limited = self.add_key("ratelimit")
        for kid in (broken, limited):
            with self.subTest(key=kid):
                r = self.chatd.ctl("--json", "keys", "test", str(kid), check=False)
                self.assertEqual(r.returncode, 1, r.stderr)
                item = json.loads(r.stdout)["items"][0]
                self.assertEqual((item["ok"], item["status"]), (False, "active"))
                self.assertEqual(self.keys()[kid]["status"], "active")

    def test_default_model_must_be_an_enabled_model(self):
        models = [m["id"] for m in self.chatd.ctl_json("models", "list")["items"] if m["enabled"]]
        self.assertTrue(models)
        r = self.chatd.ctl("settings", "set", "chat.default_model", "no-such-model", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no-such-model", r.stderr)
        self.assertIn("(invalid_params)", r.stderr)
        for model in models:
            self.assertIn(model, r.stderr)
        self.chatd.ctl("models", "set", "resting", "--disable")
        r = self.chatd.ctl("settings", "set", "chat.default_model", "resting", check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("'resting' is disabled", r.stderr)
        # The daemon refuses it, so the web console gets the same answer.
        r = self.chatd.ctl("call", "admin.settings.set", '{"key":"chat.default_model","value":"gone"}', check=False)
        self.assertIn("(invalid_params)", r.stderr)
        self.assertEqual(self.chatd.ctl("settings", "get", "chat.default_model").stdout, "\n")
        self.chatd.ctl("settings", "set", "chat.default_model", models[0])
        self.assertEqual(self.chatd.ctl("settings", "get", "chat.default_model").stdout, models[0] + "\n")
        self.chatd.ctl("settings", "set", "chat.default_model", "")
        self.assertEqual(self.chatd.ctl("settings", "get", "chat.default_model").stdout, "\n")


if __name__ == "__main__":
    main()
