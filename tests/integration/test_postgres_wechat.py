"""WeChat login on two chatd instances sharing one PostgreSQL database behind a balancer: a QR
login started on A is scanned through B (WeChat's push reaches B) and handed out once however
the browser's polls land; a code sent by A is redeemed on B once; a push WeChat retries to the
other instance is not handled twice; the instances share one access token."""
import re
import threading
import time

from harness import RpcError, main
from shared_database import SharedDatabase
from test_wechat import WeChatCase, scan_xml

KEYWORD = "验证码"


class SharedWeChatCase(SharedDatabase, WeChatCase):
    def setUp(self):
        super().setUp()
        self.b = self.second_instance(self.chatd.extra_conf)

    def push_to(self, instance):
        """Where WeChat's next push lands, as the balancer picks."""
        self.wx.configure(callback=f"http://127.0.0.1:{instance.port}/wechat/callback")

    @staticmethod
    def same_browser(client, instance):
        """The browser's next request reaches `instance`: a client there with its cookies."""
        other = instance.client()
        other.cookie, other.login_cookie = client.cookie, client.login_cookie
        return other

    def race(self, calls):
        """Runs the calls at once; returns their results (or RpcError reasons) in order."""
        barrier = threading.Barrier(len(calls))
        results = [None] * len(calls)

        def run(i):
            barrier.wait()
            try:
                results[i] = calls[i]()
            except RpcError as e:
                results[i] = e.reason
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        return results


class SharedQrLoginTest(SharedWeChatCase):
    def test_started_on_a_scanned_through_b_and_handed_out_once_to_polls_on_both(self):
        on_a = self.chatd.client()
        started = self.start(on_a)
        on_b = self.same_browser(on_a, self.b)
        self.assertEqual(self.poll(on_b, started["ticket"])["status"], "pending")
        # A reload that lands on B shows the same code: no second QR code is made.
        self.assertEqual(self.start(on_b)["ticket"], started["ticket"])
        self.assertEqual(self.wx.stats()["qrcode_create"], 1)

        self.push_to(self.b)
        pushed = self.wx.scan(ticket=started["ticket"], openid="oShared01")
        self.assertTrue(pushed["ok"], pushed)
        self.assertIn("登录成功", pushed["reply"]["content"])
        self.assert_handed_out_once(on_a, on_b, started["ticket"], "oShared01")
        # And again, the scan reaching either instance: polls on both, one login.
        for i, through in enumerate((self.chatd, self.b, self.chatd)):
            on_a.cookie = on_b.cookie = None
            ticket = self.start(on_a)["ticket"]
            self.push_to(through)
            # A second apart: WeChat tells events apart by sender, CreateTime and kind.
            scanned = self.wx.scan(ticket=ticket, openid="oShared01", following=True, timestamp=int(time.time()) + i + 1)
            self.assertIn("登录成功", scanned["reply"]["content"])
            self.assert_handed_out_once(on_a, on_b, ticket, "oShared01")
        self.assertEqual(self.db().execute("SELECT count(*) FROM users WHERE wechat_openid = ?",
                                           ("oShared01",)).fetchone()[0], 1)
        self.assertEqual(self.db().execute("SELECT count(*) FROM wechat_logins").fetchone()[0], 0)

    def test_qr_codes_per_address_count_both_instances(self):
        outcomes = []
        for i in range(31):  # 30 per address in 10 minutes, new browsers on both instances
            try:
                self.start((self.chatd if i % 2 else self.b).client())
                outcomes.append("ok")
            except RpcError as e:
                outcomes.append(e.reason)
        self.assertEqual(outcomes, ["ok"] * 30 + ["too_many_requests"])

    def assert_handed_out_once(self, on_a, on_b, ticket, openid):
        polls = self.race([lambda: self.poll(on_a, ticket), lambda: self.poll(on_b, ticket)])
        self.assertEqual(sorted(p["status"] for p in polls), ["confirmed", "expired"], polls)
        winner = on_a if polls[0]["status"] == "confirmed" else on_b
        shown = self.chatd.ctl_json("users", "show", str(winner.rpc("me.get")["id"]))
        self.assertEqual(shown["wechat"]["openid"], openid)

    def test_a_retried_scan_reaching_the_other_instance_gets_the_first_reply(self):
        c = self.chatd.client()
        started = self.start(c)
        scene = self.wx.qrcodes()[-1]["scene"]
        xml = scan_xml("oRetried01", scene, started["ticket"])
        first = self.wx.push(xml=xml)
        self.push_to(self.b)
        again = self.wx.push(xml=xml)
        self.assertEqual(first["reply"]["content"], again["reply"]["content"])
        self.assertEqual(self.poll(c, started["ticket"])["status"], "confirmed")
        self.assertEqual(self.db().execute("SELECT count(*) FROM wechat_push_messages").fetchone()[0], 1)

    def test_the_instances_share_one_access_token(self):
        self.start(self.chatd.client())
        self.start(self.b.client())
        self.start(self.chatd.client())
        stats = self.wx.stats()
        self.assertEqual((stats["stable_token"], stats["qrcode_create"]), (1, 3))
        # WeChat refuses it (another server forced a refresh): one refresh, used by both.
        self.wx.rotate()
        self.assertTrue(self.start(self.b.client())["ticket"])
        self.assertTrue(self.start(self.chatd.client())["ticket"])
        self.assertEqual(self.wx.stats()["stable_token"], 2)
        row = self.db().execute("SELECT token FROM wechat_tokens").fetchone()
        self.assertTrue(row[0])


class SharedCodeLoginTest(SharedWeChatCase):
    mode = "code"
    safe = True

    def code_from(self, pushed):
        self.assertTrue(pushed["ok"], pushed)
        m = re.search(r"\b(\d{8})\b", pushed["reply"]["content"])
        self.assertIsNotNone(m, pushed["reply"])
        return m.group(1)

    def test_a_code_sent_by_a_is_redeemed_on_b_once(self):
        code = self.code_from(self.wx.text(openid="oCodeShared01", content=KEYWORD, safe=True))
        user = self.b.client().rpc("auth.wechat.code", {"code": code})["user"]
        with self.assertRaises(RpcError) as e:
            self.chatd.client().rpc("auth.wechat.code", {"code": code})
        self.assertEqual(e.exception.reason, "login_expired")
        shown = self.chatd.ctl_json("users", "show", str(user["id"]))
        self.assertEqual(shown["wechat"]["openid"], "oCodeShared01")
        # Stored as a keyed hash, never as the code itself.
        self.assertNotIn(code, self.chatd.log_text() + self.b.log_text())

    def test_a_code_raced_on_both_instances_logs_in_once(self):
        for i in range(3):
            code = self.code_from(self.wx.text(openid=f"oRace0{i}", content=KEYWORD))
            a, b = self.chatd.client(), self.b.client()
            outcomes = self.race([lambda: a.rpc("auth.wechat.code", {"code": code}) and "ok",
                                  lambda: b.rpc("auth.wechat.code", {"code": code}) and "ok"])
            self.assertEqual(sorted(outcomes), ["login_expired", "ok"])
            stored = self.db().execute("SELECT count(*) FROM wechat_codes").fetchone()[0]
            self.assertEqual(stored, 0)

    def test_a_message_retried_to_the_other_instance_gets_the_same_code(self):
        first = self.code_from(self.wx.text(openid="oRetry02", content=KEYWORD, msg_id=8001))
        self.push_to(self.b)
        again = self.code_from(self.wx.text(openid="oRetry02", content=KEYWORD, msg_id=8001, safe=True))
        self.assertEqual(first, again)
        self.assertEqual(self.db().execute("SELECT count(*) FROM wechat_codes").fetchone()[0], 1)
        fresh = self.code_from(self.wx.text(openid="oRetry02", content=KEYWORD, msg_id=8002))
        self.assertNotEqual(first, fresh)

    def test_code_requests_per_openid_count_both_instances(self):
        replies = []
        for i in range(6):  # 5 per openid in 10 minutes, asked through either instance
            self.push_to(self.chatd if i % 2 else self.b)
            pushed = self.wx.text(openid="oThrottle01", content=KEYWORD, msg_id=9100 + i)
            self.assertTrue(pushed["ok"], pushed)
            replies.append(pushed["reply"]["content"])
        self.assertTrue(all(re.search(r"\b\d{8}\b", r) for r in replies[:5]), replies)
        self.assertIn("太频繁", replies[5])

    def test_the_budget_of_wrong_codes_counts_both_instances(self):
        # From many addresses (each instance trusts loopback as a proxy here): only the
        # site-wide budget of 30 a minute stops them.
        outcomes = []
        for i in range(31):
            instance = self.chatd if i % 2 else self.b
            req = {"jsonrpc": "2.0", "id": 1, "method": "auth.wechat.code", "params": {"code": f"{i:08d}"}}
            status, _, data = instance.client().http("POST", "/rpc", req, headers={"X-Forwarded-For": f"10.0.0.{i}"})
            outcomes.append("too_many_requests" if b"too_many_requests" in data else "wrong")
        self.assertEqual(outcomes, ["wrong"] * 30 + ["too_many_requests"])
        code = self.code_from(self.wx.text(openid="oPatient02", content=KEYWORD))
        with self.assertRaises(RpcError) as e:
            self.chatd.client().rpc("auth.wechat.code", {"code": code})
        self.assertEqual(e.exception.reason, "too_many_requests")


if __name__ == "__main__":
    main()
