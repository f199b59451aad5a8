"""Models of 2026 (CONTRACT §10) against a real chatd: reasoning in each provider's shape,
per-model request options with a gateway that refuses stream_options, token usage and margins."""
import json
import time
import urllib.parse

from harness import ChatdTestCase, RpcError, main, read_events, wait_for


def texts(events, kind):
    return "".join(json.loads(d)["text"] for e, _, d in events if e == kind)


def kinds(events):
    """The event kinds in order, runs of one kind collapsed: e.g. ["reasoning", "delta", "done"]."""
    out = []
    for e, _, _ in events:
        if e != "comment" and (not out or out[-1] != e):
            out.append(e)
    return out


class ReasoningTest(ChatdTestCase):
    def answer_of(self, c, sent):
        conv = c.rpc("conversations.get", {"id": sent["conversation_id"]})
        return [m for m in conv["messages"] if m["id"] == sent["message_id"]][0]

    def test_each_shape_streams_reasoning_first_and_keeps_it(self):
        for behaviour in ("reasoning", "reasoning_or", "think"):
            with self.subTest(behaviour=behaviour):
                key, key_id = self.add_key(behaviour, think_tokens=6, tokens=4)
                c = self.chatd.client()
                c.register(f"user-{behaviour}")
                sent = c.ask("why is the sky blue?")
                events = [e for e in c.stream(sent["message_id"]) if e[0] != "comment"]
                self.assertEqual(kinds(events), ["reasoning", "delta", "done"])
                ids = [i for _, i, _ in events]
                self.assertEqual(ids, sorted(set(ids)), "ids increase across reasoning and deltas")
                reasoning, answer = texts(events, "reasoning"), texts(events, "delta")
                self.assertIn("think1", reasoning)
                self.assertNotIn("think", answer)
                self.assertNotIn("<", answer)
                # Ids are byte offsets into reasoning followed by answer.
                last_reasoning = [i for e, i, _ in events if e == "reasoning"][-1]
                self.assertEqual(last_reasoning, len(reasoning.encode()))
                last_delta = [i for e, i, _ in events if e == "delta"][-1]
                self.assertEqual(last_delta, len(reasoning.encode()) + len(answer.encode()))
                done = json.loads(events[-1][2])
                self.assertEqual(done["status"], "done")
                stored = self.answer_of(c, sent)
                self.assertEqual(stored["reasoning"], reasoning)
                self.assertEqual(stored["content"], answer)
                self.assertIsInstance(stored["reasoning_ms"], int)
                if behaviour == "reasoning":
                    self.assertEqual(done["usage"]["reasoning_tokens"], 6)
                # The reasoning never goes back upstream: the next question's context has the
                # answer alone, without any reasoning field.
                asked = self.fake.requests_for(key)
                c.ask("and at sunset?", conversation_id=sent["conversation_id"])
                # chat.send returns before the upstream request goes out.
                wait_for(lambda: self.fake.requests_for(key) > asked, what="the second question upstream")
                body = self.fake.last_body(key)
                assistant = [m for m in body["messages"] if m["role"] == "assistant"]
                self.assertEqual(assistant, [{"role": "assistant", "content": answer}])
                self.assertNotIn("think1", json.dumps(body))
                self.chatd.ctl("keys", "disable", str(key_id))  # the next shape gets every question

    def test_thinking_is_the_first_token_and_never_slow(self):
        self.chatd.ctl("settings", "set", "billing.free_if_slower_than", "1")
        self.add_key("reasoning", think_tokens=12, think_delay=150, tokens=3)
        c = self.chatd.client()
        c.register("patient")
        t0 = time.monotonic()
        sent = c.ask("think hard")
        conn, r = c.open_stream(sent["message_id"])
        first = read_events(r, stop_after_deltas=None)
        conn.close()
        took = time.monotonic() - t0
        self.assertGreater(took, 1.5, "the fake thought for about 1.8 s")
        done = json.loads(first[-1][2])
        self.assertFalse(done["refunded"])
        self.assertIsNone(done["free_reason"])
        self.assertEqual(done["charged"], 1)
        self.assertLess(done["latency_ms"]["first_token"], 1000)
        self.assertGreater(done["latency_ms"]["total"], 1500)
        stored = self.answer_of(c, sent)
        self.assertGreaterEqual(stored["reasoning_ms"], 1200)

    def test_resume_inside_the_reasoning_and_replay_after_the_end(self):
        self.add_key("reasoning", think_tokens=20, think_delay=40, tokens=5, delay=20)
        c = self.chatd.client()
        c.register("resumer")
        sent = c.ask("resume me")
        conn, r = c.open_stream(sent["message_id"])
        head = []
        while len([e for e in head if e[0] == "reasoning"]) < 3:
            head += [e for e in read_events(r, stop_after_events=1) if e[0] != "comment"]
        conn.close()
        self.assertTrue(all(e[0] == "reasoning" for e in head))
        rest = [e for e in c.stream(sent["message_id"], after=head[-1][1]) if e[0] != "comment"]
        self.assertEqual(rest[-1][0], "done")
        whole = [e for e in c.stream(sent["message_id"]) if e[0] != "comment"]
        self.assertEqual(kinds(whole), ["reasoning", "delta", "done"])
        self.assertEqual(texts(head, "reasoning") + texts(rest, "reasoning"), texts(whole, "reasoning"))
        self.assertEqual(texts(rest, "delta"), texts(whole, "delta"))
        # From inside the answer: only the answer's rest.
        cut = [i for e, i, _ in whole if e == "reasoning"][-1] + 3
        tail = c.stream(sent["message_id"], after=cut)
        self.assertEqual(kinds([e for e in tail if e[0] != "comment"]), ["delta", "done"])
        self.assertEqual(texts(tail, "delta"), texts(whole, "delta").encode()[3:].decode())


class ModelOptionsTest(ChatdTestCase):
    def bodies(self, key):
        status, body = self.fake.get("/_fake/bodies?key=" + urllib.parse.quote(key))
        self.assertEqual(status, 200)
        return json.loads(body)["bodies"]

    def test_a_gateway_that_refuses_stream_options_is_answered_then_remembered(self):
        key, key_id = self.add_key("nostreamopts", tokens=4)
        c = self.chatd.client()
        c.register("gateway")
        sent, text, final = c.answer("hello")
        self.assertEqual(final[0], "done", final)
        self.assertEqual(len(text.split()), 4)
        first = self.bodies(key)
        self.assertEqual(len(first), 2)
        self.assertEqual(first[0]["stream_options"], {"include_usage": True})
        self.assertNotIn("stream_options", first[1])
        # Remembered for the key, across a restart too.
        c.answer("again")
        self.assertEqual(len(self.bodies(key)), 3)
        self.assertNotIn("stream_options", self.bodies(key)[-1])
        self.chatd.stop()
        self.chatd.start()
        c = self.chatd.client()
        c.register("gateway2")
        _, _, final = c.answer("after restart")
        self.assertEqual(final[0], "done")
        self.assertEqual(len(self.bodies(key)), 4)
        self.assertNotIn("stream_options", self.bodies(key)[-1])
        # A healthy key still gets stream_options: the memory is per key.
        ok_key, _ = self.add_key("ok", tokens=2)
        self.chatd.ctl("keys", "disable", str(key_id))
        c.answer("healthy")
        self.assertEqual(self.fake.last_body(ok_key)["stream_options"], {"include_usage": True})

    def test_options_reach_the_wire(self):
        key, _ = self.add_key("ok", tokens=2)
        self.chatd.ctl("models", "set", "gpt-4o-mini", "--max-tokens", "256", "--stream-usage", "off")
        c = self.chatd.client()
        c.register("wire")
        c.answer("hi")
        body = self.fake.last_body(key)
        self.assertEqual(body["max_tokens"], 256)
        self.assertNotIn("stream_options", body)
        self.chatd.ctl("models", "set", "gpt-4o-mini", "--max-tokens", "0", "--stream-usage", "on")
        c.answer("hi again")
        body = self.fake.last_body(key)
        self.assertNotIn("max_tokens", body)
        self.assertEqual(body["stream_options"], {"include_usage": True})

    def test_stream_usage_on_does_not_retry(self):
        self.add_key("nostreamopts")
        self.chatd.ctl("models", "set", "gpt-4o-mini", "--stream-usage", "on")
        c = self.chatd.client()
        c.register("strict")
        sent = c.ask("hi")
        final = c.stream(sent["message_id"])[-1]
        self.assertEqual(final[0], "error")
        err = json.loads(final[2])
        self.assertEqual(err["reason"], "upstream_rejected")
        self.assertTrue(err["refunded"])

    def test_model_options_are_listed_validated_and_shown(self):
        out = self.chatd.ctl_json("models", "set", "r1", "--upstream-model", "deepseek-reasoner", "--vision",
                                  "--max-tokens", "8192", "--stream-usage", "auto", "--price-in", "4",
                                  "--price-out", "16.5", "--image-cost", "2")
        self.assertEqual(out["id"], "r1")
        listed = {m["id"]: m for m in self.chatd.ctl_json("models", "list")["items"]}["r1"]
        for field, value in {"vision": True, "max_tokens": 8192, "stream_usage": "auto", "price_in": 4,
                             "price_out": 16.5, "image_cost": 2}.items():
            self.assertEqual(listed[field], value, field)
        defaults = {m["id"]: m for m in self.chatd.ctl_json("models", "list")["items"]}["gpt-4o-mini"]
        self.assertEqual((defaults["vision"], defaults["max_tokens"], defaults["stream_usage"], defaults["price_in"],
                          defaults["price_out"], defaults["image_cost"]), (False, 0, "auto", 0, 0, 0))
        info = {m["id"]: m for m in self.chatd.client().rpc("site.info")["models"]}
        self.assertTrue(info["r1"]["vision"])
        self.assertFalse(info["gpt-4o-mini"]["vision"])
        for bad in ({"stream_usage": "sometimes"}, {"price_in": -1}, {"price_out": "cheap"}, {"max_tokens": -5},
                    {"image_cost": 5000}, {"vision": "yes"}):
            with self.subTest(bad=bad):
                r = self.chatd.ctl("call", "admin.models.set", json.dumps({"id": "r1", **bad}), check=False)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn("invalid_params", r.stdout + r.stderr)
        # Nothing of the refused calls landed.
        again = {m["id"]: m for m in self.chatd.ctl_json("models", "list")["items"]}["r1"]
        self.assertEqual(again, listed)
        r = self.chatd.ctl("models", "set", "r1", "--stream-usage", "maybe", check=False)
        self.assertEqual(r.returncode, 2)
        self.chatd.ctl("settings", "set", "billing.currency", "USD")
        self.chatd.ctl("settings", "set", "billing.credit_price", "0.25")
        self.assertEqual(self.chatd.ctl_json("settings", "get", "billing.credit_price")["billing.credit_price"], "0.25")
        self.assertNotEqual(self.chatd.ctl("settings", "set", "billing.currency", "dollars", check=False).returncode, 0)


class UsageTest(ChatdTestCase):
    def model_stats(self):
        return {m["model"]: m for m in self.chatd.ctl_json("stats", "--models")["items"]}

    def test_cost_and_revenue_per_model_and_day(self):
        self.add_key("ok", tokens=5)
        self.chatd.ctl("models", "set", "gpt-4o-mini", "--price-in", "2", "--price-out", "8")
        self.chatd.ctl("settings", "set", "billing.credit_price", "0.5")
        c = self.chatd.client()
        c.register("payer")
        dones = []
        for q in ("one", "two"):
            _, _, final = c.answer(q)
            self.assertEqual(final[0], "done")
            dones.append(json.loads(final[2]))
        prompt = sum(d["usage"]["prompt_tokens"] for d in dones)
        completion = sum(d["usage"]["completion_tokens"] for d in dones)
        self.assertGreater(prompt, 0)
        self.assertGreater(completion, 0)
        self.assertNotIn("estimated", dones[0]["usage"])
        m = self.model_stats()["gpt-4o-mini"]
        self.assertEqual(m["questions"], 2)
        self.assertEqual((m["prompt_tokens"], m["completion_tokens"]), (prompt, completion))
        self.assertAlmostEqual(m["upstream_cost"], (prompt * 2 + completion * 8) / 1e6, places=9)
        self.assertEqual(m["credits"], 2)
        self.assertAlmostEqual(m["revenue"], 1.0)
        today = self.chatd.ctl_json("stats", "--days", "1")
        self.assertEqual(today["currency"], "CNY")
        day = today["days"][-1]
        self.assertEqual((day["prompt_tokens"], day["completion_tokens"]), (prompt, completion))
        self.assertAlmostEqual(day["upstream_cost"], m["upstream_cost"], places=9)
        self.assertAlmostEqual(day["revenue"], 1.0)
        # The table an operator reads names the model and its margin.
        table = self.chatd.ctl("stats", "--models").stdout
        self.assertIn("gpt-4o-mini", table)
        self.assertIn("MARGIN", table)
        self.assertIn("amounts in CNY", table)

    def test_refunded_answers_earn_nothing_and_missing_usage_is_estimated(self):
        self.add_key("error", status=503)
        c = self.chatd.client()
        c.register("unlucky")
        sent = c.ask("fails")
        self.assertEqual(c.stream(sent["message_id"])[-1][0], "error")
        m = self.model_stats()["gpt-4o-mini"]
        self.assertEqual((m["questions"], m["credits"], m["revenue"]), (1, 0, 0))
        self.assertEqual((m["prompt_tokens"], m["completion_tokens"]), (0, 0))

        self.chatd.ctl("keys", "disable", "1")
        self.add_key("ok", tokens=8)
        self.chatd.ctl("models", "set", "gpt-4o-mini", "--stream-usage", "off", "--price-out", "1000000")
        _, text, final = c.answer("count for me")
        usage = json.loads(final[2])["usage"]
        self.assertTrue(usage["estimated"])
        self.assertGreater(usage["prompt_tokens"], 0)
        self.assertGreaterEqual(usage["completion_tokens"], len(text.split()))
        m = self.model_stats()["gpt-4o-mini"]
        self.assertEqual(m["questions"], 2)
        self.assertEqual(m["completion_tokens"], usage["completion_tokens"])
        self.assertAlmostEqual(m["upstream_cost"], float(usage["completion_tokens"]))


if __name__ == "__main__":
    main()
