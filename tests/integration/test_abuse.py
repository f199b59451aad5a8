"""An attacker's and a faulty machine's view of the daemon: spoofed client addresses, limits
raced by concurrent attempts, a second daemon on the same data, and edges of the HTTP and
JSON-RPC protocols. Each test reproduces a probe that once got through."""
import concurrent.futures
import http.client
import json
import os
import socket
import subprocess
import threading
import time
import unittest

from harness import CHATD, SANITIZED, ChatdTestCase, RpcError, main, wait_for

PROXY_CLIENT = "203.0.113.50"  # the visitor's address as our reverse proxy saw it


class Raw:
    """One HTTP exchange from a chosen loopback source address, with exactly the headers given."""

    def __init__(self, test, source="127.0.0.1"):
        self.test, self.source = test, source

    def request(self, method, path, body=None, headers=None, cookie=None):
        h = {"Host": f"127.0.0.1:{self.test.chatd.port}", "Origin": self.test.chatd.origin}
        h.update(headers or {})
        if cookie:
            h["Cookie"] = cookie
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        c = http.client.HTTPConnection("127.0.0.1", self.test.chatd.port, timeout=60,
                                       source_address=(self.source, 0))
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r.getheaders(), data

    def rpc(self, method, params=None, headers=None, cookie=None):
        """(result or None, error reason or None, session cookie or None)."""
        status, heads, data = self.request("POST", "/rpc",
                                           {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}},
                                           headers, cookie)
        self.test.assertEqual(status, 200, data)
        reply = json.loads(data)
        session = next((v.split(";", 1)[0] for k, v in heads
                        if k.lower() == "set-cookie" and v.startswith("chatd_session=")), None)
        if "error" in reply:
            return None, (reply["error"].get("data") or {}).get("reason") or reply["error"]["code"], session
        return reply["result"], None, session


def proxied(spoof):
    """Headers as nginx with `$proxy_add_x_forwarded_for` sends them for a visitor who wrote
    `X-Forwarded-For: spoof` into their own request."""
    return {"X-Forwarded-For": f"{spoof}, {PROXY_CLIENT}", "X-Real-IP": PROXY_CLIENT}


def raw_exchange(port, data, timeout=5):
    """Sends bytes on a fresh connection and reads until the server closes it."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except socket.timeout:
        pass
    s.close()
    return out


class ClientAddressTest(ChatdTestCase):
    def session_ips(self):
        return [r[0] for r in self.db().execute("SELECT ip FROM sessions ORDER BY created_at, user_id")]

    def test_rotating_forwarded_for_behind_the_proxy_shares_one_limit(self):
        self.chatd.ctl("settings", "set", "limits.signups_per_hour", "20")
        raw = Raw(self)
        results = [raw.rpc("auth.password.register", {"username": f"spoof{i}", "password": "correct horse 1"},
                           proxied(f"198.51.100.{i}")) for i in range(22)]
        passed = sum(1 for r, _, _ in results if r)
        refused = [e for r, e, _ in results if not r]
        print(f"\nsign-ups through the proxy with a rotating X-Forwarded-For: {passed} of 22 passed (limit 20)")
        self.assertEqual(passed, 20)
        self.assertEqual(refused, ["too_many_requests"] * 2)
        self.assertEqual(set(self.session_ips()), {PROXY_CLIENT})

    def test_password_spray_through_the_proxy_is_limited(self):
        Raw(self).rpc("auth.password.register", {"username": "victim", "password": "correct horse 1"})
        raw = Raw(self)
        reasons = [raw.rpc("auth.password.login", {"username": "victim", "password": f"guess-{i:04d}"},
                           proxied(f"198.51.100.{i}"))[1] for i in range(12)]
        print(f"\npassword spray through the proxy: {reasons.count('bad_credentials')} of 12 checked (limit 10)")
        self.assertEqual(reasons, ["bad_credentials"] * 10 + ["too_many_requests"] * 2)

    def test_headers_from_an_untrusted_peer_are_ignored(self):
        # 127.0.0.2 is a loopback address but not in trusted_proxies (127.0.0.1/32, ::1/128).
        raw = Raw(self, source="127.0.0.2")
        for i in range(3):
            r, err, _ = raw.rpc("auth.password.register", {"username": f"direct{i}", "password": "correct horse 1"},
                                {"X-Forwarded-For": f"198.51.100.{i}", "X-Real-IP": f"192.0.2.{i}"})
            self.assertIsNone(err)
        self.assertEqual(self.session_ips(), ["127.0.0.2"] * 3)

    def test_the_trusted_proxy_is_walked_past_and_x_real_ip_used_alone(self):
        raw = Raw(self)
        raw.rpc("auth.password.register", {"username": "viaproxy", "password": "correct horse 1"},
                {"X-Forwarded-For": f"10.1.1.1, {PROXY_CLIENT}, 127.0.0.1"})
        raw.rpc("auth.password.register", {"username": "realip", "password": "correct horse 1"},
                {"X-Real-IP": "192.0.2.77"})
        raw.rpc("auth.password.register", {"username": "plain", "password": "correct horse 1"})
        self.assertEqual(self.session_ips(), [PROXY_CLIENT, "192.0.2.77", "127.0.0.1"])


class NoTrustedProxyTest(ChatdTestCase):
    chatd_args = ("--trusted_proxies", "")

    def test_without_trusted_proxies_the_socket_address_counts(self):
        raw = Raw(self)
        raw.rpc("auth.password.register", {"username": "noproxy", "password": "correct horse 1"},
                {"X-Forwarded-For": "198.51.100.9"})
        ips = [r[0] for r in self.db().execute("SELECT ip FROM sessions")]
        self.assertEqual(ips, ["127.0.0.1"])

    def test_an_invalid_range_is_a_config_error(self):
        r = subprocess.run([CHATD, "--config", self.chatd.conf, "--check-config", "--trusted_proxies", "10.0.0.0/40"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("trusted_proxies", r.stderr)


class ConcurrentAttemptsTest(ChatdTestCase):
    def test_sixty_concurrent_wrong_passwords_check_at_most_the_limit(self):
        Raw(self).rpc("auth.password.register", {"username": "target", "password": "correct horse 1"})
        raw = Raw(self)
        barrier = threading.Barrier(60)

        def guess(i):
            barrier.wait()
            return raw.rpc("auth.password.login", {"username": "target", "password": f"wrong-{i:04d}"},
                           proxied(f"198.51.100.{i}"))[1]

        with concurrent.futures.ThreadPoolExecutor(60) as pool:
            reasons = list(pool.map(guess, range(60)))
        checked = reasons.count("bad_credentials")
        print(f"\n60 concurrent wrong passwords: {checked} checked, "
              f"{reasons.count('too_many_requests')} refused (limit 10)")
        self.assertLessEqual(checked, 10)
        self.assertEqual(checked + reasons.count("too_many_requests"), 60)
        # The limit holds for the right password too until the window passes.
        self.assertEqual(raw.rpc("auth.password.login", {"username": "target", "password": "correct horse 1"},
                                 proxied("x"))[1], "too_many_requests")

    def test_a_flood_of_bogus_logins_neither_queues_nor_blocks_a_real_user(self):
        self.chatd.ctl("settings", "set", "limits.login_attempts_per_15min", "1000")
        Raw(self).rpc("auth.password.register", {"username": "realuser", "password": "correct horse 1"})
        flood = Raw(self)
        stop = threading.Event()
        outcomes = []

        def bogus(i):
            n = 0
            while not stop.is_set() and n < 25:
                outcomes.append(flood.rpc("auth.password.login", {"username": f"nobody{i}-{n}", "password": "whatever1"},
                                          proxied(f"198.51.{i}.{n}"))[1])
                n += 1

        threads = [threading.Thread(target=bogus, args=(i,)) for i in range(60)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        real = Raw(self, source="127.0.0.3")
        started = time.monotonic()
        tries = 0
        while True:
            tries += 1
            result, err, _ = real.rpc("auth.password.login", {"username": "realuser", "password": "correct horse 1"})
            if result or err != "too_many_requests" or tries >= 50:
                break
            time.sleep(0.1)
        latency = time.monotonic() - started
        stop.set()
        for t in threads:
            t.join()
        print(f"\n60 concurrent bogus-login loops ({len(outcomes)} requests: "
              f"{outcomes.count('bad_credentials')} bad_credentials, {outcomes.count('too_many_requests')} too_many_requests); "
              f"a real user's login took {latency * 1000:.0f} ms in {tries} tries")
        self.assertIsNotNone(result, err)
        if not SANITIZED:  # a sanitized chatd reads requests too slowly for the flood to fill the queue
            self.assertGreater(outcomes.count("too_many_requests"), 0)  # the queue is bounded
        self.assertEqual(set(outcomes) - {"bad_credentials", "too_many_requests"}, set())

    def test_forty_concurrent_wrong_card_codes_check_at_most_five(self):
        c = self.chatd.client()
        c.register("carder")
        code = self.chatd.ctl("cards", "generate", "--count", "1", "--questions", "5", "--days", "30").stdout.split()[0]
        barrier = threading.Barrier(40)

        def guess(i):
            barrier.wait()
            try:
                c.rpc("cards.redeem", {"code": f"AAAA-BBBB-CCCC-{i:04d}"})
                return "redeemed"
            except RpcError as e:
                return e.reason

        with concurrent.futures.ThreadPoolExecutor(40) as pool:
            reasons = list(pool.map(guess, range(40)))
        checked = reasons.count("card_invalid")
        print(f"\n40 concurrent wrong card codes: {checked} checked, {reasons.count('too_many_attempts')} refused (limit 5)")
        self.assertLessEqual(checked, 5)
        self.assertEqual(checked + reasons.count("too_many_attempts"), 40)
        with self.assertRaises(RpcError) as e:
            c.rpc("cards.redeem", {"code": code})
        self.assertEqual(e.exception.reason, "too_many_attempts")
        self.assertEqual(c.rpc("me.get")["balance"]["paid"], 0)

    def test_a_valid_card_does_not_use_up_the_failure_budget(self):
        c = self.chatd.client()
        c.register("buyer")
        codes = self.chatd.ctl("cards", "generate", "--count", "8", "--questions", "1", "--days", "30").stdout.split()
        for code in codes:
            c.rpc("cards.redeem", {"code": code})
        self.assertEqual(c.rpc("me.get")["balance"]["paid"], 8)


class SecondDaemonTest(ChatdTestCase):
    def test_a_second_daemon_on_the_same_data_changes_nothing(self):
        self.add_key("ok", tokens=200, delay=20)
        clients = []
        for i in range(10):
            c = self.chatd.client()
            c.register(f"streamer{i}")
            clients.append(c)
        sent = [(c, c.ask(f"question {i}-{j}")) for i, c in enumerate(clients) for j in range(2)]
        results = {}

        def read(c, s):
            events = c.stream(s["message_id"])
            text = "".join(json.loads(d)["text"] for e, _, d in events if e == "delta")
            results[s["message_id"]] = (text, json.loads(events[-1][2]) if events[-1][0] == "done" else events[-1])

        readers = [threading.Thread(target=read, args=pair) for pair in sent]
        for t in readers:
            t.start()
        wait_for(lambda: self.chatd.ctl_json("status")["in_flight"] == 20, what="20 answers in flight")
        # Another port and another admin socket: only the data directory is shared.
        other = subprocess.run([CHATD, "--config", self.chatd.conf, "--listen", "127.0.0.1:0",
                                "--admin_socket", os.path.join(self.workdir, "other.sock")],
                               capture_output=True, text=True, timeout=30)
        same = subprocess.run([CHATD, "--config", self.chatd.conf], capture_output=True, text=True, timeout=30)
        for second in (other, same):
            self.assertNotEqual(second.returncode, 0)
            self.assertIn("another chatd is running on data_dir", second.stderr)
            self.assertIn(f"pid {self.chatd.proc.pid}", second.stderr)
        self.assertEqual(self.chatd.ctl_json("status")["in_flight"], 20)
        for t in readers:
            t.join(60)
        self.assertEqual(len(results), 20)
        db = self.db()
        for message_id, (text, done) in results.items():
            self.assertEqual((done["status"], done["charged"], done["refunded"]), ("done", 1, False))
            status, refunded, content = db.execute(
                "SELECT status, refunded, content FROM messages WHERE id=?", (message_id,)).fetchone()
            self.assertEqual((status, refunded), ("done", 0))
            self.assertEqual(content, text)
            self.assertGreater(len(text), 200)
        self.assertTrue(self.chatd.ctl_json("status")["ledger_consistent"])


@unittest.skipIf(SANITIZED, "a sanitizer's runtime needs descriptors of its own to check and to report, "
                            "so a sanitized chatd cannot be run out of them")
class DescriptorExhaustionTest(ChatdTestCase):
    # chatd's own files (database, log, listeners, its loops' epoll and timers) take a few dozen.
    files_limit = 160

    def test_running_out_of_descriptors_refuses_new_connections_and_recovers_when_they_close(self):
        c = self.chatd.client()
        c.register("regular")
        # A visitor connected before the flood keeps its connection, and is answered on it.
        kept = http.client.HTTPConnection("127.0.0.1", self.chatd.port, timeout=10)

        def me_on_kept():
            kept.request("POST", "/rpc", json.dumps({"jsonrpc": "2.0", "id": 1, "method": "me.get"}),
                         {"Content-Type": "application/json", "Origin": self.chatd.origin, "Cookie": c.cookie})
            r = kept.getresponse()
            return r.status, json.loads(r.read())

        self.assertEqual(me_on_kept()[1]["result"]["name"], "regular")
        flood = [socket.create_connection(("127.0.0.1", self.chatd.port), timeout=5) for _ in range(300)]
        try:
            wait_for(lambda: "accept failed: Too many open files" in self.chatd.log_text(),
                     what="chatd to run out of descriptors")
            status, reply = me_on_kept()
            self.assertEqual(status, 200)
            self.assertEqual(reply["result"]["name"], "regular")
            self.assertIsNone(self.chatd.proc.poll())
        finally:
            for s in flood:
                s.close()

        # The connections it could not take were queued by the kernel; once they close, it takes
        # (and drops) them, and new visitors are served again.
        def serves_a_newcomer():
            try:
                self.chatd.client().register(f"newcomer{time.monotonic_ns()}")
                return True
            except OSError:
                return False
        wait_for(serves_a_newcomer, timeout=20, what="chatd to serve new connections again")
        self.assertEqual(me_on_kept()[1]["result"]["name"], "regular")
        kept.close()


class ProtocolEdgesTest(ChatdTestCase):
    def setUp(self):
        super().setUp()
        webui = os.path.join(self.workdir, "webui")
        os.makedirs(webui, exist_ok=True)
        with open(os.path.join(webui, "index.html"), "w") as f:
            f.write("<!doctype html><title>chatd</title>")

    def rpc_body(self, body):
        status, _, data = Raw(self).request("POST", "/rpc", body.encode(), {"Content-Type": "application/json"})
        self.assertEqual(status, 200)
        return json.loads(data)

    def test_ids_are_echoed_exactly_or_refused(self):
        for id_text in ("1e400", "123456789012345678901234567890", "2.5"):
            r = self.rpc_body('{"jsonrpc":"2.0","method":"site.info","id":%s}' % id_text)
            self.assertEqual(r["error"]["code"], -32600, id_text)
            self.assertIsNone(r["id"])
        status, _, data = Raw(self).request("POST", "/rpc", b'{"jsonrpc":"2.0","method":"site.info","id":18446744073709551615}',
                                            {"Content-Type": "application/json"})
        self.assertIn(b'"id":18446744073709551615', data)
        self.assertNotIn(b"Infinity", data)

    def test_transfer_encoding_other_than_chunked_is_refused_and_nothing_is_smuggled(self):
        port = self.chatd.port
        smuggled = (b"POST /rpc HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: " + self.chatd.origin.encode() +
                    b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
                    b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        out = raw_exchange(port, smuggled)
        self.assertTrue(out.startswith(b"HTTP/1.1 400"), out[:200])
        self.assertEqual(out.count(b"HTTP/1.1 "), 1)
        self.assertNotIn(b"chatd_uptime_seconds", out)
        for te in (b"identity", b"gzip, chunked", b"chunked\r\nTransfer-Encoding: chunked"):
            out = raw_exchange(port, b"POST /rpc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
                               b"\r\n\r\n0\r\n\r\n")
            self.assertTrue(out.startswith(b"HTTP/1.1 400"), (te, out[:200]))
        out = raw_exchange(port, b"POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                                 b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400"), out[:200])
        # Plain chunked bodies still work.
        body = b'{"jsonrpc":"2.0","method":"site.info","id":7}'
        out = raw_exchange(port, b"POST /rpc HTTP/1.1\r\nHost: " + self.chatd.origin[7:].encode() + b"\r\nOrigin: " +
                           self.chatd.origin.encode() + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                           f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 200"), out[:200])
        self.assertIn(b'"id":7', out)

    def test_host_files_do_not_show_through_double_slashes(self):
        raw = Raw(self)
        answers = {path: raw.request("GET", path)[::2] for path in
                   ("//etc/passwd", "//etc/nonexistent-file", "///etc/passwd", "//etc/hostname")}
        self.assertEqual(len(set(answers.values())), 1, answers)
        status, body = answers["//etc/passwd"]
        self.assertNotIn(b"root:", body)
        self.assertIn(status, (200, 404))

    def test_http_11_without_host_is_refused(self):
        out = raw_exchange(self.chatd.port, b"GET /healthz HTTP/1.1\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400"), out[:200])
        out = raw_exchange(self.chatd.port, b"GET /healthz HTTP/1.0\r\n\r\n")
        self.assertIn(b" 200 ", out.split(b"\r\n", 1)[0])

    def test_nul_characters_are_refused_in_names(self):
        r = self.rpc_body(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "auth.password.register",
                                      "params": {"username": "nul\u0000name", "password": "correct horse 1"}}))
        self.assertEqual((r["error"]["code"], r["error"]["data"]["reason"]), (-32602, "invalid_params"))
        c = self.chatd.client()
        c.register("tidy")
        with self.assertRaises(RpcError) as e:
            c.rpc("me.update", {"name": "evil\u0000admin"})
        self.assertEqual(e.exception.reason, "invalid_params")
        self.assertEqual(c.rpc("me.get")["name"], "tidy")
        self.assertEqual(self.db().execute("SELECT count(*) FROM users").fetchone()[0], 1)


if __name__ == "__main__":
    main()
