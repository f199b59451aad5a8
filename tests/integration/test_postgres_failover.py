"""Instances sharing one PostgreSQL database when one of them dies for good: a live instance
finishes the dead one's answers (interrupted, refunded once) without waiting for it to come
back, and the background jobs run on one instance at a time, passing to another when their
holder dies."""
import signal
import time

import harness
from harness import ChatdTestCase, main
from shared_database import SharedDatabase

TIMEOUT = 3  # store.instance_timeout, seconds: short so the test waits little
# The dead-instance sweep's lock: pg::lock_key::jobs + background_job::instance_sweep.
SWEEP_LOCK = 0x63686174640100 + 5


class PostgresFailoverTest(SharedDatabase, ChatdTestCase):
    chatd_args = ("--store.instance_timeout", str(TIMEOUT))

    def second_instance(self):
        return super().second_instance(args=self.chatd.args)

    def one(self, sql, *params):
        return self.db().execute(sql, params).fetchone()

    def instances(self):
        return sorted(r[0] for r in self.db().execute("SELECT name FROM instances").fetchall())

    def sweep_lock_holders(self):
        return self.one("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
                        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                        "AND ((classid::bigint << 32) | objid::bigint) = ?", SWEEP_LOCK)[0]

    def wait_for_status(self, message_id, wanted, within):
        deadline = time.monotonic() + within
        while True:
            status = self.one("SELECT status FROM messages WHERE id = ?", message_id)[0]
            if status == wanted or time.monotonic() > deadline:
                return status
            time.sleep(0.2)

    def test_a_killed_instance_that_stays_dead_is_swept_by_a_live_one(self):
        self.add_key("ok", tokens=200, delay=100)  # twenty seconds of answer
        b = self.second_instance()
        b.add_key(self.key("ok", tokens=100, delay=100), self.fake.base_url)  # ten seconds
        name_a, name_b = self.chatd.ctl_json("status")["instance"], b.ctl_json("status")["instance"]
        self.assertEqual(self.instances(), sorted([name_a, name_b]))
        # Both instances ask for the sweep's lock every round; one session holds it.
        harness.wait_for(lambda: self.sweep_lock_holders() > 0, interval=0.2, what="the sweep's lock")
        time.sleep(1)
        self.assertEqual(self.sweep_lock_holders(), 1)
        on_a, on_b = self.chatd.client(), b.client()
        user = on_a.register("asks-a")
        on_b.register("asks-b")
        trial = on_a.rpc("me.get")["balance"]["trial"]
        sent_a, sent_b = on_a.ask("a long answer on A"), on_b.ask("a long answer on B")
        self.assertEqual(on_a.rpc("me.get")["balance"]["trial"], trial - 1)
        time.sleep(0.5)
        self.chatd.stop(signal.SIGKILL)
        killed = time.monotonic()
        # A is not given up on at once: unseen for less than the timeout, it might be slow.
        time.sleep(1)
        self.assertEqual(self.one("SELECT status FROM messages WHERE id = ?", sent_a["message_id"])[0], "streaming")
        # Within the timeout, a beat and a little slack, B takes A for dead and finishes its answer.
        self.assertEqual(self.wait_for_status(sent_a["message_id"], "interrupted", TIMEOUT + 6), "interrupted")
        self.assertGreaterEqual(time.monotonic() - killed, TIMEOUT - 1)
        self.assertEqual(self.one("SELECT refunded FROM messages WHERE id = ?", sent_a["message_id"])[0], 1)
        self.assertEqual(self.instances(), [name_b])
        self.assertIn(f"instance {name_a} was unseen", b.log_text())
        self.assertEqual(self.sweep_lock_holders(), 1)  # B's now, whoever held it before
        # Refunded once: the balance is back and one refund row is in the ledger.
        self.assertEqual(on_b.rpc("me.get")["balance"]["trial"], trial - 1)  # B's asker: still charged
        on_a_via_b = b.client()
        on_a_via_b.cookie = on_a.cookie
        self.assertEqual(on_a_via_b.rpc("me.get")["balance"]["trial"], trial)
        self.assertEqual(self.one("SELECT count(*) FROM ledger WHERE user_id = ? AND reason LIKE 'refund%'",
                                  user["id"])[0], 1)
        # Later sweeps find nothing more to refund.
        time.sleep(2 * TIMEOUT)
        self.assertEqual(self.one("SELECT count(*) FROM ledger WHERE user_id = ? AND reason LIKE 'refund%'",
                                  user["id"])[0], 1)
        self.assertTrue(b.ctl_json("status")["ledger_consistent"])
        # B's own answer, in flight all along, was left alone and ends normally.
        self.assertEqual(self.one("SELECT status FROM messages WHERE id = ?", sent_b["message_id"])[0], "streaming")
        events = on_b.stream(sent_b["message_id"])
        self.assertEqual(events[-1][0], "done")
        self.assertEqual(self.one("SELECT status, refunded FROM messages WHERE id = ?", sent_b["message_id"]),
                         ("done", 0))

    def test_an_instance_paused_for_less_than_the_timeout_keeps_its_answers(self):
        self.add_key("ok", tokens=50, delay=100)  # five seconds of answer
        b = self.second_instance()
        on_a = self.chatd.client()
        on_a.register("asks-a")
        sent = on_a.ask("an answer while A stalls")
        time.sleep(0.5)
        self.chatd.proc.send_signal(signal.SIGSTOP)
        try:
            time.sleep(TIMEOUT - 1.5)
        finally:
            self.chatd.proc.send_signal(signal.SIGCONT)
        events = on_a.stream(sent["message_id"])
        self.assertEqual(events[-1][0], "done")
        self.assertEqual(self.one("SELECT status, refunded FROM messages WHERE id = ?", sent["message_id"]),
                         ("done", 0))
        self.assertEqual(len(self.instances()), 2)
        self.assertNotIn("was unseen", b.log_text())
        self.assertNotIn("took this one for dead", self.chatd.log_text())


    def test_a_database_outage_takes_no_instance_for_dead(self):
        # Longer than the reconnect back-off (up to 5 s), as the default 30 s is.
        timeout = 8
        self.chatd.stop()
        self.chatd.args = ["--store.instance_timeout", str(timeout)]
        self.chatd.start()
        b = self.second_instance()
        self.assertEqual(len(self.instances()), 2)
        # Everyone's last beat grows old while the database is away; whichever instance is back
        # first must give the others the time to beat again rather than take them for dead.
        self.pg.halt()
        try:
            time.sleep(timeout + 2)
        finally:
            self.pg.resume()
        time.sleep(2 * timeout + 2)
        self.assertEqual(len(self.instances()), 2)
        for instance in (self.chatd, b):
            self.assertNotIn("was unseen", instance.log_text())
            self.assertNotIn("took this one for dead", instance.log_text())

if __name__ == "__main__":
    main()
