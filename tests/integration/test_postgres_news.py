"""Two chatd instances on one PostgreSQL database keep each other's memory current: keys and
their health, settings and models changed on one are seen by the other within a second or so;
an answer generated on A is followed live from B, and stopped from B."""
import json
import time

import harness
from harness import ChatdTestCase, main, read_events, wait_for
from shared_database import SharedDatabase


class NewsBetweenInstancesTest(SharedDatabase, ChatdTestCase):
    def setUp(self):
        super().setUp()
        self.b = self.second_instance()

    def keys_on(self, instance):
        return {k["id"]: k for k in instance.ctl_json("keys", "list")["items"]}

    def test_keys_added_and_evicted_on_one_instance_are_seen_by_the_other(self):
        bad, bad_id = self.add_key("invalid")
        good, good_id = self.add_key("ok", tokens=3)
        wait_for(lambda: set(self.keys_on(self.b)) == {bad_id, good_id}, timeout=3, what="keys reach B")
        on_a = self.chatd.client()
        on_a.register("evicts-on-a")
        self.assertEqual(on_a.answer("hi")[2][0], "done")  # fails over past the bad key
        self.assertEqual(self.fake.requests_for(bad), 1)
        wait_for(lambda: self.keys_on(self.b)[bad_id]["status"] == "invalid", timeout=3, what="eviction reaches B")
        # B never tries the evicted key.
        on_b = self.b.client()
        on_b.register("asks-on-b")
        for _ in range(3):
            self.assertEqual(on_b.answer("hello")[2][0], "done")
        self.assertEqual(self.fake.requests_for(bad), 1)
        self.assertEqual(self.fake.requests_for(good), 4)
        # Counters add up across instances rather than overwrite each other.
        wait_for(lambda: self.keys_on(self.chatd)[good_id]["requests"] == 4, timeout=3, what="counters add up")
        # An operator's disable on B reaches A; removal too.
        self.b.ctl("keys", "disable", str(good_id))
        wait_for(lambda: self.keys_on(self.chatd)[good_id]["status"] == "disabled", timeout=3, what="disable reaches A")
        self.b.ctl("keys", "rm", str(bad_id))
        wait_for(lambda: bad_id not in self.keys_on(self.chatd), timeout=3, what="removal reaches A")

    def test_settings_and_models_changed_on_one_instance_are_seen_by_the_other(self):
        on_b = self.b.client()
        self.chatd.ctl("settings", "set", "site.name", "共享的站点")
        wait_for(lambda: on_b.rpc("site.info")["name"] == "共享的站点", timeout=3, what="setting reaches B")
        self.chatd.ctl("models", "set", "shared-model", "--name", "Shared", "--cost", "2")
        wait_for(lambda: "shared-model" in [m["id"] for m in on_b.rpc("site.info")["models"]], timeout=3,
                 what="model reaches B")
        # Sensitive words set on A refuse questions on B.
        self.add_key("ok", tokens=3)
        self.chatd.ctl("settings", "set", "content.sensitive_words", "forbidden-word")
        on_b.register("words-on-b")

        def refused():
            try:
                on_b.ask("a forbidden-word here")
                return False
            except harness.RpcError as e:
                return e.reason == "content_blocked"
        wait_for(refused, timeout=3, what="sensitive words reach B")

    def test_an_answer_written_on_a_is_followed_and_stopped_from_b(self):
        self.add_key("ok", tokens=30, delay=100)  # three seconds of answer
        on_a = self.chatd.client()
        on_a.register("follows")
        on_b = self.b.client()
        on_b.cookie = on_a.cookie
        sent = on_a.ask("a long answer")
        started = time.monotonic()
        conn, r = on_b.open_stream(sent["message_id"])
        self.assertEqual(r.status, 200)
        events = read_events(r)
        conn.close()
        self.assertEqual(events[-1][0], "done")
        deltas = [(eid, json.loads(d)["text"]) for e, eid, d in events if e == "delta"]
        # Live, not replayed at the end: text arrived in several pieces while A wrote it.
        self.assertGreater(len(deltas), 2, events)
        self.assertGreater(time.monotonic() - started, 2)
        text = "".join(t for _, t in deltas)
        stored = on_a.rpc("conversations.get", {"id": sent["conversation_id"]})["messages"][-1]
        self.assertEqual(text, stored["content"])
        self.assertEqual(deltas[-1][0], len(text.encode()))  # event ids are byte offsets, as on A

        # Resuming on B from an offset A handed out continues without a gap or a repeat.
        again = on_b.stream(sent["message_id"], after=deltas[0][0])
        self.assertEqual(deltas[0][1] + "".join(json.loads(d)["text"] for e, _, d in again if e == "delta"), text)

        # Stop sent to B stops the answer A writes, and A cancels its upstream request.
        self.add_key("ok", tokens=200, delay=50)
        sent = on_a.ask("another long answer")
        first = on_a.stream(sent["message_id"], stop_after_deltas=1)
        self.assertEqual(first[-1][0], "delta")
        self.assertEqual(on_b.rpc("chat.stop", {"message_id": sent["message_id"]}), {})
        final = on_a.stream(sent["message_id"])[-1]
        self.assertEqual(final[0], "done")
        self.assertEqual(json.loads(final[2])["status"], "stopped")
        wait_for(lambda: self.fake.stats()["client_closed"] >= 1, what="upstream request cancelled")


if __name__ == "__main__":
    main()
