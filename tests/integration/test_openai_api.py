"""The OpenAI-compatible API (CONTRACT §13) against a real chatd, driven by the official `openai`
npm package (tests/integration/openai_client/, installed by `make test`): personal keys, models,
completions streamed and not, reasoning, each error class, charging and refunds seen through
me.get, keys stored hashed only, CORS for browser clients, the operator's view."""
import hashlib
import http.client
import json
import os
import subprocess

from harness import ChatdTestCase, RpcError, main, wait_for

CLIENT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "openai_client")


class OpenAIApiTest(ChatdTestCase):
    def setUp(self):
        super().setUp()
        self.assertTrue(os.path.isdir(os.path.join(CLIENT_DIR, "node_modules", "openai")),
                        "run `npm ci` in tests/integration/openai_client (make test does)")
        self.base_url = f"http://127.0.0.1:{self.chatd.port}/v1"

    def sdk(self, key, op, request=None):
        """What the openai package returns for one call, or {"error": {...}} for an APIError."""
        spec = json.dumps({"op": op, "request": request})
        r = subprocess.run(["node", "client.mjs", self.base_url, key, spec], cwd=CLIENT_DIR,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def chat(self, key, **request):
        request.setdefault("model", "gpt-4o-mini")
        request.setdefault("messages", [{"role": "user", "content": "hello"}])
        return self.sdk(key, "chat", request)

    def user_with_key(self, name="power", key_name="laptop"):
        c = self.chatd.client()
        uid = c.register(name)["id"]
        made = c.rpc("me.apikeys.create", {"name": key_name})
        return c, uid, made

    def trial(self, c):
        return c.rpc("me.get")["balance"]["trial"]

    def raw(self, method, path, key=None, body=None, headers=None):
        h = dict(headers or {})
        if key:
            h["Authorization"] = "Bearer " + key
        if body is not None:
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        conn = http.client.HTTPConnection("127.0.0.1", self.chatd.port, timeout=30)
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data

    def test_keys_are_made_listed_used_and_revoked_and_stored_hashed(self):
        self.add_key("ok")
        c, uid, made = self.user_with_key()
        key = made["key"]
        self.assertRegex(key, r"^sk-chatd-[0-9A-Za-z]{32,}$")
        items = c.rpc("me.apikeys.list")["items"]
        self.assertEqual(len(items), 1)
        self.assertEqual((items[0]["id"], items[0]["name"], items[0]["last_used_at"]), (made["id"], "laptop", None))
        self.assertEqual(items[0]["masked"], key[:13] + "…" + key[-4:])
        self.assertNotIn(key, json.dumps(items))

        self.assertIn("gpt-4o-mini", self.sdk(key, "models")["ids"])
        self.assertIsInstance(c.rpc("me.apikeys.list")["items"][0]["last_used_at"], int)

        # The operator sees the keys masked, never whole; and the user's switch.
        show = self.chatd.ctl_json("users", "show", str(uid))
        self.assertTrue(show["api_enabled"])
        self.assertEqual([k["masked"] for k in show["api_keys"]], [items[0]["masked"]])
        text = self.chatd.ctl("users", "show", str(uid)).stdout
        self.assertIn(items[0]["masked"], text)
        self.assertNotIn(key, text)

        # Only the key's SHA-256 is in the database, never the key.
        db = self.db()
        stored = db.execute("SELECT key_hash FROM user_api_keys WHERE id = ?", (made["id"],)).fetchone()[0]
        self.assertEqual(stored, hashlib.sha256(key.encode()).hexdigest())
        if self.chatd.postgres_url:
            dump = json.dumps(db.execute("SELECT * FROM user_api_keys").fetchall())
            self.assertNotIn(key[9:], dump)
        else:
            db.close()
            for name in os.listdir(self.chatd.data_dir):
                if name.startswith("chatd.db"):
                    with open(os.path.join(self.chatd.data_dir, name), "rb") as f:
                        self.assertNotIn(key[9:].encode(), f.read(), name)
        self.assertNotIn(key, self.chatd.log_text())

        c.rpc("me.apikeys.revoke", {"id": made["id"]})
        self.assertEqual(c.rpc("me.apikeys.list")["items"], [])
        err = self.sdk(key, "models")["error"]
        self.assertEqual((err["status"], err["code"]), (401, "invalid_api_key"))
        # Another user cannot revoke someone's key.
        other = self.chatd.client()
        other.register("other")
        second = c.rpc("me.apikeys.create", {"name": "  phone  "})
        with self.assertRaises(RpcError) as e:
            other.rpc("me.apikeys.revoke", {"id": second["id"]})
        self.assertEqual(e.exception.reason, "not_found")
        self.assertEqual(c.rpc("me.apikeys.list")["items"][0]["name"], "phone")

    def test_at_most_ten_live_keys_and_names_are_checked(self):
        c, _, _ = self.user_with_key()
        for i in range(9):
            c.rpc("me.apikeys.create", {"name": f"key {i}"})
        with self.assertRaises(RpcError) as e:
            c.rpc("me.apikeys.create", {"name": "eleventh"})
        self.assertEqual(e.exception.reason, "invalid_params")
        self.assertIn("10", str(e.exception))
        for bad in ("", "   ", "x" * 65):
            with self.assertRaises(RpcError) as e:
                c.rpc("me.apikeys.create", {"name": bad})
            self.assertEqual(e.exception.reason, "invalid_params")
        first = c.rpc("me.apikeys.list")["items"][0]["id"]
        c.rpc("me.apikeys.revoke", {"id": first})
        self.assertEqual(len(c.rpc("me.apikeys.create", {"name": "x" * 64})["key"]), len("sk-chatd-") + 40)

    def test_completions_whole_and_streamed_are_charged_like_questions(self):
        upstream_key, _ = self.add_key("echo")
        c, uid, made = self.user_with_key()
        key = made["key"]
        self.assertEqual(self.trial(c), 10)
        history = [{"role": "system", "content": "be brief"},
                   {"role": "user", "content": "first question"},
                   {"role": "assistant", "content": "first answer"},
                   {"role": "user", "content": [{"type": "text", "text": "second question"}]}]
        whole = self.chat(key, messages=history)
        self.assertEqual(whole["object"], "chat.completion")
        self.assertTrue(whole["id"].startswith("chatcmpl-"))
        self.assertEqual(whole["model"], "gpt-4o-mini")
        choice = whole["choices"][0]
        self.assertEqual((choice["index"], choice["message"]["role"], choice["finish_reason"]), (0, "assistant", "stop"))
        # The client's history is the context, as it sent it (echo answers with the transcript).
        for line in ("system: be brief", "user: first question", "assistant: first answer", "user: second question"):
            self.assertIn(line, choice["message"]["content"])
        sent = self.fake.last_body(upstream_key)["messages"]
        self.assertEqual([m["role"] for m in sent], ["system", "user", "assistant", "user"])
        usage = whole["usage"]
        self.assertGreater(usage["completion_tokens"], 0)
        self.assertEqual(usage["total_tokens"], usage["prompt_tokens"] + usage["completion_tokens"])
        self.assertEqual(self.trial(c), 9)

        streamed = self.chat(key, stream=True, stream_options={"include_usage": True})["chunks"]
        self.assertTrue(all(ch["object"] == "chat.completion.chunk" for ch in streamed))
        self.assertEqual(len({ch["id"] for ch in streamed}), 1)
        text = "".join(ch["choices"][0]["delta"].get("content") or "" for ch in streamed if ch["choices"])
        self.assertIn("user: hello", text)
        finishes = [ch["choices"][0]["finish_reason"] for ch in streamed if ch["choices"]]
        self.assertEqual(finishes[-1], "stop")
        self.assertEqual(streamed[-1]["choices"], [])
        self.assertGreater(streamed[-1]["usage"]["completion_tokens"], 0)
        self.assertEqual(self.trial(c), 8)
        # Without include_usage no usage chunk comes.
        plain = self.chat(key, stream=True)["chunks"]
        self.assertTrue(all(ch["choices"] for ch in plain))
        self.assertEqual(self.trial(c), 7)

        # The web history leaves them out unless the user chooses to see them there.
        self.assertEqual(c.rpc("conversations.list")["items"], [])
        self.assertFalse(c.rpc("me.get")["show_api_history"])
        self.assertTrue(c.rpc("me.update", {"show_api_history": True})["show_api_history"])
        shown = c.rpc("conversations.list")["items"]
        self.assertEqual(len(shown), 3)
        self.assertTrue(all(i["source"] == "api" and i["api_key_name"] == "laptop" for i in shown))
        self.assertEqual(len(c.rpc("conversations.get", {"id": shown[0]["id"]})["messages"]), 2)
        c.rpc("me.update", {"show_api_history": False})
        self.assertEqual(c.rpc("conversations.list")["items"], [])
        # The operator's logs mark them with the key's name.
        logs = self.chatd.ctl_json("logs", "--user", str(uid))["items"]
        self.assertEqual(len(logs), 3)
        self.assertTrue(all(l["source"] == "api" and l["api_key_name"] == "laptop" for l in logs))
        # Counted in the dashboard.
        today = self.chatd.ctl_json("stats", "--days", "1")["days"][-1]
        self.assertEqual((today["questions"], today["api_questions"]), (3, 3))
        # A web question and an API one count against the same per-user limits.
        self.chatd.ctl("settings", "set", "limits.questions_per_minute", "4")
        c.ask("from the web")
        err = self.chat(key)["error"]
        self.assertEqual((err["status"], err["code"]), (429, "rate_limit_exceeded"))

    def test_an_answer_cut_at_max_tokens_finishes_with_length(self):
        upstream_key, _ = self.add_key("ok", tokens=12)
        c, _, made = self.user_with_key()
        whole = self.chat(made["key"], max_tokens=3)
        self.assertEqual(self.fake.last_body(upstream_key)["max_tokens"], 3)
        self.assertEqual(whole["choices"][0]["finish_reason"], "length")
        self.assertEqual(whole["choices"][0]["message"]["content"], "The quick brown ")  # the fake's first three tokens
        streamed = self.chat(made["key"], stream=True, max_tokens=3)["chunks"]
        self.assertEqual([ch["choices"][0]["finish_reason"] for ch in streamed][-1], "length")
        # Under the cap the answer ends as usual.
        self.assertEqual(self.chat(made["key"], max_tokens=20)["choices"][0]["finish_reason"], "stop")
        self.assertEqual(self.trial(c), 7)

    def test_reasoning_comes_as_reasoning_content(self):
        self.add_key("reasoning", think_tokens=3, tokens=2)
        _, _, made = self.user_with_key()
        chunks = self.chat(made["key"], stream=True)["chunks"]
        reasoning = "".join(ch["choices"][0]["delta"].get("reasoning_content") or "" for ch in chunks if ch["choices"])
        answer = "".join(ch["choices"][0]["delta"].get("content") or "" for ch in chunks if ch["choices"])
        self.assertEqual(reasoning, "think1 think2 think3")
        self.assertEqual(answer, "The quick ")
        first_reasoning = next(i for i, ch in enumerate(chunks) if ch["choices"][0]["delta"].get("reasoning_content"))
        first_answer = next(i for i, ch in enumerate(chunks) if ch["choices"][0]["delta"].get("content"))
        self.assertLess(first_reasoning, first_answer)
        whole = self.chat(made["key"])
        self.assertEqual(whole["choices"][0]["message"]["reasoning_content"], "think1 think2 think3")
        self.assertEqual(whole["choices"][0]["message"]["content"], "The quick ")

    def test_each_error_has_openai_shape_and_status(self):
        c, uid, made = self.user_with_key()
        key = made["key"]
        err = self.chat("sk-chatd-" + "A" * 40)["error"]
        self.assertEqual((err["status"], err["code"]), (401, "invalid_api_key"))
        err = self.chat("not-a-key")["error"]
        self.assertEqual(err["status"], 401)
        # No upstream key in the pool yet.
        err = self.chat(key)["error"]
        self.assertEqual((err["status"], err["code"]), (503, "no_upstream"))
        self.assertEqual(self.trial(c), 10)
        self.add_key("ok")
        err = self.chat(key, model="no-such-model")["error"]
        self.assertEqual((err["status"], err["type"], err["code"]), (400, "invalid_request_error", "model_not_found"))
        err = self.chat(key, messages=[])["error"]
        self.assertEqual((err["status"], err["type"]), (400, "invalid_request_error"))
        err = self.chat(key, messages=[{"role": "assistant", "content": "no question"}])["error"]
        self.assertEqual(err["status"], 400)
        status, headers, body = self.raw("POST", "/v1/chat/completions", key, headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["error"]["type"], "invalid_request_error")
        self.chatd.ctl("settings", "set", "content.sensitive_words", "forbiddenword")
        err = self.chat(key, messages=[{"role": "user", "content": "say forbiddenword"}])["error"]
        self.assertEqual((err["status"], err["code"]), (400, "content_blocked"))
        self.assertEqual(self.trial(c), 10, "refused requests cost nothing")

        # 402 once the credits are gone.
        self.chatd.ctl("users", "grant", str(uid), "--questions=-10")
        err = self.chat(key)["error"]
        self.assertEqual((err["status"], err["code"]), (402, "insufficient_credits"))
        self.chatd.ctl("users", "grant", str(uid), "--questions", "5")

        # 429 for the per-user question limit (a fresh user: the refusals above counted).
        _, _, fresh = self.user_with_key("fresh")
        self.chatd.ctl("settings", "set", "limits.questions_per_minute", "1")
        self.assertEqual(self.chat(fresh["key"])["choices"][0]["finish_reason"], "stop")
        err = self.chat(fresh["key"])["error"]
        self.assertEqual((err["status"], err["code"]), (429, "rate_limit_exceeded"))
        self.chatd.ctl("settings", "set", "limits.questions_per_minute", "1000")

        # 403: the user's switch, then the site's, then a ban.
        self.chatd.ctl("users", "api", str(uid), "off")
        err = self.chat(key)["error"]
        self.assertEqual((err["status"], err["type"]), (403, "permission_error"))
        with self.assertRaises(RpcError) as e:
            c.rpc("me.apikeys.create", {"name": "another"})
        self.assertEqual(e.exception.reason, "forbidden")
        self.assertEqual(len(c.rpc("me.apikeys.list")["items"]), 1, "keys are still listed")
        self.chatd.ctl("users", "api", str(uid), "on")
        self.assertIn("gpt-4o-mini", self.sdk(key, "models")["ids"])
        self.assertTrue(c.rpc("site.info")["api_enabled"], "the web app offers API keys")
        self.chatd.ctl("settings", "set", "api.enabled", "off")
        err = self.sdk(key, "models")["error"]
        self.assertEqual((err["status"], err["type"]), (403, "permission_error"))
        self.assertFalse(c.rpc("site.info")["api_enabled"], "the web app hides API keys")
        self.chatd.ctl("settings", "set", "api.enabled", "on")
        self.chatd.ctl("users", "ban", str(uid))
        err = self.chat(key)["error"]
        self.assertEqual((err["status"], err["type"]), (403, "permission_error"))

    def test_upstream_failures_are_refunded(self):
        self.add_key("error", status=500)
        c, _, made = self.user_with_key()
        err = self.chat(made["key"])["error"]
        self.assertEqual(err["status"], 502)
        self.assertEqual(self.trial(c), 10)
        err = self.chat(made["key"], stream=True)["error"]
        self.assertIn("unavailable", err["message"])
        self.assertEqual(self.trial(c), 10)

    def test_failure_mid_stream_sends_an_error_and_refunds(self):
        self.add_key("drop", after=2, tokens=6)
        c, _, made = self.user_with_key()
        status, headers, body = self.raw("POST", "/v1/chat/completions", made["key"],
                                         {"model": "gpt-4o-mini", "stream": True,
                                          "messages": [{"role": "user", "content": "hi"}]})
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/event-stream"))
        events = [line[6:] for line in body.decode().split("\n") if line.startswith("data: ")]
        self.assertIn("error", json.loads(events[-1]))
        self.assertNotIn("[DONE]", events)
        self.assertEqual(self.trial(c), 10)
        err = self.chat(made["key"], stream=True)["error"]
        self.assertTrue(err["message"])

    def test_client_leaving_mid_stream_stops_the_answer(self):
        self.add_key("ok", tokens=200, delay=50)
        c, uid, made = self.user_with_key()
        conn = http.client.HTTPConnection("127.0.0.1", self.chatd.port, timeout=30)
        conn.request("POST", "/v1/chat/completions",
                     body=json.dumps({"model": "gpt-4o-mini", "stream": True,
                                      "messages": [{"role": "user", "content": "a long one"}]}),
                     headers={"Authorization": "Bearer " + made["key"], "Content-Type": "application/json"})
        r = conn.getresponse()
        self.assertEqual(r.status, 200)
        r.fp.readline()
        conn.close()
        db = self.db()
        status = lambda: db.execute("SELECT status FROM messages WHERE role = 'assistant'").fetchone()
        wait_for(lambda: (status() or ("",))[0] == "stopped", timeout=20, what="the answer stopped")
        self.assertEqual(self.trial(c), 9, "charged as the web's stop once text came")

    def test_cors_preflight_and_headers(self):
        self.add_key("ok")
        _, _, made = self.user_with_key()
        status, headers, body = self.raw("OPTIONS", "/v1/chat/completions", headers={
            "Origin": "https://chat.example.org", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type"})
        self.assertEqual(status, 204)
        self.assertEqual(headers["access-control-allow-origin"], "*")
        self.assertIn("Authorization", headers["access-control-allow-headers"])
        self.assertIn("POST", headers["access-control-allow-methods"])
        # A browser's POST from another origin is answered (no cookie, so no Origin check).
        status, headers, body = self.raw("POST", "/v1/chat/completions", made["key"],
                                         {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]},
                                         headers={"Origin": "https://chat.example.org"})
        self.assertEqual(status, 200, body)
        self.assertEqual(headers["access-control-allow-origin"], "*")
        status, headers, body = self.raw("GET", "/v1/models", "sk-chatd-nope")
        self.assertEqual(status, 401)
        self.assertEqual(headers["access-control-allow-origin"], "*")
        self.assertEqual(json.loads(body)["error"]["code"], "invalid_api_key")
        models = json.loads(self.raw("GET", "/v1/models", made["key"])[2])
        self.assertEqual(models["object"], "list")
        self.assertEqual(models["data"][0], {"id": "gpt-4o-mini", "object": "model",
                                             "created": models["data"][0]["created"], "owned_by": "chatd"})
        # Without a key nothing is open.
        self.assertEqual(self.raw("GET", "/v1/models")[0], 401)


if __name__ == "__main__":
    main()
