"""chatd on PostgreSQL ([store] backend = postgres) against a private server: what admin.status
says, two instances on one database, a server that is away at start or restarts meanwhile, or
goes away while an answer ends."""
import os
import signal
import subprocess
import threading
import time

import json

import harness
from harness import CHATD, Chatd, ChatdTestCase, RpcError, main, read_events, wait_for
from pg_server import PgServer

PASSWORD = "never-logged-pw"


class PostgresTest(ChatdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer().start()
        # The test server trusts loopback, so any password works: this one must never be logged.
        harness.POSTGRES = cls.pg.url.replace("postgres@", f"postgres:{PASSWORD}@")

    @classmethod
    def tearDownClass(cls):
        harness.POSTGRES = ""
        cls.pg.stop()

    def second_instance(self):
        """Another chatd on the same database, with its own port, socket and data_dir."""
        workdir = os.path.join(self.workdir, "b")
        os.makedirs(workdir)
        b = Chatd(workdir, postgres_url=self.chatd.postgres_url).start()
        self.addCleanup(lambda: b.stop() if b.proc and b.proc.poll() is None else None)
        return b

    def test_status_names_the_backend_and_the_instance(self):
        status = self.chatd.ctl_json("status")
        self.assertEqual(status["store"], "postgres")
        self.assertTrue(status["instance"].endswith(f":{self.chatd.port}"), status["instance"])
        self.assertEqual(status["search_backlog"], 0)  # the trigram index needs no backfill

    def test_two_instances_share_sessions_answers_and_cards(self):
        self.add_key("ok")
        b = self.second_instance()
        b.add_key(self.key("ok"), self.fake.base_url)
        on_a = self.chatd.client()
        user = on_a.register("alice")
        on_b = b.client()
        on_b.cookie = on_a.cookie
        self.assertEqual(on_b.rpc("me.get")["id"], user["id"])
        sent, text, done = on_b.answer("asked on B")
        self.assertEqual(done[0], "done")
        # The answer B generated is in the history A shows, with its text.
        conv = on_a.rpc("conversations.get", {"id": sent["conversation_id"]})
        self.assertEqual(conv["messages"][-1]["content"], text)
        # One card, 40 users, half asking A and half asking B at the same moment: credited once.
        code = self.chatd.ctl("cards", "generate", "--count", "1", "--questions", "30", "--days", "30").stdout.split()[0]
        racers = []
        for i in range(40):
            c = (self.chatd if i % 2 else b).client()
            c.register(f"racer{i:02d}")
            racers.append(c)
        barrier = threading.Barrier(len(racers))
        outcomes = []

        def redeem(c):
            barrier.wait()
            try:
                c.rpc("cards.redeem", {"code": code})
                outcomes.append("ok")
            except RpcError as e:
                outcomes.append(e.reason)
        threads = [threading.Thread(target=redeem, args=(c,)) for c in racers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(sorted(outcomes), ["card_used"] * 39 + ["ok"])
        self.assertEqual(sorted(c.rpc("me.get")["balance"]["paid"] for c in racers), [0] * 39 + [30])
        self.assertEqual(self.db().execute("SELECT count(*) FROM ledger WHERE reason = 'card'").fetchone()[0], 1)
        self.assertTrue(self.chatd.ctl_json("status")["ledger_consistent"])
        self.assertTrue(b.ctl_json("status")["ledger_consistent"])
        # Logging out on A ends the session on B too, within a second.
        on_a.rpc("auth.logout")
        time.sleep(1.1)
        with self.assertRaises(RpcError) as gone:
            on_b.rpc("me.get")
        self.assertEqual(gone.exception.reason, "unauthorized")

    def test_a_killed_instance_refunds_its_own_answers_and_leaves_the_others_running(self):
        self.add_key("ok", tokens=40, delay=100)  # four seconds of answer
        b = self.second_instance()
        b.add_key(self.key("ok", tokens=40, delay=100), self.fake.base_url)
        on_a, on_b = self.chatd.client(), b.client()
        on_a.register("asks-a")
        on_b.register("asks-b")
        trial = on_a.rpc("me.get")["balance"]["trial"]
        sent_a, sent_b = on_a.ask("a long answer on A"), on_b.ask("a long answer on B")
        self.assertEqual(on_a.rpc("me.get")["balance"]["trial"], trial - 1)
        time.sleep(0.5)
        self.chatd.stop(signal.SIGKILL)
        self.chatd.start()  # its start-up sweep
        row = self.db().execute("SELECT status, refunded FROM messages WHERE id = ?", (sent_a["message_id"],)).fetchone()
        self.assertEqual(row, ("interrupted", 1))
        self.assertEqual(on_a.rpc("me.get")["balance"]["trial"], trial)
        self.assertEqual(self.db().execute("SELECT count(*) FROM ledger WHERE reason = 'refund' AND ref = ?",
                                           (f"message:{sent_a['message_id']}",)).fetchone()[0], 1)
        # B's answer was not touched by A's restart and ends normally.
        events = on_b.stream(sent_b["message_id"])
        self.assertEqual(events[-1][0], "done")
        self.assertEqual(self.db().execute("SELECT status FROM messages WHERE id = ?",
                                           (sent_b["message_id"],)).fetchone()[0], "done")

    def test_an_unreachable_database_at_start_is_a_clear_error(self):
        self.chatd.stop()
        workdir = os.path.join(self.workdir, "down")
        os.makedirs(workdir)
        conf = os.path.join(workdir, "chatd.conf")
        with open(conf, "w") as f:
            f.write(f"listen = 127.0.0.1:{harness.free_port()}\nadmin_socket = {workdir}/admin.sock\n"
                    f"data_dir = {workdir}/var\n[store]\nbackend = postgres\n"
                    f"postgres_url = postgresql://chatd:s3cret-pw@127.0.0.1:{harness.free_port()}/chatd\n")
        r = subprocess.run([CHATD, "--config", conf], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cannot connect to PostgreSQL", r.stderr)
        self.assertNotIn("s3cret-pw", r.stdout + r.stderr)
        for bad, key in (("backend = mysql\n", "store.backend"), ("backend = postgres\n", "store.postgres_url"),
                         ("postgres_pool = 1\n", "store.postgres_pool")):
            with open(conf, "w") as f:
                f.write("[store]\n" + bad)
            r = subprocess.run([CHATD, "--config", conf, "--check-config"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn(key, r.stderr)

    def test_a_database_restart_is_survived_without_restarting_chatd(self):
        self.add_key("ok")
        c = self.chatd.client()
        c.register("bob")
        self.assertEqual(c.answer("before")[2][0], "done")
        messages = self.db().execute("SELECT count(*) FROM messages").fetchone()[0]
        self.pg.halt()
        try:
            with self.assertRaises(RpcError) as refused:
                c.ask("during the outage")
            self.assertEqual(refused.exception.reason, "database_unavailable")
            self.assertTrue(self.chatd.healthy())  # the process itself stays up
        finally:
            self.pg.resume()
        self.assertEqual(self.db().execute("SELECT count(*) FROM messages").fetchone()[0], messages)
        deadline = time.monotonic() + 30
        while True:  # each pooled connection comes back on its own back-off
            try:
                sent, text, done = c.answer("after")
                break
            except RpcError as e:
                if e.reason != "database_unavailable" or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        self.assertEqual(done[0], "done")
        self.assertEqual(self.db().execute("SELECT count(*) FROM messages").fetchone()[0], messages + 2)
        self.assertIn("PostgreSQL", self.chatd.log_text())  # the outage was logged…
        self.assertNotIn(PASSWORD, self.chatd.log_text())  # …without the password

    def test_an_answer_ending_while_the_database_is_away_is_stored_failed_and_refunded_later(self):
        self.add_key("ok", tokens=10, delay=200)
        c = self.chatd.client()
        c.register("carol")
        trial = c.rpc("me.get")["balance"]["trial"]
        sent = c.ask("a long answer")
        conn, r = c.open_stream(sent["message_id"])
        try:
            read_events(r, stop_after_deltas=1)
            self.pg.halt()
            try:
                events = read_events(r)  # the answer goes on; its end cannot be stored
            finally:
                self.pg.resume()
        finally:
            conn.close()
        last = json.loads(events[-1][2])
        self.assertEqual((events[-1][0], last["reason"], last["refunded"]), ("error", "database_unavailable", True))

        def stored():
            try:
                return self.db().execute("SELECT status, refunded, error_reason FROM messages WHERE id = ?",
                                         (sent["message_id"],)).fetchone()
            except Exception:
                return None
        # Never left `streaming`: stored as it ended once the database is back, refunded once.
        wait_for(lambda: (stored() or ("",))[0] == "failed", timeout=30, what="the answer stored")
        status, refunded, reason = stored()
        self.assertEqual((status, bool(refunded), reason), ("failed", True, "database_unavailable"))
        wait_for(lambda: c.rpc("me.get")["balance"]["trial"] == trial, timeout=30, what="the refund")
        refunds = self.db().execute("SELECT count(*) FROM ledger WHERE reason = 'refund' AND ref = ?",
                                    ("message:%d" % sent["message_id"],)).fetchone()[0]
        self.assertEqual(refunds, 1)


if __name__ == "__main__":
    main()
