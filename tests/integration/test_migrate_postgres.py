"""`chatctl migrate --to postgres`: a populated SQLite file copied into a private PostgreSQL
server, every id and row kept, the ledger checked; refusals leave the target untouched."""
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from harness import CHATCTL, ChatdTestCase, main  # noqa: E402
from pg_server import PgServer  # noqa: E402
from test_uploads import multipart, png  # noqa: E402

# Every table chatd keeps in both backends (SQLite's full-text search tables stay behind).
COMPARED = ["users", "ledger", "sessions", "models", "conversations", "messages", "api_keys", "settings",
            "audit_log", "roles", "presets", "card_batches", "cards", "key_events", "daily_stats",
            "daily_active", "daily_latency", "daily_model_usage", "plans", "orders", "order_events"]


class MigrateToPostgresTest(ChatdTestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer()
        cls.pg.start()
        cls.databases = 0

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()

    def fresh_database(self):
        type(self).databases += 1
        return self.pg.create_database(f"target{self.databases}")

    def migrate(self, url, source=None):
        source = source or os.path.join(self.chatd.data_dir, "chatd.db")
        return subprocess.run([CHATCTL, "migrate", "--to", "postgres", url, "--from", source],
                              capture_output=True, text=True, timeout=120)

    def populate(self):
        _, key_id = self.add_key("ok")
        users = []
        for name in ("alice", "bob", "carol"):
            c = self.chatd.client()
            c.register(name)
            users.append(c)
        # Answers with text that needs escaping on the way (tabs, newlines, backslashes, Chinese).
        for i, c in enumerate(users):
            for q in range(2):
                c.answer(f"问题 {i}.{q}\twith a tab\nand a line \\ backslash")
        codes = self.chatd.ctl("cards", "generate", "--count", "3", "--questions", "25", "--days", "30",
                               "--batch", "shop").stdout.split()
        users[0].rpc("cards.redeem", {"code": codes[0]})
        users[1].rpc("cards.redeem", {"code": codes[1]})
        # A hole in the ids: the copy keeps ids as they are instead of renumbering.
        users[2].rpc("conversations.delete", {"id": users[2].rpc("conversations.list")["items"][0]["id"]})
        # Two uploads, one of whose files is lost before the copy.
        self.image = png(3, 3, seed=9)
        for name, data in (("kept.png", self.image), ("lost.txt", b"notes whose file is gone")):
            header, body = multipart([("file", name, "application/octet-stream", data)])
            status, _, reply = users[0].http("POST", "/api/upload", body, {"Content-Type": header})
            self.assertEqual(status, 200, reply)
            self.assertEqual(json.loads(reply)["size"], len(data))
        lost = hashlib.sha256(b"notes whose file is gone").hexdigest()
        os.remove(os.path.join(self.chatd.data_dir, "files", lost[:2], lost))
        return key_id

    def test_copy_keeps_every_row_and_id_and_proves_the_ledger(self):
        self.populate()
        self.chatd.stop()
        url = self.fresh_database()
        r = self.migrate(url)
        self.assertEqual(r.returncode, 0, r.stderr)
        db = sqlite3.connect(os.path.join(self.chatd.data_dir, "chatd.db"))
        printed = {m.group(1): (int(m.group(2)), int(m.group(3)))
                   for m in re.finditer(r"^(\w+)\s+(\d+)\s+(\d+)$", r.stdout, re.M)}
        for table in COMPARED:
            n = db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            self.assertEqual(printed.get(table), (n, n), table)
            self.assertEqual(int(self.pg.psql(url, f"SELECT count(*) FROM {table}")), n, table)
        self.assertGreater(printed["messages"][0], 10)
        self.assertGreaterEqual(printed["ledger"][0], 5)
        self.assertIn("ledger check:", r.stdout)
        self.assertIn("users whose balance differs from their ledger: 0", r.stdout)
        # Uploads' bytes are copied into blobs, where instances sharing the database read them.
        self.assertIn(f"uploads' files: 1 copied from {os.path.join(self.chatd.data_dir, 'files')} into blobs; "
                      "1 missing or damaged there", r.stdout)
        self.assertEqual(self.pg.rows(url, "SELECT hash, encode(bytes, 'hex') FROM blobs"),
                         [(hashlib.sha256(self.image).hexdigest(), self.image.hex())])

        # Ids and text as they were: links such as /c/{id} keep working.
        for query in ("SELECT id, content, status FROM messages ORDER BY id",
                      "SELECT id, username, trial_credits, paid_credits FROM users ORDER BY id",
                      "SELECT code, status, redeemed_by FROM cards ORDER BY code"):
            want = db.execute(query).fetchall()
            got = self.pg.rows(url, query)
            self.assertEqual([tuple("" if v is None else str(v) for v in row) for row in want], got, query)
        self.assertEqual(self.pg.psql(url, "SELECT version FROM chatd_schema"),
                         str(db.execute("PRAGMA user_version").fetchone()[0]))

        # New rows continue after the copied ids, and the ledger stays append-only.
        top = db.execute("SELECT max(id) FROM ledger").fetchone()[0]
        new_id = self.pg.psql(url, "INSERT INTO ledger (user_id, at, delta_trial, delta_paid, reason) "
                                   "VALUES (1, 0, 0, 0, 'test') RETURNING id")
        self.assertEqual(int(new_id.split()[0]), top + 1)
        with self.assertRaises(subprocess.CalledProcessError) as refused:
            self.pg.psql(url, "UPDATE ledger SET delta_trial = 100")
        self.assertIn("append-only", refused.exception.stderr)

        # Copying again into the now populated database is refused and changes nothing.
        before = self.pg.psql(url, "SELECT count(*) FROM messages")
        again = self.migrate(url)
        self.assertEqual(again.returncode, 1)
        self.assertIn("not empty", again.stderr)
        self.assertEqual(self.pg.psql(url, "SELECT count(*) FROM messages"), before)

    def test_refusals_leave_the_target_untouched(self):
        self.chatd.stop()
        url = self.fresh_database()
        self.pg.psql(url, "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me')")
        r = self.migrate(url)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not empty", r.stderr)
        self.assertEqual(self.pg.psql(url, "SELECT string_agg(tablename, ',') FROM pg_tables WHERE schemaname = 'public'"),
                         "notes")
        self.assertEqual(self.pg.psql(url, "SELECT body FROM notes"), "keep me")

        empty = self.fresh_database()
        missing = self.migrate(empty, source=os.path.join(self.workdir, "nope.db"))
        self.assertEqual(missing.returncode, 1)
        self.assertIn("no database file", missing.stderr)
        foreign = os.path.join(self.workdir, "other.db")
        sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.commit()
        r = self.migrate(empty, source=foreign)
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a chatd database", r.stderr)
        self.assertEqual(self.pg.psql(empty, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), "0")

        # An unreachable server: a clear reason, and the password never printed.
        unreachable = f"postgresql://chatd:s3cret-pw@127.0.0.1:{self.pg.port + 1}/chatd?connect_timeout=3"
        r = self.migrate(unreachable)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot connect to PostgreSQL", r.stderr)
        self.assertNotIn("s3cret-pw", r.stderr + r.stdout)

        usage = subprocess.run([CHATCTL, "migrate", "--to", "mysql", url], capture_output=True, text=True)
        self.assertEqual(usage.returncode, 2)


if __name__ == "__main__":
    main()
