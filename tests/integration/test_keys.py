"""The key pool under faults: eviction, cooling, retries to distinct keys, re-verification,
provider balances and per-model pools, against the fake upstream."""
import json

from harness import ChatdTestCase, RpcError, main


class KeysTest(ChatdTestCase):
    def keys(self):
        return {k["id"]: k for k in self.chatd.ctl_json("keys", "list")["items"]}

    def test_each_failure_class_and_the_answer_still_arrives(self):
        cases = [("invalid", {}, "invalid"), ("deactivated", {}, "invalid"), ("quota", {}, "invalid"),
                 ("ratelimit", {"retry_after": 120}, "cooling"), ("error", {"status": 502}, "active")]
        c = self.chatd.client()
        c.register("asker")
        for behaviour, opts, expected in cases:
            with self.subTest(behaviour=behaviour):
                for kid in list(self.keys()):
                    self.chatd.ctl("keys", "rm", str(kid))
                bad, bad_id = self.add_key(behaviour, **opts)
                good, good_id = self.add_key("ok", tokens=2)
                before = c.rpc("me.get")["balance"]["trial"]
                # Round-robin may start at either key: ask twice so the bad one is tried.
                for _ in range(2):
                    _, text, final = c.answer("hello")
                    self.assertEqual((final[0], len(text.split())), ("done", 2))
                k = self.keys()
                self.assertEqual(k[bad_id]["status"], expected)
                self.assertEqual(k[good_id]["status"], "active")
                # Taken out after one failure; a key still active may simply come round again.
                self.assertIn(self.fake.requests_for(bad), (1, 2) if expected == "active" else (1,))
                self.assertEqual(c.rpc("me.get")["balance"]["trial"], before - 2)  # charged once each
                if expected == "cooling":
                    self.assertGreater(k[bad_id]["cooldown_until"], 0)

    def test_retries_go_to_distinct_keys_up_to_max_attempts(self):
        bad = [self.add_key("error", status=503)[0] for _ in range(4)]
        c = self.chatd.client()
        c.register("retrier")
        _, _, final = c.answer("anyone?")
        self.assertEqual(json.loads(final[2])["reason"], "upstream_unavailable")
        tried = sorted(self.fake.requests_for(k) for k in bad)
        self.assertEqual(tried, [0, 1, 1, 1])  # upstream.max_attempts = 3, each key once
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 10)

    def test_request_faults_are_refunded_without_retry(self):
        bad, bad_id = self.add_key("badrequest")
        other, _ = self.add_key("ok", tokens=2)
        c = self.chatd.client()
        c.register("rejected")
        for _ in range(2):
            _, _, final = c.answer("too long")
            if final[0] == "error":
                break
        err = json.loads(final[2])
        self.assertEqual((err["reason"], err["refunded"]), ("upstream_rejected", True))
        self.assertIn("maximum context length", err["message"])
        self.assertEqual(self.keys()[bad_id]["status"], "active")  # the key is fine

    def test_three_transient_failures_in_a_row_cool_a_key(self):
        _, kid = self.add_key("error", status=500)
        c = self.chatd.client()
        c.register("unlucky")
        for _ in range(3):
            self.assertEqual(c.answer("x")[2][0], "error")
        self.assertEqual(self.keys()[kid]["status"], "cooling")
        with self.assertRaises(RpcError) as e:
            c.ask("x")
        self.assertEqual(e.exception.reason, "no_upstream")
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 10)

    def test_reverification_brings_a_fixed_key_back(self):
        key, kid = self.add_key("ok", tokens=2, fail_first=1)
        c = self.chatd.client()
        c.register("waiting")
        self.assertEqual(c.answer("x")[2][0], "error")  # its only key is refused and evicted
        self.assertEqual(self.keys()[kid]["status"], "invalid")
        tested = self.chatd.ctl_json("keys", "test")["items"]
        self.assertEqual(tested, [{"id": kid, "ok": True, "status": "active"}])
        self.assertEqual(c.answer("again")[2][0], "done")
        still_bad, bad_id = self.add_key("invalid")
        # A failing key makes `keys test` exit 1, --json or not.
        r = self.chatd.ctl("--json", "keys", "test", str(bad_id), check=False)
        self.assertEqual(r.returncode, 1, r.stderr)
        out = json.loads(r.stdout)["items"][0]
        self.assertEqual((out["ok"], out["status"]), (False, "invalid"))
        self.assertIn("invalid_api_key", out["reason"])
        self.assertIn("works", self.chatd.ctl("keys", "test", str(kid)).stdout)
        from harness import wait_for
        history = wait_for(lambda: self.chatd.ctl_json("keys", "history", str(kid))["items"] or None,
                           what="the key's status history")
        wait_for(lambda: len(self.chatd.ctl_json("keys", "history", str(kid))["items"]) >= 2, what="two events")
        history = self.chatd.ctl_json("keys", "history", str(kid))["items"]
        self.assertEqual([e["status"] for e in history[:2]], ["active", "invalid"])
        self.assertIn("invalid_api_key", history[1]["reason"])
        # A disabled key stays disabled even when it tests fine.
        self.chatd.ctl("keys", "disable", str(kid))
        self.chatd.ctl("keys", "test", str(kid))
        self.assertEqual(self.keys()[kid]["status"], "disabled")

    def test_provider_balances_never_evict(self):
        ids = {}
        for provider in ["deepseek", "openrouter", "siliconflow", "moonshot", "openai"]:
            k = self.key("ok", balance=17)
            ids[provider] = self.chatd.ctl_json("keys", "add", "--base-url", self.fake.base_url, "--provider",
                                                provider, "-", input=k + "\n")["ids"][0]
        junk = self.key("malformed")
        junk_id = self.chatd.ctl_json("keys", "add", "--base-url", self.fake.base_url, "--provider", "deepseek",
                                      "-", input=junk + "\n")["ids"][0]
        got = {b["id"]: b for b in self.chatd.ctl_json("keys", "balance")["items"]}
        for provider in ["deepseek", "siliconflow", "moonshot"]:
            self.assertEqual((got[ids[provider]]["balance"], got[ids[provider]]["currency"]), (17, "CNY"), provider)
        self.assertEqual((got[ids["openrouter"]]["balance"], got[ids["openrouter"]]["currency"]), (17, "USD"))
        self.assertIn("not available", got[ids["openai"]]["error"])
        self.assertIn("not a balance", got[junk_id]["error"])
        self.assertEqual(self.keys()[junk_id]["status"], "active")
        one = self.chatd.ctl_json("keys", "balance", str(ids["moonshot"]))["items"]
        self.assertEqual([b["id"] for b in one], [ids["moonshot"]])

    def test_per_model_pools(self):
        a = self.key("ok", tokens=1)
        b = self.key("ok", tokens=1)
        self.chatd.ctl("keys", "add", "--base-url", self.fake.base_url, "--models", "gpt-4o-mini", "-", input=a + "\n")
        self.chatd.ctl("keys", "add", "--base-url", self.fake.base_url, "--models", "deepseek-chat", "-", input=b + "\n")
        self.chatd.ctl("models", "set", "deepseek-chat", "--name", "DeepSeek")
        c = self.chatd.client()
        c.register("picker")
        for _ in range(3):
            c.answer("x", model="deepseek-chat")
        for _ in range(2):
            c.answer("y", model="gpt-4o-mini")
        self.assertEqual((self.fake.requests_for(a), self.fake.requests_for(b)), (2, 3))
        self.assertEqual(self.fake.last_body(b)["model"], "deepseek-chat")

    def test_upstream_through_a_connect_proxy(self):
        import select
        import socket
        import threading
        from harness import Chatd
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        tunnels = []

        def relay(a, b):
            try:
                while True:
                    ready, _, _ = select.select([a, b], [], [], 10)
                    if not ready:
                        return
                    for s in ready:
                        data = s.recv(65536)
                        if not data:
                            return
                        (b if s is a else a).sendall(data)
            except OSError:
                return
            finally:
                a.close()
                b.close()

        def serve():
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                line = head.split(b"\r\n")[0].decode()
                method, target, _ = line.split(" ", 2)
                if method != "CONNECT":
                    conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
                    conn.close()
                    continue
                tunnels.append(target)
                host, port = target.rsplit(":", 1)
                upstream = socket.create_connection((host, int(port)))
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                threading.Thread(target=relay, args=(conn, upstream), daemon=True).start()
        threading.Thread(target=serve, daemon=True).start()
        try:
            self.chatd.stop()
            self.chatd = Chatd(self.workdir, args=["--upstream.proxy", f"http://127.0.0.1:{listener.getsockname()[1]}"]).start()
            self.add_key("ok", tokens=3)
            c = self.chatd.client()
            c.register("proxied")
            _, text, final = c.answer("through the proxy")
            self.assertEqual((final[0], len(text.split())), ("done", 3))
            self.assertIn(f"127.0.0.1:{self.fake.port}", tunnels)
        finally:
            listener.close()

    def test_rotation_is_fair_over_1000_questions(self):
        self.chatd.ctl("settings", "set", "billing.trial_questions", "2000")
        self.chatd.ctl("settings", "set", "limits.questions_per_minute", "100000")
        keys = [self.add_key("ok", tokens=1)[0] for _ in range(5)]
        c = self.chatd.client()
        c.register("busybody")
        for _ in range(1000):
            self.assertEqual(c.answer("spin")[2][0], "done")
        counts = [self.fake.requests_for(k) for k in keys]
        for n in counts:
            self.assertLessEqual(abs(n - 200), 4, counts)  # within ±2 %

    def test_metrics_count_per_key_without_the_key(self):
        key, kid = self.add_key("ok", tokens=1)
        c = self.chatd.client()
        c.register("counted")
        c.answer("x")
        _, _, body = c.http("GET", "/metrics")
        text = body.decode()
        self.assertIn(f'chatd_key_requests_total{{key_id="{kid}"}} 1', text)
        self.assertIn('chatd_keys{status="active"} 1', text)
        self.assertNotIn(key.split(":")[0], text)


if __name__ == "__main__":
    main()
