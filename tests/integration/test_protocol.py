"""Bad input at the HTTP and JSON-RPC boundary gets a clear error and changes nothing."""
import json
import os
import re
import socket
import time

from harness import ChatdTestCase, RpcError, main


class ProtocolTest(ChatdTestCase):
    def post(self, body, **kw):
        c = self.chatd.client()
        return c.http("POST", "/rpc", body, headers={"Content-Type": "application/json"}, **kw)

    def rpc_raw(self, body):
        status, _, data = self.post(body if isinstance(body, bytes) else body.encode())
        return status, (json.loads(data) if data else None)

    def test_parse_error_and_invalid_requests(self):
        status, r = self.rpc_raw('{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]')
        self.assertEqual(status, 200)
        self.assertEqual(r["error"]["code"], -32700)
        self.assertIsNone(r["id"])
        _, r = self.rpc_raw('{"jsonrpc": "2.0", "method": 1, "params": "bar"}')
        self.assertEqual(r["error"]["code"], -32600)
        _, r = self.rpc_raw('{"jsonrpc": "1.0", "method": "site.info", "id": 3}')
        self.assertEqual((r["error"]["code"], r["id"]), (-32600, 3))
        _, r = self.rpc_raw('[]')
        self.assertEqual(r["error"]["code"], -32600)
        _, r = self.rpc_raw('[1]')
        self.assertEqual([x["error"]["code"] for x in r], [-32600])
        _, r = self.rpc_raw('[1,2,3]')
        self.assertEqual([x["error"]["code"] for x in r], [-32600] * 3)
        _, r = self.rpc_raw('[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method"')
        self.assertEqual(r["error"]["code"], -32700)

    def test_spec_batch_example(self):
        batch = [
            {"jsonrpc": "2.0", "method": "site.info", "id": "1"},
            {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
            {"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": "2"},
            {"foo": "boo"},
            {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
            {"jsonrpc": "2.0", "method": "me.get", "id": "9"},
        ]
        status, r = self.rpc_raw(json.dumps(batch))
        self.assertEqual(status, 200)
        by_id = {x["id"]: x for x in r if x["id"] is not None}
        self.assertEqual(len(r), 5)
        self.assertIn("result", by_id["1"])
        self.assertEqual(by_id["2"]["error"]["code"], -32601)
        self.assertEqual(by_id["5"]["error"]["code"], -32601)
        self.assertEqual(by_id["9"]["error"]["data"]["reason"], "unauthorized")
        self.assertEqual([x["error"]["code"] for x in r if x["id"] is None], [-32600])

    def test_notifications_get_no_body(self):
        status, _, data = self.post(b'{"jsonrpc":"2.0","method":"site.info"}')
        self.assertEqual((status, data), (204, b""))
        status, _, data = self.post(b'[{"jsonrpc":"2.0","method":"site.info"},{"jsonrpc":"2.0","method":"nope"}]')
        self.assertEqual((status, data), (204, b""))

    def test_unknown_method_and_invalid_params(self):
        c = self.chatd.client()
        with self.assertRaises(RpcError) as e:
            c.rpc("no.such.method")
        self.assertEqual(e.exception.code, -32601)
        with self.assertRaises(RpcError) as e:
            c.rpc("auth.password.register", {"username": 5, "password": "x"})
        self.assertEqual((e.exception.code, e.exception.reason), (-32602, "invalid_params"))
        with self.assertRaises(RpcError) as e:
            c.rpc("auth.password.register", {"username": "ok_name", "password": "short"})
        self.assertEqual(e.exception.reason, "invalid_params")

    def test_admin_methods_need_an_admin_session(self):
        c = self.chatd.client()
        with self.assertRaises(RpcError) as e:
            c.rpc("admin.status")
        self.assertEqual(e.exception.reason, "unauthorized")
        c.register("visitor")
        with self.assertRaises(RpcError) as e:
            c.rpc("admin.keys.list")
        self.assertEqual(e.exception.reason, "forbidden")
        self.chatd.ctl("admin", "add", "boss", input="a very good password\n")
        admin = self.chatd.client()
        admin.rpc("auth.password.login", {"username": "boss", "password": "a very good password"})
        self.assertTrue(admin.rpc("me.get")["is_admin"])
        self.assertIn("keys", admin.rpc("admin.status"))

    def test_oversized_body_is_refused_413(self):
        big = b'{"jsonrpc":"2.0","id":1,"method":"site.info","params":{"pad":"' + b"x" * (2 << 20) + b'"}}'
        s = socket.create_connection(("127.0.0.1", self.chatd.port))
        s.sendall(b"POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: " + self.chatd.origin.encode() +
                  b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(big)).encode() + b"\r\n\r\n")
        try:
            s.sendall(big)
        except OSError:
            pass  # the server may close before reading it all
        reply = s.recv(4096)
        s.close()
        self.assertTrue(reply.startswith(b"HTTP/1.1 413"), reply[:80])
        self.assertTrue(self.chatd.healthy())

    def test_invalid_utf8_question_is_refused_and_nothing_is_stored(self):
        self.add_key("ok", tokens=2)
        c = self.chatd.client()
        c.register("utf")
        body = b'{"jsonrpc":"2.0","id":7,"method":"chat.send","params":{"content":"bad \xff\xfe text"}}'
        status, _, data = c.http("POST", "/rpc", body, headers={"Content-Type": "application/json"})
        r = json.loads(data)
        self.assertEqual((r["id"], r["error"]["code"], r["error"]["data"]["reason"]), (7, -32602, "invalid_params"))
        self.assertEqual(c.rpc("conversations.list")["items"], [])
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 10)

    def test_origin_is_checked_on_posts(self):
        c = self.chatd.client()
        status, _, _ = c.http("POST", "/rpc", {"jsonrpc": "2.0", "id": 1, "method": "site.info"},
                              headers={"Origin": "http://evil.example"})
        self.assertEqual(status, 403)
        status, _, _ = c.http("POST", "/rpc", {"jsonrpc": "2.0", "id": 1, "method": "site.info"}, origin=False)
        self.assertEqual(status, 403)
        status, _, _ = c.http("POST", "/rpc", {"jsonrpc": "2.0", "id": 1, "method": "site.info"})
        self.assertEqual(status, 200)

    def test_static_files_spa_fallback_and_no_path_escape(self):
        webui = os.path.join(self.workdir, "webui")
        os.makedirs(os.path.join(webui, "assets"))
        with open(os.path.join(webui, "index.html"), "w") as f:
            f.write("<!doctype html><title>chatd</title>")
        with open(os.path.join(webui, "assets", "app-1234.js"), "w") as f:
            f.write("console.log(1)")
        with open(os.path.join(self.workdir, "secret.txt"), "w") as f:
            f.write("top secret")
        c = self.chatd.client()
        status, h, body = c.http("GET", "/")
        self.assertEqual(status, 200)
        self.assertIn(b"<title>chatd</title>", body)
        self.assertEqual(h["cache-control"], "no-cache")
        self.assertIn("default-src 'self'", h["content-security-policy"])
        status, _, body = c.http("GET", "/c/123")  # an SPA route
        self.assertEqual((status, b"<title>chatd</title>" in body), (200, True))
        status, h, _ = c.http("GET", "/assets/app-1234.js")
        self.assertEqual(status, 200)
        self.assertIn("immutable", h["cache-control"])
        self.assertNotIn("content-encoding", h)
        import gzip
        with open(os.path.join(webui, "assets", "app-1234.js.gz"), "wb") as f:
            f.write(gzip.compress(b"console.log(1)"))
        status, h, body = c.http("GET", "/assets/app-1234.js", headers={"Accept-Encoding": "gzip, deflate"})
        self.assertEqual((status, h.get("content-encoding")), (200, "gzip"))
        self.assertEqual(gzip.decompress(body), b"console.log(1)")
        self.assertTrue(h["content-type"].startswith("text/javascript"))
        status, h, _ = c.http("GET", "/assets/app-1234.js", headers={"Accept-Encoding": "br"})
        self.assertNotIn("content-encoding", h)  # no .br copy: the plain file
        self.assertEqual(c.http("GET", "/assets/missing.js")[0], 404)
        for path in ["/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
                     "/assets/%2e%2e%2f%2e%2e%2fsecret.txt", "/..%5csecret.txt"]:
            status, _, body = c.http("GET", path)
            self.assertNotIn(b"top secret", body, path)
            self.assertIn(status, (400, 404), path)

    def test_health_metrics_and_unknown_routes(self):
        c = self.chatd.client()
        status, _, body = c.http("GET", "/healthz")
        self.assertEqual(status, 200)
        health = json.loads(body)
        self.assertEqual(health["status"], "ok")
        self.assertTrue(health["version"])
        c.register("metrics-writer")  # a write to the database, to be measured
        status, h, body = c.http("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn(b"chatd_answers_in_flight 0", body)
        lags = re.findall(rb'^chatd_event_loop_lag_seconds\{loop="(\d+)"\} ([0-9.]+)$', body, re.M)
        self.assertEqual([n for n, _ in lags][:1], [b"1"], body)  # one a loop, the first included
        self.assertTrue(all(0 <= float(v) < 10 for _, v in lags), lags)
        write = re.search(rb'^chatd_database_write_seconds ([0-9.]+)$', body, re.M)
        self.assertTrue(write and 0 < float(write.group(1)) < 10, body)
        self.assertEqual(c.http("GET", "/api/nothing")[0], 404)
        self.assertEqual(c.http("GET", "/rpc")[0], 405)

    def test_session_cookie_attributes_and_logout(self):
        c = self.chatd.client()
        status, h, _ = c.http("POST", "/rpc", {"jsonrpc": "2.0", "id": 1, "method": "auth.password.register",
                                               "params": {"username": "cookie", "password": "correct horse battery"}})
        cookie = h["set-cookie"]
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Lax", cookie)
        self.assertNotIn("Secure", cookie)  # served over plain http here
        self.assertEqual(c.rpc("me.get")["name"], "cookie")
        old = c.cookie
        c.rpc("auth.logout")
        c.cookie = old  # a stolen copy of the logged-out cookie must not work either
        with self.assertRaises(RpcError) as e:
            c.rpc("me.get")
        self.assertEqual(e.exception.reason, "unauthorized")

    def test_an_expired_session_is_refused_and_purged(self):
        c = self.chatd.client()
        c.register("expiring")
        self.assertEqual(c.rpc("me.get")["name"], "expiring")
        self.chatd.stop()
        db = self.db()
        db.execute("UPDATE sessions SET expires_at = ?", (int(time.time()) - 1,))
        db.commit()
        db.close()
        self.chatd.start()
        with self.assertRaises(RpcError) as e:
            c.rpc("me.get")
        self.assertEqual(e.exception.reason, "unauthorized")
        self.assertEqual(self.db().execute("SELECT count(*) FROM sessions").fetchone()[0], 0)

    def test_login_attempts_are_rate_limited(self):
        self.chatd.client().register("target")
        c = self.chatd.client()
        for _ in range(10):
            with self.assertRaises(RpcError) as e:
                c.rpc("auth.password.login", {"username": "target", "password": "wrong password"})
            self.assertEqual(e.exception.reason, "bad_credentials")
        with self.assertRaises(RpcError) as e:
            c.rpc("auth.password.login", {"username": "target", "password": "correct horse battery"})
        self.assertEqual(e.exception.reason, "too_many_requests")

    def test_duplicate_username(self):
        self.chatd.client().register("Same")
        with self.assertRaises(RpcError) as e:
            self.chatd.client().register("same")
        self.assertEqual(e.exception.reason, "username_taken")


class HttpsSiteTest(ChatdTestCase):
    """Behind a TLS-terminating proxy (public_url https://…): cookies are Secure."""

    def setUp(self):
        super().setUp()
        self.chatd.stop()
        with open(self.chatd.conf) as f:
            conf = f.read()
        with open(self.chatd.conf, "w") as f:
            f.write("public_url = https://chat.example.com\n" + conf)
        self.chatd.start()
        self.chatd.origin = "https://chat.example.com"

    def test_session_cookies_are_secure(self):
        c = self.chatd.client()
        _, h, _ = c.http("POST", "/rpc", {"jsonrpc": "2.0", "id": 1, "method": "auth.password.register",
                                          "params": {"username": "secure", "password": "correct horse battery"}})
        self.assertIn("; Secure", h["set-cookie"])
        self.assertIn("HttpOnly", h["set-cookie"])
        self.assertEqual(c.rpc("me.get")["name"], "secure")
        _, h, _ = c.http("POST", "/rpc", {"jsonrpc": "2.0", "id": 2, "method": "auth.logout"})
        self.assertIn("Max-Age=0", h["set-cookie"])
        self.assertIn("; Secure", h["set-cookie"])


if __name__ == "__main__":
    main()
