"""chatctl reaches every admin method. The command → method map (`chatctl help --methods`)
covers every admin method the daemon lists; the man page documents each of those commands
and the method it calls; and one real invocation per method runs against a live chatd
through a proxy socket that records which method went over the wire. Also: exit statuses,
`logs show`, and the bash completion script run in a real bash."""
import http.client
import http.server
import json
import os
import shlex
import socket
import socketserver
import subprocess
import tempfile
import threading
import time
import unittest

from harness import CHATCTL, ROOT, ChatdTestCase, main
from test_manpages import documented_command, line_text, sections

MAN_PAGE = os.path.join(ROOT, "man", "chatctl.8")


def chatctl(*args, input=None):
    return subprocess.run([CHATCTL, *args], input=input, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, CHATD_SOCKET="/nonexistent/sock"))


def command_methods():
    """[(command, method)] as chatctl reports them."""
    listing = chatctl("help", "--methods")
    assert listing.returncode == 0, listing.stderr
    return [tuple(line.split("\t")) for line in listing.stdout.splitlines()]


def command_names():
    listing = chatctl("help", "--list")
    assert listing.returncode == 0, listing.stderr
    return listing.stdout.split("\n")[:-1]


def man_entries(commands):
    """{command: its entry under COMMANDS in chatctl.8, as plain text}."""
    with open(MAN_PAGE, encoding="utf-8") as page:
        lines = sections(page.read().splitlines(), ".SH")["COMMANDS"]
    entries, tag, body, depth, want_tag = {}, None, [], 0, False
    for line in lines + [".TP"]:
        # Option lists nested in .RS/.RE have .TP entries of their own.
        depth += line.startswith(".RS") - line.startswith(".RE")
        if depth == 0 and line.startswith(".TP"):
            if tag is not None:
                entries[documented_command(tag, commands)] = " ".join(filter(None, body))
            tag, body, want_tag = None, [], True
        elif want_tag and not line.startswith('.\\"'):
            tag, want_tag = line_text(line), False
        elif tag is not None:
            body.append(line_text(line))
    return entries


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.socket_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.socket_path)


class RecordingProxy:
    """An admin socket in front of chatd's that records the method of every request."""

    def __init__(self, path, daemon_socket):
        self.path = path
        self.methods = []
        recorded = self.methods

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                recorded.append(json.loads(body)["method"])
                daemon = UnixHTTPConnection(daemon_socket)
                daemon.request("POST", self.path, body, {"Content-Type": "application/json"})
                reply = daemon.getresponse()
                data = reply.read()
                daemon.close()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = socketserver.ThreadingUnixStreamServer(path, Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class ParityTest(ChatdTestCase):
    def setUp(self):
        super().setUp()
        self.proxy = RecordingProxy(os.path.join(self.workdir, "proxy.sock"), self.chatd.socket)
        self.addCleanup(self.proxy.stop)
        self.method_of = dict(command_methods())
        self.ran = set()

    def via_proxy(self, *args, input=None):
        self.proxy.methods.clear()
        return subprocess.run([CHATCTL, "-s", self.proxy.path, *args], input=input,
                              capture_output=True, text=True, timeout=60)

    def command_of(self, args):
        words = " ".join(a for a in args if not a.startswith("-"))
        return documented_command(words, list(self.method_of))

    def run_json(self, *args, input=None):
        """Runs `chatctl --json ARGS`; checks it called the method the map gives, once."""
        command = self.command_of(args)
        self.assertIn(command, self.method_of, f"no map entry for {args}")
        result = self.via_proxy("--json", *args, input=input)
        self.assertEqual(result.returncode, 0, f"chatctl {args}: {result.stderr}")
        self.assertEqual(self.proxy.methods, [self.method_of[command]], f"chatctl {args}")
        self.ran.add(self.method_of[command])
        return json.loads(result.stdout)

    def read(self, *args):
        """A read-only command: its --json result, after checking its human output too."""
        human = self.via_proxy(*args)
        self.assertEqual(human.returncode, 0, f"chatctl {args}: {human.stderr}")
        self.assertNotEqual(human.stdout.strip(), "", f"chatctl {args} printed nothing")
        return self.run_json(*args)

    def test_provider_names_complete_from_the_daemon(self):
        script = os.path.join(self.workdir, "completion.bash")
        with open(script, "w") as f:
            f.write(subprocess.run([CHATCTL, "completion", "bash"], capture_output=True, text=True,
                                   check=True).stdout)
        words = ["keys", "add", "--provider", "d"]
        out = subprocess.run(["bash", "--norc", "--noprofile", "-c",
                              f"source {shlex.quote(script)}\n"
                              f"COMP_WORDS=({shlex.quote(CHATCTL)} -s {shlex.quote(self.chatd.socket)} "
                              f"{' '.join(words)})\nCOMP_CWORD={len(words) + 2}\n_chatctl\n"
                              "printf '%s\\n' \"${COMPREPLY[@]}\""],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.stdout.split(), ["deepseek"], out.stderr)

    def test_map_covers_every_admin_method_and_the_man_page_documents_it(self):
        served = self.read("methods")["methods"]
        admin_methods = [m for m in served if m.startswith("admin.")]
        self.assertIn("admin.conversations.get", admin_methods)
        mapped = set(self.method_of.values())
        self.assertEqual([m for m in admin_methods if m not in mapped], [],
                         "admin methods that no chatctl command calls")
        self.assertEqual([c for c, m in self.method_of.items() if m not in served], [],
                         "chatctl commands that call a method the daemon does not serve")

        entries = man_entries(command_names())
        for command, method in self.method_of.items():
            with self.subTest(command=command):
                self.assertIn(command, entries, f"'{command}' has no entry in chatctl.8")
                self.assertIn(f"Calls {method}.", entries[command])

    def test_one_real_invocation_per_admin_method(self):
        self.read("status")
        served = self.read("methods")["methods"]

        key = self.key("ok")
        key_id = self.run_json("keys", "add", "--base-url", self.fake.base_url, "--note", "parity",
                               "-", input=key + "\n")["ids"][0]
        self.assertIn(key_id, [k["id"] for k in self.read("keys", "list")["items"]])
        self.assertTrue(self.read("keys", "test", str(key_id))["items"][0]["ok"])
        self.read("keys", "balance", str(key_id))
        providers = [p["id"] for p in self.read("keys", "providers")["items"]]
        self.assertEqual(providers[0], "openai")
        self.assertIn("deepseek", providers)
        self.run_json("keys", "history", str(key_id))
        self.run_json("keys", "disable", str(key_id))
        self.run_json("keys", "enable", str(key_id))

        model = self.run_json("models", "set", "parity-model", "--upstream-model", "gpt-4o-mini",
                              "--cost", "2")
        self.assertEqual(model["cost"], 2)
        self.assertIn("parity-model", [m["id"] for m in self.read("models", "list")["items"]])
        self.run_json("models", "rm", "parity-model")

        role_id = self.run_json("roles", "set", "--name", "Parity", "--prompt", "Be brief.")["id"]
        self.run_json("roles", "set", "--id", str(role_id), "--disable")
        self.run_json("roles", "list")
        self.run_json("roles", "rm", str(role_id))

        preset_id = self.run_json("presets", "add", "Parity question?", "5")["id"]
        self.assertIn(preset_id, [p["id"] for p in self.read("presets", "list")["items"]])
        self.run_json("presets", "rm", str(preset_id))

        plan_id = self.run_json("plans", "set", "--name", "Month", "--price", "19.9", "--questions", "100",
                                "--days", "30")["id"]
        self.assertEqual(self.run_json("plans", "set", str(plan_id), "--disable")["enabled"], False)
        plan = [p for p in self.read("plans", "list")["items"] if p["id"] == plan_id][0]
        self.assertEqual((plan["price_cents"], plan["questions"], plan["days"]), (1990, 100, 30))
        self.run_json("plans", "rm", str(plan_id))
        # An order as a channel would have left it (no channel is configured here).
        buyer = self.chatd.client().register("order-buyer")["id"]
        with self.db() as db:
            now = int(time.time())
            db.execute("INSERT INTO orders (order_no, user_id, plan_name, questions, days, amount_cents, channel, "
                       "created_at, expires_at) VALUES ('20261205PARITY', ?, 'Month', 100, 30, 1990, 'epay_alipay', "
                       "?, ?)", (buyer, now, now + 900))
        self.assertEqual([o["order_no"] for o in self.read("orders", "list", "--status", "pending")["items"]],
                         ["20261205PARITY"])
        self.assertEqual(self.read("orders", "show", "20261205PARITY")["amount_cents"], 1990)
        self.assertEqual(self.run_json("orders", "sync", "20261205PARITY")["status"], "pending")

        generated = self.run_json("cards", "generate", "--count", "2", "--questions", "5", "--days",
                                  "7", "--batch", "parity-batch")
        self.assertEqual(len(generated["cards"]), 2)
        self.assertEqual(len(self.read("cards", "list", "--batch", "parity-batch")["items"]), 2)
        self.assertIn("parity-batch", [b["batch"] for b in self.read("cards", "batches")["items"]])
        self.read("cards", "export", "--batch", "parity-batch", "--format", "csv")
        self.assertEqual(self.run_json("cards", "revoke", "--batch", "parity-batch")["revoked"], 2)

        user = self.chatd.client()
        user_id = user.register("parity-user")["id"]
        sent, _, _ = user.answer("a question for the parity test")
        self.assertEqual([u["id"] for u in self.read("users", "list", "--query", "parity")["items"]],
                         [user_id])
        self.read("users", "show", str(user_id))
        self.assertEqual(self.run_json("users", "grant", str(user_id), "--questions", "3")
                         ["balance"]["trial"], 10 - 1 + 3)
        self.run_json("users", "ban", str(user_id))
        self.run_json("users", "unban", str(user_id))
        self.run_json("users", "api", str(user_id), "off")
        self.assertFalse(self.read("users", "show", str(user_id))["api_enabled"])
        self.run_json("users", "api", str(user_id), "on")
        logs = self.read("logs", "--user", str(user_id))["items"]
        self.assertEqual([c["id"] for c in logs], [sent["conversation_id"]])
        conversation = self.read("logs", "show", str(sent["conversation_id"]))
        self.assertEqual(conversation["messages"][0]["content"], "a question for the parity test")

        self.read("stats", "--days", "3")
        self.read("stats", "models", "--days", "3")
        self.read("audit", "--limit", "5")
        self.assertIn("id", self.run_json("admin", "add", "parity-admin",
                                          input="parity password 123\n"))

        name = self.read("settings", "get", "site.name")["site.name"]
        self.run_json("settings", "set", "site.name", "Parity Shop")
        self.assertEqual(self.read("settings", "get")["site.name"], "Parity Shop")
        self.run_json("settings", "set", "site.name", name)

        backup = os.path.join(self.workdir, "parity-backup.db")
        written = self.run_json("backup", backup)["bytes"]
        self.assertEqual(os.path.getsize(backup), written)

        self.run_json("keys", "rm", str(key_id))
        self.assertEqual(self.read("keys", "list")["items"], [])

        admin_methods = {m for m in served if m.startswith("admin.")}
        self.assertEqual(sorted(admin_methods - self.ran), [], "admin methods never run")

    def test_exit_statuses(self):
        wrong = self.via_proxy("cards", "generate", "--count", "1")
        self.assertEqual(wrong.returncode, 2, wrong.stderr)
        self.assertIn("usage: chatctl cards generate", wrong.stderr)
        self.assertEqual(self.proxy.methods, [], "a usage error reached the daemon")
        for args in (["logs", "show"], ["logs", "show", "x"], ["completion"], ["completion", "zsh"],
                     ["help", "nosuchcommand"], ["logs", "--cursor"]):
            with self.subTest(args=args):
                self.assertEqual(self.via_proxy(*args).returncode, 2)
        self.assertEqual(self.proxy.methods, [])

        for args in (["logs", "show", "999999"], ["users", "show", "999999"]):
            with self.subTest(args=args):
                missing = self.via_proxy(*args)
                self.assertEqual(missing.returncode, 1, missing.stderr)
                self.assertIn("(not_found)", missing.stderr)
                self.assertEqual(missing.stdout, "")

    def test_list_commands_page_with_a_cursor(self):
        self.add_key("ok")
        user = self.chatd.client()
        ids = [user.register("pager")["id"]] + [self.chatd.client().register(f"pager-{n}")["id"]
                                                 for n in range(2)]
        # Each answer is read to its end: a user has at most two answers in flight.
        conversations = [user.answer(f"question {n}")[0]["conversation_id"] for n in range(3)]
        for args, key, expected in ((["users", "list"], "id", ids),
                                    (["logs", "--user", str(ids[0])], "id", conversations)):
            with self.subTest(command=args):
                human = self.chatd.ctl(*args, "--limit", "2").stdout.splitlines()
                first = self.chatd.ctl_json(*args, "--limit", "2")
                self.assertEqual(human[-1], f"more: --cursor {first['next_cursor']}")
                rest = self.chatd.ctl_json(*args, "--limit", "2", "--cursor", first["next_cursor"])
                self.assertIsNone(rest["next_cursor"])
                self.assertEqual(sorted(item[key] for item in first["items"] + rest["items"]),
                                 sorted(expected))
                last = self.chatd.ctl(*args, "--limit", "2", "--cursor", first["next_cursor"])
                self.assertNotIn("more:", last.stdout)

    def test_logs_show_prints_the_current_branch(self):
        _, ok_key = self.add_key("ok", tokens=3)
        user = self.chatd.client()
        user_id = user.register("reader")["id"]
        first, _, _ = user.answer("first question")
        conversation_id = first["conversation_id"]
        again = user.rpc("chat.regenerate", {"message_id": first["message_id"]})
        user.stream(again["message_id"])
        self.chatd.ctl("keys", "disable", str(ok_key))
        self.add_key("badrequest")
        failed = user.ask("second question", conversation_id=conversation_id)
        user.stream(failed["message_id"])

        shown = self.chatd.ctl_json("logs", "show", str(conversation_id))
        self.assertEqual(shown["current_leaf_id"], failed["message_id"])
        error = shown["messages"][-1]["error"]

        text = self.chatd.ctl("logs", "show", str(conversation_id)).stdout
        self.assertIn(f"conversation {conversation_id}: {shown['title']}\n", text)
        self.assertIn(f"user: {user_id} (reader)\n", text)
        headers = [line for line in text.splitlines() if line.startswith(("user (", "assistant ("))]
        self.assertEqual([h.split(",")[0] for h in headers],
                         ["user (#%d" % first["user_message_id"], "assistant (#%d" % again["message_id"],
                          "user (#%d" % failed["user_message_id"], "assistant (#%d" % failed["message_id"]])
        self.assertIn(", done, ", headers[1])
        self.assertIn(", failed, ", headers[3])
        self.assertIn(f"  error: {error['reason']}: {error['message']}\n", text)
        self.assertIn("  first question\n", text)
        self.assertIn("not shown: 1 other branch, 1 message", text)


class CompletionTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.script = chatctl("completion", "bash")
        assert cls.script.returncode == 0, cls.script.stderr
        cls.dir = tempfile.TemporaryDirectory(prefix="chatctl-completion-")
        cls.path = os.path.join(cls.dir.name, "chatctl")
        with open(cls.path, "w") as f:
            f.write(cls.script.stdout)
        with open(os.path.join(cls.dir.name, "backup-2026.db"), "w"):
            pass

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def bash(self, commands):
        result = subprocess.run(["bash", "--norc", "--noprofile", "-c",
                                 f"source {shlex.quote(self.path)}\n{commands}"],
                                capture_output=True, text=True, timeout=30, cwd=self.dir.name)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def complete(self, *words):
        """COMPREPLY for `chatctl WORDS`, the cursor on the last word."""
        out = self.bash(f"COMP_WORDS=(chatctl {' '.join(shlex.quote(w) for w in words)})\n"
                        f"COMP_CWORD={len(words)}\n_chatctl\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"")
        return [w for w in out.split("\n") if w]

    def test_registered_for_chatctl(self):
        self.assertIn("-F _chatctl", self.bash("complete -p chatctl"))

    def test_built_file_is_what_chatctl_writes(self):
        built = os.path.join(os.path.dirname(CHATCTL), "chatctl.bash-completion")
        with open(built) as f:
            self.assertEqual(f.read(), self.script.stdout)

    def test_commands_and_subcommands(self):
        self.assertEqual(self.complete("ke"), ["keys"])
        self.assertEqual(self.complete("keys", ""),
                         ["add", "list", "rm", "enable", "disable", "test", "history", "balance", "providers"])
        self.assertEqual(self.complete("--json", "-s", "/tmp/x", "keys", "li"), ["list"])
        self.assertEqual(self.complete("logs", ""), ["show"])
        self.assertEqual(self.complete("completion", ""), ["bash"])
        self.assertEqual(self.complete("help", "keys", "ba"), ["balance"])
        self.assertEqual(self.complete("keys", "rm", ""), [])
        for command in command_names():
            *before, last = command.split()
            with self.subTest(command=command):
                self.assertIn(last, self.complete(*before, last[:2]))

    def test_options_and_their_values(self):
        self.assertEqual(self.complete("cards", "generate", "--f"), ["--format"])
        self.assertEqual(self.complete("cards", "generate", "--format", ""), ["csv", "txt", "json"])
        self.assertEqual(self.complete("cards", "export", "--batch", "b", "--status", ""),
                         ["unused", "used", "revoked", "expired"])
        self.assertEqual(self.complete("cards", "list", "--status", "re"), ["revoked"])
        self.assertEqual(self.complete("users", "grant", "7", "--bucket", ""), ["paid", "trial"])
        self.assertEqual(self.complete("logs", "--c"), ["--cursor"])
        self.assertEqual(self.complete("stats", "--days", ""), [])
        self.assertIn("--upstream-model", self.complete("models", "set", "m", "--"))

    def test_global_options_and_files(self):
        self.assertEqual(self.complete("--ti"), ["--timeout"])
        self.assertEqual(set(self.complete("-")),
                         {"-s", "--socket", "--json", "--timeout", "-h", "--help", "--version"})
        self.assertEqual(self.complete("-s", "backup-"), ["backup-2026.db"])
        self.assertEqual(self.complete("--timeout", ""), [])
        self.assertEqual(self.complete("backup", "backup-"), ["backup-2026.db"])


if __name__ == "__main__":
    main()
