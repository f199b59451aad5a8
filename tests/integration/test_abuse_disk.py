"""A full disk under the data dir: clear refusals, /healthz 503, answers that cannot be stored
end failed and refunded once, and everything comes back by itself when space returns."""
import contextlib
import errno
import http.client
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import threading
import time

from harness import Chatd, ChatdTestCase, FakeUpstream, RpcError, main, wait_for

STORAGE_FULL_CODE = -32060


class DiskFullTest(ChatdTestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="chatd-it-")
        self.data_dir = os.path.join(self.workdir, "var")
        os.makedirs(self.data_dir)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", self.data_dir],
                                 capture_output=True, text=True)
        if mounted.returncode != 0:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.skipTest("a 4 MiB tmpfs cannot be mounted as the data dir (mount needs root): "
                          + (mounted.stderr.strip() or f"mount exited {mounted.returncode}"))
        self.fake = FakeUpstream(self.workdir)
        self.chatd = Chatd(self.workdir).start()
        self.db_path = os.path.join(self.data_dir, "chatd.db")
        self.pin = None

    def tearDown(self):
        if self.pin is not None:
            self.pin.close()
        self.chatd.end()
        if subprocess.run(["umount", self.data_dir], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", self.data_dir], check=False)
        super().tearDown()

    # --- helpers -------------------------------------------------------------------------------

    def query(self, sql, *args):
        with contextlib.closing(sqlite3.connect(self.db_path, timeout=10)) as db:
            return db.execute(sql, args).fetchall()

    def snapshot(self):
        """Everything a refused call could have changed."""
        return self.query(
            "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM sessions),"
            " (SELECT count(*) FROM ledger), (SELECT count(*) FROM messages),"
            " (SELECT count(*) FROM conversations), (SELECT count(*) FROM cards WHERE redeemed_by IS NOT NULL),"
            " (SELECT sum(trial_credits + paid_credits) FROM users)")[0]

    def healthz(self):
        c = http.client.HTTPConnection("127.0.0.1", self.chatd.port, timeout=5)
        c.request("GET", "/healthz")
        r = c.getresponse()
        body = json.loads(r.read())
        c.close()
        return r.status, body

    def wal_frames(self):
        """(frames in the WAL, frames already checkpointed) from the WAL index (walformat.html)."""
        with open(self.db_path + "-shm", "rb") as f:
            head = f.read(100)
        return struct.unpack_from("=I", head, 16)[0], struct.unpack_from("=I", head, 96)[0]

    def checkpointed(self):
        frames, backfilled = self.wal_frames()
        return frames == backfilled

    def assert_storage_full(self, call):
        with self.assertRaises(RpcError) as caught:
            call()
        self.assertEqual((caught.exception.reason, caught.exception.code), ("storage_full", STORAGE_FULL_CODE))
        self.assertIn("disk is full", caught.exception.error["message"])

    def fill_disk(self):
        fd = os.open(os.path.join(self.data_dir, "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
        chunk = b"\0" * (256 * 1024)
        try:
            while True:
                os.write(fd, chunk)
        except OSError as e:
            self.assertEqual(e.errno, errno.ENOSPC)
        finally:
            os.close(fd)

    # --- the scenario -----------------------------------------------------------------------

    def test_full_disk_refuses_cleanly_fails_answers_and_recovers_without_restart(self):
        fast = self.key("ok", tokens=3)
        slow = self.key("ok", tokens=400, delay=40)  # 2,000 characters over 16 s
        self.chatd.ctl("keys", "add", "--base-url", self.fake.base_url, "--models", "gpt-4o-mini", "-",
                       input=fast + "\n")
        self.chatd.ctl("keys", "add", "--base-url", self.fake.base_url, "--models", "deepseek-chat", "-",
                       input=slow + "\n")
        self.chatd.ctl("models", "set", "deepseek-chat", "--name", "Slow")
        card = self.chatd.ctl("cards", "generate", "--count", "1", "--questions", "5", "--days", "30").stdout.split()[0]
        alice, bob, carol, filler = (self.chatd.client() for _ in range(4))
        alice.register("alice")
        bob.register("bob", "bob password 1")
        carol.register("carol")
        filler.register("filler")

        # Alice's long answer is streaming when the disk fills.
        sent = alice.ask("a long story please", model="deepseek-chat")
        answer_id = sent["message_id"]
        events = []
        reader = threading.Thread(target=lambda: events.extend(alice.stream(answer_id)))
        reader.start()
        wait_for(lambda: self.query("SELECT length(content) FROM messages WHERE id = ?", answer_id)[0][0] > 0,
                 what="the answer's first partial save")

        # A reader keeps SQLite from restarting the WAL (as a long read would), so every commit
        # appends to it: once a commit has found no room, none will until space returns.
        self.pin = sqlite3.connect(self.db_path, isolation_level=None)
        self.pin.execute("BEGIN")
        self.pin.execute("SELECT count(*) FROM users").fetchall()
        self.fill_disk()
        themes = ["dark", "light"]
        for i in range(5000):
            try:
                filler.rpc("me.update", {"theme": themes[i % 2]})
            except RpcError as e:
                self.assertEqual(e.reason, "storage_full")
                break
        else:
            self.fail("5,000 writes fitted on a full disk")

        status, body = self.healthz()
        self.assertEqual(status, 503)
        self.assertEqual((body["status"], body["reason"]), ("storage_full", "storage_full"))
        self.assertTrue(body["version"])

        # The streaming answer cannot be stored: it ends failed, refunded.
        reader.join(30)
        self.assertFalse(reader.is_alive())
        self.assertEqual(events[-1][0], "error")
        failure = json.loads(events[-1][2])
        self.assertEqual(failure["reason"], "storage_full")
        self.assertTrue(failure["refunded"])
        self.assertTrue(failure["message"])
        seen = "".join(json.loads(d)["text"] for e, _, d in events if e == "delta")
        self.assertGreater(len(seen), 0)

        # Refused with a reason, and nothing changed.
        before = self.snapshot()
        self.assert_storage_full(lambda: carol.ask("anyone there?"))
        self.assert_storage_full(lambda: self.chatd.client().rpc(
            "auth.password.login", {"username": "bob", "password": "bob password 1"}))
        self.assert_storage_full(lambda: self.chatd.client().register("dave"))
        self.assert_storage_full(lambda: carol.rpc("cards.redeem", {"code": card}))
        ctl = self.chatd.ctl("cards", "generate", "--count", "1", "--questions", "1", "--days", "1", check=False)
        self.assertEqual(ctl.returncode, 1)
        self.assertIn("storage_full", ctl.stderr)
        self.assertIn("disk is full", ctl.stderr)
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(self.healthz()[0], 503)
        # Its final state and refund wait in memory for room.
        self.assertEqual(self.query("SELECT status FROM messages WHERE id = ?", answer_id), [("streaming",)])
        frames_when_full = self.wal_frames()[0]
        wal_size_when_full = os.path.getsize(self.db_path + "-wal")
        print(f"\nfull disk: WAL {wal_size_when_full} bytes, {frames_when_full} frames")

        # Space returns: no restart needed.
        self.pin.close()
        self.pin = None
        os.remove(os.path.join(self.data_dir, "filler"))
        freed_at = time.monotonic()
        wait_for(lambda: self.healthz()[0] == 200, timeout=10, interval=0.1, what="/healthz to recover")
        recovered_in = time.monotonic() - freed_at
        self.assertEqual(self.healthz()[1]["status"], "ok")

        # The failed answer: stored with the text the user saw, refunded exactly once.
        wait_for(lambda: self.query("SELECT status FROM messages WHERE id = ?", answer_id) != [("streaming",)],
                 timeout=10, what="the failed answer to be stored")
        refunded_in = time.monotonic() - freed_at
        (status, refunded, reason, content), = self.query(
            "SELECT status, refunded, error_reason, content FROM messages WHERE id = ?", answer_id)
        self.assertEqual((status, refunded, reason), ("failed", 1, "storage_full"))
        self.assertEqual(content, seen)
        ref = f"message:{answer_id}"
        self.assertEqual(self.query("SELECT reason, delta_trial FROM ledger WHERE ref = ? ORDER BY id", ref),
                         [("question", -1), ("refund", 1)])
        self.assertEqual(alice.rpc("me.get")["balance"]["trial"], 10)
        replay = alice.stream(answer_id)
        self.assertEqual((replay[-1][0], json.loads(replay[-1][2])["reason"]), ("error", "storage_full"))

        # Everything works again.
        _, text, final = carol.answer("and now?", model="gpt-4o-mini")
        self.assertEqual(final[0], "done", final)
        self.assertEqual(len(text.split()), 3)
        self.chatd.client().rpc("auth.password.login", {"username": "bob", "password": "bob password 1"})
        self.chatd.client().register("dave")
        self.assertEqual(carol.rpc("cards.redeem", {"code": card})["balance"]["paid"], 5)
        self.assertEqual(self.query(
            "SELECT count(*) FROM users u WHERE trial_credits + paid_credits !="
            " (SELECT sum(delta_trial + delta_paid) FROM ledger WHERE user_id = u.id)"), [(0,)])

        # Checkpoints go on: the WAL is copied back and then reused from its start, not grown.
        wait_for(self.checkpointed, timeout=10, interval=0.1, what="a checkpoint to catch up")
        wal_size = os.path.getsize(self.db_path + "-wal")
        for i in range(3):
            carol.answer(f"more {i}", model="gpt-4o-mini")
        wait_for(self.checkpointed, timeout=10, interval=0.1, what="a checkpoint to catch up again")
        frames, _ = self.wal_frames()
        self.assertLess(frames, frames_when_full)
        self.assertEqual(os.path.getsize(self.db_path + "-wal"), wal_size)

        self.assertIsNone(self.chatd.proc.poll(), "chatd kept running throughout")
        log = self.chatd.log_text()
        self.assertEqual(log.count("the disk is full ("), 1, "the filling is logged once")
        self.assertEqual(log.count("disk space is back"), 1, "the recovery is logged once")
        print(f"/healthz ok {recovered_in:.1f} s after space returned; answer refunded after {refunded_in:.1f} s")


if __name__ == "__main__":
    main()
