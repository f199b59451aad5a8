"""Start-up, shutdown, crash recovery, the admin socket and chatctl against a real chatd."""
import json
import os
import signal
import stat
import subprocess
import time

import harness
from harness import CHATD, Chatd, ChatdTestCase, main, wait_for


class LifecycleTest(ChatdTestCase):
    def test_sigterm_drains_an_answer_in_flight(self):
        self.add_key("ok", tokens=20, delay=50)  # about one second of answer
        c = self.chatd.client()
        c.register("olga")
        sent = c.ask("finish me")
        time.sleep(0.2)
        self.chatd.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.chatd.proc.wait(30), 0)
        db = self.db()
        status, content = db.execute("SELECT status, content FROM messages WHERE id=?",
                                     (sent["message_id"],)).fetchone()
        self.assertEqual(status, "done")
        self.assertEqual(len(content.split()), 20)
        self.assertIn("stopping: draining 1 answer", self.chatd.log_text())

    def test_drain_is_bounded_and_interrupts_the_rest(self):
        self.chatd.stop()
        self.chatd = Chatd(self.workdir, args=["--drain-timeout", "1"]).start()
        self.add_key("ok", tokens=100, delay=100)
        c = self.chatd.client()
        c.register("pete")
        sent = c.ask("too long")
        time.sleep(0.5)
        t0 = time.monotonic()
        self.chatd.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.chatd.proc.wait(30), 0)
        self.assertLess(time.monotonic() - t0, 10)
        status, refunded, content = self.db().execute(
            "SELECT status, refunded, content FROM messages WHERE id=?", (sent["message_id"],)).fetchone()
        self.assertEqual((status, refunded), ("interrupted", 1))
        self.assertTrue(content)  # the partial answer is kept

    def test_a_second_stop_signal_stops_at_once(self):
        self.add_key("ok", tokens=100, delay=100)  # ten seconds of answer: the drain would wait
        c = self.chatd.client()
        c.register("rhea")
        sent = c.ask("too long to wait for")
        c.stream(sent["message_id"], stop_after_deltas=1)
        self.chatd.proc.send_signal(signal.SIGTERM)
        wait_for(lambda: "stopping: draining 1 answer" in self.chatd.log_text(), what="the drain")
        t0 = time.monotonic()
        self.chatd.proc.send_signal(signal.SIGTERM)  # the answer still streams on another loop
        self.assertEqual(self.chatd.proc.wait(30), 0)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertIn("second stop signal", self.chatd.log_text())
        self.assertFalse(os.path.exists(self.chatd.socket))
        self.chatd.start()  # the cut-off answer is found, refunded once
        self.assertEqual(self.db().execute("SELECT status, refunded FROM messages WHERE id=?",
                                           (sent["message_id"],)).fetchone(), ("interrupted", 1))
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 10)

    def test_kill_9_mid_answer_then_restart(self):
        self.add_key("ok", tokens=200, delay=20)
        c = self.chatd.client()
        c.register("quinn")
        sent = c.ask("crash during this")
        seen = c.stream(sent["message_id"], stop_after_deltas=40)
        text_seen = "".join(json.loads(d)["text"] for e, _, d in seen if e == "delta")
        time.sleep(1.2)  # longer than the persistence interval
        self.chatd.stop(signal.SIGKILL)
        saved = self.db().execute("SELECT content FROM messages WHERE id=?", (sent["message_id"],)).fetchone()[0]
        self.assertTrue(saved.startswith(text_seen))  # at most the last second was lost
        self.chatd.start()
        status, refunded, content = self.db().execute(
            "SELECT status, refunded, content FROM messages WHERE id=?", (sent["message_id"],)).fetchone()
        self.assertEqual((status, refunded), ("interrupted", 1))
        self.assertEqual(content, saved)
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 10)
        events = c.stream(sent["message_id"])
        self.assertEqual(events[-1][0], "error")
        self.assertEqual(json.loads(events[-1][2])["reason"], "interrupted")
        self.assertTrue(self.chatd.ctl_json("status")["ledger_consistent"])

    def test_kill_9_with_more_live_answers_than_one_commit_saves(self):
        # Partial texts are saved five hundred to a commit: every slice must reach the disk.
        self.chatd.stop()
        self.chatd = Chatd(self.workdir, args=["--billing.trial_questions", "1000",
                                               "--limits.answers_in_flight", "1000",
                                               "--limits.questions_per_minute", "100000"]).start()
        self.add_key("ok", tokens=100, delay=100)  # ten seconds of answer
        c = self.chatd.client()
        c.register("many")
        ids = [c.ask(f"question {i}")["message_id"] for i in range(520)]
        time.sleep(1.5)  # every answer has text, saved at most one persistence interval ago
        self.chatd.stop(signal.SIGKILL)
        marks = ",".join("?" * len(ids))
        empty = self.db().execute(f"SELECT COUNT(*) FROM messages WHERE id IN ({marks}) AND content = ''",
                                  ids).fetchone()[0]
        self.assertEqual(empty, 0)

    def test_admin_socket_mode_single_instance_and_stale_socket(self):
        mode = stat.S_IMODE(os.stat(self.chatd.socket).st_mode)
        self.assertEqual(mode, 0o660)
        second = subprocess.run([CHATD, "--config", self.chatd.conf, "--listen", "127.0.0.1:0"],
                                capture_output=True, text=True, timeout=30)
        self.assertNotEqual(second.returncode, 0)
        self.assertIn("another chatd is running", second.stderr)
        self.assertTrue(self.chatd.healthy())
        # After kill -9 the socket file stays behind; the next start replaces it.
        self.chatd.stop(signal.SIGKILL)
        self.assertTrue(os.path.exists(self.chatd.socket))
        self.chatd.start()
        self.assertEqual(self.chatd.ctl_json("status")["users"], 0)

    def test_chatctl_keys_admin_and_exit_codes(self):
        r = self.chatd.ctl("keys", "add", "--base-url", self.fake.base_url, "-",
                           input="sk-one:ok\n\n  sk-two:invalid  \nsk-one:ok\n")
        self.assertIn("added", r.stdout)
        keys = self.chatd.ctl_json("keys", "list")["items"]
        self.assertEqual(len(keys), 2)
        listing = self.chatd.ctl("keys", "list").stdout
        self.assertNotIn("sk-one:ok", listing)
        self.assertNotIn("sk-two:invalid", listing)
        self.assertNotIn("sk-one:ok", self.chatd.log_text())
        for k in keys:
            self.assertTrue(k["masked"].startswith("sk-…"))
        self.chatd.ctl("keys", "disable", str(keys[0]["id"]))
        self.assertEqual(self.chatd.ctl_json("status")["keys"]["disabled"], 1)
        self.chatd.ctl("keys", "enable", str(keys[0]["id"]))
        self.chatd.ctl("keys", "rm", str(keys[1]["id"]))
        self.assertEqual(len(self.chatd.ctl_json("keys", "list")["items"]), 1)
        missing = self.chatd.ctl("keys", "rm", "999", check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertIn("not_found", missing.stderr)
        self.assertEqual(self.chatd.ctl("keys", "rm", "x", check=False).returncode, 2)
        self.assertEqual(self.chatd.ctl_json("admin", "add", "root", input="long enough password\n")["id"] > 0, True)
        dup = self.chatd.ctl("admin", "add", "root", input="long enough password\n", check=False)
        self.assertEqual(dup.returncode, 1)
        methods = self.chatd.ctl_json("call", "system.list_methods")["methods"]
        self.assertIn("admin.keys.add", methods)
        self.assertNotIn("chat.send", methods)  # the socket serves admin methods only
        other = subprocess.run([self.chatd_ctl_path(), "-s", os.path.join(self.workdir, "nope.sock"), "status"],
                               capture_output=True, text=True)
        self.assertEqual(other.returncode, 3)
        audit = self.db().execute("SELECT method, params FROM audit_log ORDER BY id").fetchall()
        self.assertIn("admin.keys.add", [m for m, _ in audit])
        self.assertFalse(any("sk-one:ok" in p or "long enough password" in p for _, p in audit))

    def chatd_ctl_path(self):
        from harness import CHATCTL
        return CHATCTL

    def test_settings_and_backup(self):
        self.chatd.ctl("settings", "set", "site.name", "My AI")
        self.assertEqual(self.chatd.client().rpc("site.info")["name"], "My AI")
        bad = self.chatd.ctl("settings", "set", "no.such.key", "1", check=False)
        self.assertEqual(bad.returncode, 1)
        self.assertIn("invalid_params", bad.stderr)
        self.assertEqual(self.chatd.ctl("settings", "set", "billing.trial_questions", "-3", check=False).returncode, 1)
        self.chatd.ctl("settings", "set", "billing.trial_questions", "3")
        self.assertEqual(self.chatd.client().register("newbie")["balance"]["trial"], 3)
        path = os.path.join(self.workdir, "backup.db")
        out = self.chatd.ctl_json("backup", path)
        self.assertGreater(out["bytes"], 0)
        self.assertEqual(self.restored(path).execute("SELECT count(*) FROM users").fetchone()[0], 1)

    def restored(self, backup):
        """The backup as a database of its own: the SQLite file itself, or pg_dump's archive
        restored with pg_restore into a fresh PostgreSQL database."""
        if not self.chatd.postgres_url:
            import sqlite3
            return sqlite3.connect(backup)
        from pg_database import Connection, create_database
        target = create_database(harness.POSTGRES, "restored_" + os.urandom(4).hex())
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", target, backup], check=True,
                       capture_output=True, timeout=120)
        return Connection(target)


class SystemdTest(ChatdTestCase):
    def test_ready_is_sent_after_the_listeners_are_up_and_sighup_reloads(self):
        import socket as sk
        self.chatd.stop()
        notify_path = os.path.join(self.workdir, "notify.sock")
        notify = sk.socket(sk.AF_UNIX, sk.SOCK_DGRAM)
        notify.bind(notify_path)
        notify.settimeout(20)
        d = Chatd(self.workdir)
        env = dict(os.environ, NOTIFY_SOCKET=notify_path)
        d.log = open(d.log_path, "ab")
        d.proc = subprocess.Popen([CHATD, "--config", d.conf], stdout=d.log, stderr=subprocess.STDOUT, env=env)
        self.chatd = d
        msg = notify.recv(4096).decode()
        self.assertIn("READY=1", msg)
        self.assertIn(f"MAINPID={d.proc.pid}", msg)
        self.assertTrue(d.healthy())  # listening by the time READY arrives
        self.assertTrue(os.path.exists(d.socket))

        # SIGHUP re-reads the file: a new default for trial questions takes effect.
        with open(d.conf, "a") as f:
            f.write("[billing]\ntrial_questions = 4\n")
        d.proc.send_signal(signal.SIGHUP)
        self.assertIn("RELOADING=1", notify.recv(4096).decode())
        self.assertIn("READY=1", notify.recv(4096).decode())
        self.assertEqual(d.client().register("after_hup")["balance"]["trial"], 4)
        # A broken file is refused and the running configuration stays.
        with open(d.conf, "a") as f:
            f.write("[upstream]\nmax_attempts = none\n")
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload failed" in d.log_text(), what="reload refusal in the log")
        self.assertTrue(d.healthy())
        d.proc.send_signal(signal.SIGTERM)
        self.assertIn("STOPPING=1", notify.recv(4096).decode())
        self.assertEqual(d.proc.wait(30), 0)
        notify.close()


class ConfigTest(ChatdTestCase):
    def check(self, text):
        path = os.path.join(self.workdir, "bad.conf")
        with open(path, "w") as f:
            f.write(text)
        return subprocess.run([CHATD, "--config", path, "--check-config"], capture_output=True, text=True)

    def test_check_config_names_key_and_line(self):
        r = self.check("listen = 127.0.0.1:8080\n\n[upstream]\nmax_attempts = lots\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad.conf:4", r.stderr)
        self.assertIn("upstream.max_attempts", r.stderr)
        r = self.check("[upstream]\nmax_attempts = 0\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad.conf:2", r.stderr)
        r = self.check("listen = 127.0.0.1:8080\nno_such_key = 1\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad.conf:2", r.stderr)
        self.assertIn("no_such_key", r.stderr)
        r = self.check("stream_flush_ms = 5000\n")
        self.assertEqual(r.returncode, 2)
        self.assertIn("stream_flush_ms", r.stderr)
        r = self.check("[wechat]\nmode = sometimes\n")
        self.assertIn("wechat.mode", r.stderr)
        for conf, key in (("mode = qr\nappid = wx1\ntoken = t\n", "wechat.secret"),
                          ("mode = code\nappid = wx1\n", "wechat.token"),
                          ("encoding_aes_key = short\n", "wechat.encoding_aes_key"),
                          ("encoding_aes_key = " + "!" * 43 + "\n", "wechat.encoding_aes_key"),
                          ("api_base = ftp://example.com\n", "wechat.api_base"),
                          ("previous_encoding_aes_key = " + "A" * 43 + "\n", "wechat.previous_encoding_aes_key")):
            r = self.check("[wechat]\n" + conf)
            self.assertEqual(r.returncode, 2, conf)
            self.assertIn(key, r.stderr)
        r = self.check(open(self.chatd.conf).read())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("configuration OK", r.stdout)

    def test_command_line_wins_and_dashes_work(self):
        r = subprocess.run([CHATD, "--config", self.chatd.conf, "--upstream.max-attempts", "0", "--check-config"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("upstream.max_attempts", r.stderr)
        r = subprocess.run([CHATD, "--version"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith("chatd "))


if __name__ == "__main__":
    main()
