"""Asking, streaming, resuming, stopping, regenerating and history against a real chatd."""
import json
import threading
import time

from harness import ChatdTestCase, RpcError, main, wait_for


class ChatTest(ChatdTestCase):
    def test_sign_up_ask_and_stream(self):
        key, _ = self.add_key("ok", tokens=5)
        c = self.chatd.client()
        user = c.register("alice")
        self.assertEqual(user["balance"]["trial"], 10)
        sent, text, final = c.answer("hello")
        self.assertEqual(set(sent), {"conversation_id", "user_message_id", "message_id", "stream"})
        self.assertEqual(sent["stream"], f"/api/stream/{sent['message_id']}")
        self.assertEqual(len(text.split()), 5)
        self.assertEqual(final[0], "done")
        done = json.loads(final[2])
        self.assertEqual(done["status"], "done")
        self.assertEqual(done["charged"], 1)
        self.assertFalse(done["refunded"])
        self.assertIsNone(done["free_reason"])
        self.assertEqual(done["balance"]["trial"], 9)
        self.assertGreater(done["usage"]["completion_tokens"], 0)
        self.assertIsNotNone(done["latency_ms"]["first_token"])
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 9)
        # The fake saw the question as the last user message.
        body = self.fake.last_body(key)
        self.assertEqual(body["messages"][-1], {"role": "user", "content": "hello"})
        self.assertTrue(body["stream"])
        self.assertEqual(body["stream_options"], {"include_usage": True})

    def test_stream_headers_and_event_ids_increase(self):
        self.add_key("ok", tokens=6, delay=20)
        c = self.chatd.client()
        c.register("bob")
        sent = c.ask("hi")
        conn, r = c.open_stream(sent["message_id"])
        self.assertEqual(r.status, 200)
        self.assertTrue(r.getheader("Content-Type").startswith("text/event-stream"))
        self.assertEqual(r.getheader("Cache-Control"), "no-cache")
        self.assertEqual(r.getheader("X-Accel-Buffering"), "no")
        from harness import read_events
        events = [e for e in read_events(r) if e[0] != "comment"]
        conn.close()
        ids = [e[1] for e in events]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual(len(set(ids)), len(ids))

    def test_resume_mid_answer_and_replay_after_finish(self):
        self.add_key("ok", tokens=30, delay=30)
        c = self.chatd.client()
        c.register("carol")
        sent = c.ask("tell me")
        first = c.stream(sent["message_id"], stop_after_deltas=3)
        deltas = [e for e in first if e[0] == "delta"]
        self.assertEqual(len(deltas), 3)
        last_id = deltas[-1][1]
        seen = "".join(json.loads(d)["text"] for _, _, d in deltas)
        self.assertEqual(len(seen.encode()), last_id)  # ids are byte offsets
        rest = c.stream(sent["message_id"], after=last_id)
        rest_text = "".join(json.loads(d)["text"] for e, _, d in rest if e == "delta")
        self.assertEqual(rest[-1][0], "done")
        full = seen + rest_text
        self.assertEqual(len(full.split()), 30)
        # Finished: a new reader gets the whole text, then done; ?after= works like the header.
        replay = c.stream(sent["message_id"])
        self.assertEqual("".join(json.loads(d)["text"] for e, _, d in replay if e == "delta"), full)
        self.assertEqual(replay[-1][0], "done")
        tail = c.stream(sent["message_id"], query=f"?after={last_id}")
        self.assertEqual("".join(json.loads(d)["text"] for e, _, d in tail if e == "delta"), rest_text)

    def test_stop_cancels_upstream_and_charges_started_answer(self):
        key, _ = self.add_key("ok", tokens=200, delay=50)
        c = self.chatd.client()
        c.register("dave")
        sent = c.ask("long answer")
        got = c.stream(sent["message_id"], stop_after_deltas=2)
        self.assertEqual(len([e for e in got if e[0] == "delta"]), 2)
        self.assertEqual(c.rpc("chat.stop", {"message_id": sent["message_id"]}), {})
        events = c.stream(sent["message_id"])
        done = json.loads(events[-1][2])
        self.assertEqual(events[-1][0], "done")
        self.assertEqual(done["status"], "stopped")
        self.assertEqual(done["charged"], 1)
        wait_for(lambda: self.fake.stats()["client_closed"] >= 1, what="upstream request cancelled")
        conv = c.rpc("conversations.get", {"id": sent["conversation_id"]})
        answer = [m for m in conv["messages"] if m["id"] == sent["message_id"]][0]
        self.assertEqual(answer["status"], "stopped")
        self.assertTrue(answer["content"])
        self.assertLess(len(answer["content"].split()), 200)

    def test_stop_before_first_token_is_refunded(self):
        self.add_key("ok", tokens=3, first_delay=3000)
        c = self.chatd.client()
        c.register("erin")
        sent = c.ask("slow start")
        time.sleep(0.2)
        c.rpc("chat.stop", {"message_id": sent["message_id"]})
        done = json.loads(c.stream(sent["message_id"])[-1][2])
        self.assertEqual(done["status"], "stopped")
        self.assertEqual(done["charged"], 0)
        self.assertTrue(done["refunded"])
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 10)

    def test_regenerate_and_edit_make_branches(self):
        key, _ = self.add_key("echo")
        c = self.chatd.client()
        c.register("frank")
        s1, t1, _ = c.answer("first question")
        s2, t2, _ = c.answer("second question", conversation_id=s1["conversation_id"])
        # The second answer saw the first exchange as context.
        self.assertIn("user: first question", t2)
        self.assertIn("assistant: ", t2)
        self.assertIn("user: second question", t2)
        regen = c.rpc("chat.regenerate", {"message_id": s2["message_id"]})
        self.assertEqual(regen["user_message_id"], s2["user_message_id"])
        self.assertNotEqual(regen["message_id"], s2["message_id"])
        c.stream(regen["message_id"])
        # Edit & resend: a new user message under the first answer, beside "second question".
        edit, t3, _ = c.answer("second, edited", conversation_id=s1["conversation_id"], parent_id=s1["message_id"])
        self.assertIn("user: second, edited", t3)
        self.assertNotIn("second question", t3)
        conv = c.rpc("conversations.get", {"id": s1["conversation_id"]})
        by_parent = {}
        for m in conv["messages"]:
            by_parent.setdefault(m["parent_id"], []).append(m["id"])
        self.assertEqual(sorted(by_parent[s2["user_message_id"]]), sorted([s2["message_id"], regen["message_id"]]))
        self.assertEqual(sorted(by_parent[s1["message_id"]]), sorted([s2["user_message_id"], edit["user_message_id"]]))
        self.assertEqual(conv["current_leaf_id"], edit["message_id"])
        # parent_id 0 edits the first question: a second root with a context of its own.
        root, t4, _ = c.answer("first, edited", conversation_id=s1["conversation_id"], parent_id=0)
        self.assertEqual(t4, "user: first, edited")
        roots = [m["id"] for m in c.rpc("conversations.get", {"id": s1["conversation_id"]})["messages"]
                 if m["parent_id"] is None]
        self.assertEqual(roots, [s1["user_message_id"], root["user_message_id"]])

    def test_context_is_trimmed_to_the_model_budget(self):
        key, _ = self.add_key("ok", tokens=2)
        self.chatd.ctl("call", "admin.models.set", json.dumps({"id": "gpt-4o-mini", "max_messages": 3}))
        c = self.chatd.client()
        c.register("gina")
        s, _, _ = c.answer("q1")
        for i in range(2, 5):
            s, text, _ = c.answer(f"q{i}", conversation_id=s["conversation_id"])
        sent = self.fake.last_body(key)["messages"]
        self.assertEqual([m["role"] for m in sent], ["user", "assistant", "user"])
        self.assertEqual((sent[0]["content"], sent[2]["content"]), ("q3", "q4"))
        self.chatd.ctl("call", "admin.models.set", json.dumps({"id": "gpt-4o-mini", "max_messages": 20,
                                                               "max_context_chars": 100}))
        c.answer("x" * 95, conversation_id=s["conversation_id"])
        sent = self.fake.last_body(key)["messages"]
        self.assertEqual([m["content"] for m in sent], ["x" * 95])

    def test_history_list_rename_pin_delete_search(self):
        self.add_key("ok", tokens=2)
        c = self.chatd.client()
        c.register("hank")
        ids = []
        for q in ["alpha apples", "beta bananas", "gamma grapes"]:
            s, _, _ = c.answer(q)
            ids.append(s["conversation_id"])
            time.sleep(1.05)  # distinct updated_at seconds
        page = c.rpc("conversations.list", {"limit": 2})
        self.assertEqual([i["id"] for i in page["items"]], [ids[2], ids[1]])
        self.assertIsNotNone(page["next_cursor"])
        page2 = c.rpc("conversations.list", {"limit": 2, "cursor": page["next_cursor"]})
        self.assertEqual([i["id"] for i in page2["items"]], [ids[0]])
        self.assertIsNone(page2["next_cursor"])
        c.rpc("conversations.pin", {"id": ids[0], "pinned": True})
        self.assertEqual(c.rpc("conversations.list")["items"][0]["id"], ids[0])
        c.rpc("conversations.rename", {"id": ids[1], "title": "Fruit talk"})
        self.assertEqual(c.rpc("conversations.get", {"id": ids[1]})["title"], "Fruit talk")
        self.assertEqual([i["id"] for i in c.rpc("conversations.list", {"query": "grapes"})["items"]], [ids[2]])
        c.rpc("conversations.delete", {"id": ids[2]})
        self.assertNotIn(ids[2], [i["id"] for i in c.rpc("conversations.list")["items"]])
        with self.assertRaises(RpcError) as e:
            c.rpc("conversations.get", {"id": ids[2]})
        self.assertEqual(e.exception.reason, "not_found")

    def test_another_users_message_and_conversation_are_hidden(self):
        self.add_key("ok", tokens=2)
        a, b = self.chatd.client(), self.chatd.client()
        a.register("ivy")
        b.register("jack")
        s, _, _ = a.answer("private")
        self.assertEqual(b.stream(s["message_id"])[0], 404)
        for method, params in [("conversations.get", {"id": s["conversation_id"]}),
                               ("chat.stop", {"message_id": s["message_id"]}),
                               ("chat.regenerate", {"message_id": s["message_id"]}),
                               ("chat.send", {"content": "x", "conversation_id": s["conversation_id"]})]:
            with self.assertRaises(RpcError) as e:
                b.rpc(method, params)
            self.assertEqual(e.exception.reason, "not_found", method)
        anon = self.chatd.client()
        self.assertEqual(anon.stream(s["message_id"])[0], 401)

    def test_failover_past_an_invalid_key(self):
        bad, bad_id = self.add_key("invalid")
        good, good_id = self.add_key("ok", tokens=3)
        c = self.chatd.client()
        c.register("kate")
        for _ in range(3):
            _, text, final = c.answer("hi")
            self.assertEqual(final[0], "done")
            self.assertEqual(len(text.split()), 3)
        keys = {k["id"]: k for k in self.chatd.ctl_json("keys", "list")["items"]}
        self.assertEqual(keys[bad_id]["status"], "invalid")
        self.assertIn("invalid_api_key", keys[bad_id]["reason"])
        self.assertEqual(keys[good_id]["status"], "active")
        self.assertEqual(self.fake.requests_for(bad), 1)  # evicted after one failure
        self.assertEqual(self.fake.requests_for(good), 3)
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 7)

    def test_mid_stream_drop_fails_keeps_partial_text_and_refunds(self):
        self.add_key("drop", after=3)
        c = self.chatd.client()
        c.register("liam")
        sent, text, final = c.answer("drop me")
        self.assertEqual(final[0], "error")
        err = json.loads(final[2])
        self.assertEqual(err["reason"], "upstream_interrupted")
        self.assertTrue(err["refunded"])
        self.assertEqual(len(text.split()), 3)
        conv = c.rpc("conversations.get", {"id": sent["conversation_id"]})
        answer = [m for m in conv["messages"] if m["id"] == sent["message_id"]][0]
        self.assertEqual(answer["status"], "failed")
        self.assertEqual(answer["content"], text)
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 10)

    def test_all_keys_failing_refunds_and_no_key_is_refused_before_charging(self):
        c = self.chatd.client()
        c.register("mia")
        with self.assertRaises(RpcError) as e:
            c.ask("anyone?")
        self.assertEqual(e.exception.reason, "no_upstream")
        self.add_key("error", status=503)
        sent, _, final = c.answer("anyone?")
        self.assertEqual(final[0], "error")
        self.assertEqual(json.loads(final[2])["reason"], "upstream_unavailable")
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 10)
        # With no model on offer the question is refused up front, too.
        self.chatd.ctl("models", "rm", "gpt-4o-mini")
        self.assertEqual(c.rpc("site.info")["models"], [])
        with self.assertRaises(RpcError) as e:
            c.ask("no models?")
        self.assertEqual(e.exception.reason, "no_upstream")
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 10)

    def test_answers_in_flight_limit_and_insufficient_credits(self):
        self.add_key("ok", tokens=50, delay=40)
        c = self.chatd.client()
        c.register("noah")
        a = c.ask("one")
        b = c.ask("two")
        with self.assertRaises(RpcError) as e:
            c.ask("three")
        self.assertEqual(e.exception.reason, "busy")
        for s in (a, b):
            c.rpc("chat.stop", {"message_id": s["message_id"]})
            c.stream(s["message_id"])
        db = self.db()
        uid = c.rpc("me.get")["id"]
        # Spend the rest of the trial credits through the ledger-keeping path.
        remaining = c.rpc("me.get")["balance"]["trial"]
        self.chatd.ctl("call", "admin.models.set", json.dumps({"id": "gpt-4o-mini", "cost": remaining + 1}))
        with self.assertRaises(RpcError) as e:
            c.ask("too expensive")
        self.assertEqual(e.exception.reason, "insufficient_credits")
        self.assertEqual(e.exception.code, -32010)
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], remaining)
        total = db.execute("SELECT sum(delta_trial) FROM ledger WHERE user_id=?", (uid,)).fetchone()[0]
        self.assertEqual(total, remaining)

    def test_many_concurrent_questions_from_many_users(self):
        self.add_key("ok", tokens=10, delay=10)
        users = [self.chatd.client() for _ in range(10)]
        for i, u in enumerate(users):
            u.register(f"user{i:02d}")
        results, errors = [], []

        def run(u):
            try:
                for _ in range(2):
                    _, text, final = u.answer("concurrent")
                    results.append((final[0], len(text.split())))
            except Exception as e:  # noqa: BLE001 - collected and asserted below
                errors.append(e)
        threads = [threading.Thread(target=run, args=(u,)) for u in users]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(results, [("done", 10)] * 20)
        self.assertTrue(self.chatd.ctl_json("status")["ledger_consistent"])


class ContentTest(ChatdTestCase):
    def test_sensitive_words_refuse_questions_and_mask_answers(self):
        self.add_key("ok", tokens=6)
        self.chatd.ctl("settings", "set", "content.sensitive_words", "-", input="敏感词\nBROWN fox\n")
        c = self.chatd.client()
        c.register("censor")
        with self.assertRaises(RpcError) as e:
            c.ask("这里有敏感词吗")
        self.assertEqual((e.exception.reason, e.exception.code), ("content_blocked", -32030))
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 10)
        self.assertEqual(c.rpc("conversations.list")["items"], [])
        sent, text, final = c.answer("tell me about foxes")
        self.assertEqual(text, "The quick ********* jumps over ")
        self.assertEqual(final[0], "done")
        conv = c.rpc("conversations.get", {"id": sent["conversation_id"]})
        self.assertEqual(conv["messages"][-1]["content"], text)
        # Emptying the list lifts the filter at once.
        self.chatd.ctl("settings", "set", "content.sensitive_words", "")
        self.assertEqual(c.answer("again")[1], "The quick brown fox jumps over ")

    def test_roles_and_presets(self):
        key, _ = self.add_key("ok", tokens=2)
        c = self.chatd.client()
        roles = c.rpc("roles.list")["items"]
        self.assertGreaterEqual(len(roles), 1)
        self.assertNotIn("prompt", roles[0])  # the prompt stays on the server
        self.assertTrue(c.rpc("presets.list")["items"])
        made = self.chatd.ctl_json("roles", "set", "--name", "Pirate", "--description", "arr", "--prompt", "-",
                                   input="Talk like a pirate.")
        self.assertIn("Pirate", self.chatd.ctl("roles", "list").stdout)
        c.register("sailor")
        s, _, _ = c.answer("hello", role_id=made["id"])
        body = self.fake.last_body(key)
        self.assertEqual(body["messages"][0], {"role": "system", "content": "Talk like a pirate."})
        c.answer("and then?", conversation_id=s["conversation_id"])
        self.assertEqual(self.fake.last_body(key)["messages"][0]["content"], "Talk like a pirate.")
        self.assertEqual(c.rpc("conversations.get", {"id": s["conversation_id"]})["role_id"], made["id"])
        self.chatd.ctl("roles", "set", "--id", str(made["id"]), "--disable")
        self.assertNotIn(made["id"], [r["id"] for r in c.rpc("roles.list")["items"]])
        with self.assertRaises(RpcError) as e:
            c.ask("hi", role_id=made["id"])
        self.assertEqual(e.exception.reason, "invalid_params")
        # A custom system prompt only when the operator allows it.
        with self.assertRaises(RpcError) as e:
            c.ask("hi", system_prompt="be brief")
        self.assertEqual(e.exception.reason, "forbidden")
        self.chatd.ctl("settings", "set", "chat.allow_custom_system_prompt", "on")
        self.assertTrue(c.rpc("site.info")["allow_custom_system_prompt"])
        c.answer("hi", system_prompt="be brief")
        self.assertEqual(self.fake.last_body(key)["messages"][0], {"role": "system", "content": "be brief"})
        p = self.chatd.ctl_json("presets", "add", "What is 2+2?", "0")
        self.assertEqual(c.rpc("presets.list")["items"][0], {"id": p["id"], "text": "What is 2+2?"})
        self.chatd.ctl("presets", "rm", str(p["id"]))
        self.assertNotIn(p["id"], [x["id"] for x in c.rpc("presets.list")["items"]])


def deltas_of(events):
    return [json.loads(d)["text"] for e, _, d in events if e == "delta"]


class StreamFlushTest(ChatdTestCase):
    """A live stream gathers text that comes faster than stream_flush_ms into one write."""
    chatd_args = ("--stream_flush_ms", "200")

    def test_fast_text_is_gathered_and_the_first_goes_at_once(self):
        # first_delay: the stream is open before the first token, however slow the build.
        self.add_key("ok", tokens=20, delay=20, first_delay=1000)
        c = self.chatd.client()
        c.register("alice")
        sent = c.ask("hello")
        live = deltas_of(c.stream(sent["message_id"]))
        # 20 tokens over 400 ms: the first on its own, then at most one write per 200 ms.
        self.assertEqual(len(live[0].split()), 1)
        self.assertLessEqual(len(live), 5)
        self.assertEqual(len("".join(live).split()), 20)


class StreamEachPieceTest(ChatdTestCase):
    chatd_args = ("--stream_flush_ms", "0")

    def test_zero_writes_each_piece_as_it_comes(self):
        self.add_key("ok", tokens=20, delay=20)
        c = self.chatd.client()
        c.register("alice")
        sent = c.ask("hello")
        live = deltas_of(c.stream(sent["message_id"]))
        self.assertEqual(len("".join(live).split()), 20)
        self.assertGreaterEqual(len(live), 12)


if __name__ == "__main__":
    main()
