"""WeChat scan login (qr mode) and one-time-code login (code mode) against the fake WeChat
platform: verified callbacks in plaintext and safe mode, tokens, accounts, forged pushes."""
import re
import threading
import time

from harness import ChatdTestCase, Chatd, FakeUpstream, FakeWeChat, RpcError, main

APPID = "wx5f3c2a1b0e9d8c7b"
SECRET = "0123456789abcdef0123456789abcdef"
TOKEN = "chatdtoken2026"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"


class WeChatCase(ChatdTestCase):
    mode = "qr"
    safe = False  # encoding_aes_key configured: safe-mode pushes accepted
    fake_wechat_args = ()

    def setUp(self):
        import tempfile
        self.workdir = tempfile.mkdtemp(prefix="chatd-wx-")
        self.fake = FakeUpstream(self.workdir)
        self.wx = FakeWeChat(self.workdir, "--appid", APPID, "--secret", SECRET, "--token", TOKEN,
                             "--aes-key", AES_KEY, *self.fake_wechat_args)
        conf = (f"[wechat]\nmode = {self.mode}\nappid = {APPID}\nsecret = {SECRET}\ntoken = {TOKEN}\n"
                f"api_base = {self.wx.api_base}\naccount_qr_url = http://weixin.qq.com/r/fakeaccount\n")
        if self.safe:
            conf += f"encoding_aes_key = {AES_KEY}\n"
        self.chatd = Chatd(self.workdir, conf).start()
        self.chatd.ctl("settings", "set", "site.name", "测试站")
        self.wx.configure(callback=f"http://127.0.0.1:{self.chatd.port}/wechat/callback", reply_timeout=5)

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            self.wx.stop()

    def start(self, c, **params):
        r = c.rpc("auth.wechat.start", params)
        self.assertEqual(r["mode"], "qr")
        return r

    def poll(self, c, ticket):
        return c.rpc("auth.wechat.poll", {"ticket": ticket})

    def scan_login(self, c, openid, following=False, safe=False, **start_params):
        """The whole scan: the browser starts, the phone scans, the browser's poll confirms."""
        started = self.start(c, **start_params)
        pushed = self.wx.scan(ticket=started["ticket"], openid=openid, following=following, safe=safe)
        self.assertTrue(pushed["ok"], pushed)
        confirmed = self.poll(c, started["ticket"])
        self.assertEqual(confirmed["status"], "confirmed", confirmed)
        return confirmed["user"], pushed


class QrLoginTest(WeChatCase):
    def test_site_info_offers_the_qr_login(self):
        info = self.chatd.client().rpc("site.info")
        self.assertIn("wechat_qr", info["login_methods"])
        self.assertNotIn("wechat_code", info["login_methods"])

    def test_a_new_follower_scans_and_is_logged_in_with_trial_credits(self):
        c = self.chatd.client()
        started = self.start(c)
        # The browser draws WeChat's own url; the ticket is WeChat's.
        created = self.wx.qrcodes()[-1]
        self.assertEqual((started["ticket"], started["qr_url"]), (created["ticket"], created["url"]))
        self.assertEqual(created["action_name"], "QR_STR_SCENE")
        self.assertTrue(120 <= started["expires_in"] <= 600, started)
        self.assertEqual(self.poll(c, started["ticket"])["status"], "pending")
        with self.assertRaises(RpcError) as e:
            c.rpc("me.get")
        self.assertEqual(e.exception.reason, "unauthorized")

        pushed = self.wx.scan(ticket=started["ticket"], openid="oNewFollower01", following=False)
        self.assertTrue(pushed["ok"], pushed)
        self.assertEqual(pushed["attempts"], 1)
        self.assertIn("登录成功", pushed["reply"]["content"])
        self.assertIn("测试站", pushed["reply"]["content"])

        confirmed = self.poll(c, started["ticket"])
        self.assertEqual(confirmed["status"], "confirmed")
        me = c.rpc("me.get")
        self.assertEqual(me["id"], confirmed["user"]["id"])
        self.assertEqual(me["balance"]["trial"], 10)
        # Spent: the same ticket cannot log anyone in again.
        self.assertEqual(self.poll(c, started["ticket"])["status"], "expired")
        user = self.chatd.ctl_json("users", "show", str(me["id"]))
        self.assertEqual(user["wechat"]["openid"], "oNewFollower01")
        self.assertEqual([x["reason"] for x in user["ledger"]], ["trial_grant"])

    def test_an_existing_follower_scans_again_and_gets_the_same_account(self):
        first, _ = self.scan_login(self.chatd.client(), "oReturning01")
        second, pushed = self.scan_login(self.chatd.client(), "oReturning01", following=True)
        self.assertEqual(first["id"], second["id"])
        self.assertEqual(self.wx.pushes()[-1]["kind"], "SCAN")
        # The trial is granted once, on account creation.
        self.assertEqual(second["balance"]["trial"], 10)
        ledger = self.chatd.ctl_json("users", "show", str(first["id"]))["ledger"]
        self.assertEqual([x["reason"] for x in ledger], ["trial_grant"])

    def test_the_unionid_is_stored_when_the_account_has_one(self):
        user, _ = self.scan_login(self.chatd.client(), "UboundUser01")
        shown = self.chatd.ctl_json("users", "show", str(user["id"]))
        self.assertEqual(shown["wechat"]["unionid"], "union_UboundUser01")
        plain, _ = self.scan_login(self.chatd.client(), "oPlainUser01")
        self.assertIsNone(self.chatd.ctl_json("users", "show", str(plain["id"]))["wechat"]["unionid"])

    def test_only_the_browser_that_started_the_login_can_confirm_it(self):
        owner, other = self.chatd.client(), self.chatd.client()
        started = self.start(owner)
        self.assertEqual(self.poll(other, started["ticket"])["status"], "expired")
        self.assertTrue(self.wx.scan(ticket=started["ticket"], openid="oVictim01")["ok"])
        self.assertEqual(self.poll(other, started["ticket"])["status"], "expired")
        with self.assertRaises(RpcError):
            other.rpc("me.get")
        self.assertEqual(self.poll(owner, started["ticket"])["status"], "confirmed")

    def test_an_unknown_ticket_polls_as_expired(self):
        c = self.chatd.client()
        self.start(c)
        self.assertEqual(self.poll(c, "no-such-ticket")["status"], "expired")

    def test_reloading_the_page_shows_the_same_code(self):
        c = self.chatd.client()
        a, b = self.start(c), self.start(c)
        self.assertEqual(a["ticket"], b["ticket"])
        self.assertEqual(self.wx.stats()["qrcode_create"], 1)

    def test_a_referral_brought_to_the_login_is_applied_to_the_new_account(self):
        inviter = self.chatd.client()
        inviter.register("inviter")
        code = inviter.rpc("invite.info")["code"]
        self.chatd.ctl("settings", "set", "referral.signup_reward", "3")
        user, _ = self.scan_login(self.chatd.client(), "oInvited01", invite=code)
        self.assertEqual(self.chatd.ctl_json("users", "show", str(user["id"]))["invited_by"],
                         inviter.rpc("me.get")["id"])
        self.assertEqual(inviter.rpc("me.get")["balance"]["trial"], 13)

    def test_a_banned_user_is_told_in_wechat_and_refused_in_the_browser(self):
        user, _ = self.scan_login(self.chatd.client(), "oBanned01")
        self.chatd.ctl("users", "ban", str(user["id"]))
        c = self.chatd.client()
        started = self.start(c)
        pushed = self.wx.scan(ticket=started["ticket"], openid="oBanned01", following=True)
        self.assertTrue(pushed["ok"], pushed)
        self.assertIn("封禁", pushed["reply"]["content"])
        with self.assertRaises(RpcError) as e:
            self.poll(c, started["ticket"])
        self.assertEqual(e.exception.reason, "user_banned")
        with self.assertRaises(RpcError):
            c.rpc("me.get")

    def test_the_access_token_is_fetched_once_and_shared(self):
        results = []

        def login(i):
            try:
                results.append(self.start(self.chatd.client())["ticket"])
            except Exception as e:  # noqa: BLE001 - reported below
                results.append(e)
        threads = [threading.Thread(target=login, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(set(results)), 6, results)
        stats = self.wx.stats()
        self.assertEqual(stats["stable_token"], 1)
        self.assertEqual(stats["qrcode_create"], 6)

    def test_a_token_invalidated_mid_flight_is_refreshed_and_the_call_succeeds(self):
        self.start(self.chatd.client())
        self.wx.rotate()  # another server forced a refresh: the cached token is now refused
        started = self.start(self.chatd.client())
        self.assertTrue(started["ticket"])
        stats = self.wx.stats()
        self.assertEqual(stats["stable_token"], 2)
        self.assertEqual(stats["qrcode_create"], 3)  # ok, refused (40001), ok
        self.assertGreaterEqual(stats["tokens_rejected"], 1)
        self.assertIn("access token refused (40001)", self.chatd.log_text())

    def test_an_expired_token_42001_is_refreshed_too(self):
        self.start(self.chatd.client())
        self.wx.fail("qrcode/create", 42001)
        self.assertTrue(self.start(self.chatd.client())["ticket"])
        # The fake's token is in fact still current, so the normal fetch hands out the refused
        # token again: only then is a forced refresh (limited by WeChat) spent.
        stats = self.wx.stats()
        self.assertEqual((stats["stable_token"], stats["force_refresh"]), (3, 1))

    def test_wechat_errors_reach_the_browser_as_unavailable_and_the_log_says_why(self):
        for errcode, hint in ((40164, "IP whitelist"), (48001, "wechat.mode = code"), (-1, "")):
            self.wx.fail("qrcode/create", errcode)
            with self.assertRaises(RpcError) as e:
                self.start(self.chatd.client())
            self.assertEqual(e.exception.reason, "wechat_unavailable")
            self.assertNotIn(SECRET, e.exception.error["message"])
            self.assertIn(f"WeChat error {errcode}", self.chatd.log_text())
            if hint:
                self.assertIn(hint, self.chatd.log_text())
        self.assertNotIn(SECRET, self.chatd.log_text())
        self.assertTrue(self.start(self.chatd.client())["ticket"])  # and it recovers

    def test_an_expired_scene_is_refused_and_the_browser_sees_expired(self):
        self.wx.configure(qr_expire_seconds=2)
        c = self.chatd.client()
        started = self.start(c)
        self.assertLessEqual(started["expires_in"], 2)
        scene = self.wx.qrcodes()[-1]["scene"]
        time.sleep(2.5)
        self.assertEqual(self.poll(c, started["ticket"])["status"], "expired")
        # A late push for the old scene is answered politely and logs nobody in.
        xml = scan_xml("oLate01", scene, started["ticket"])
        pushed = self.wx.push(xml=xml)
        self.assertEqual(pushed["status"], 200)
        self.assertIn("过期", pushed["reply"]["content"])
        with self.assertRaises(RpcError):
            c.rpc("me.get")

    def test_url_verification_echoes_only_with_a_valid_signature(self):
        self.assertTrue(self.wx.verify_url("good")["ok"])
        bad = self.wx.verify_url("bad")
        self.assertFalse(bad["ok"])
        self.assertEqual(bad["status"], 403)

    def test_forged_stale_malformed_and_replayed_pushes_change_nothing(self):
        c = self.chatd.client()
        started = self.start(c)
        scene = self.wx.qrcodes()[-1]["scene"]
        xml = scan_xml("oAttacker01", scene, started["ticket"])
        for fields, status in (({"sign": "bad"}, 403), ({"sign": "none"}, 403),
                               ({"timestamp": int(time.time()) - 3600}, 403)):
            pushed = self.wx.push(xml=xml, retries=1, **fields)
            self.assertEqual(pushed["status"], status, (fields, pushed))
        malformed = self.wx.push(xml="<xml><FromUserName>oX</Wrong></xml>", retries=1)
        self.assertEqual(malformed["status"], 400)
        self.assertEqual(self.poll(c, started["ticket"])["status"], "pending")
        self.assertIn("invalid signature", self.chatd.log_text())
        self.assertIn("stale timestamp", self.chatd.log_text())

        # A genuine push delivered twice (WeChat's retry) is handled once, same reply.
        first = self.wx.push(xml=xml)
        again = self.wx.push(xml=xml)
        self.assertEqual(first["reply"]["content"], again["reply"]["content"])
        self.assertEqual(self.poll(c, started["ticket"])["status"], "confirmed")

    def test_a_push_for_another_openid_than_the_query_says_is_refused(self):
        # The query's openid and the message's sender must agree.
        c = self.chatd.client()
        started = self.start(c)
        scene = self.wx.qrcodes()[-1]["scene"]
        pushed = self.wx.push(xml=scan_xml("oSomeoneElse", scene, started["ticket"]), openid="oReal", retries=1)
        self.assertEqual(pushed["status"], 403, pushed)
        self.assertEqual(self.poll(c, started["ticket"])["status"], "pending")

    def test_a_safe_mode_push_without_a_configured_key_is_refused(self):
        pushed = self.wx.scan(ticket=self.start(self.chatd.client())["ticket"], openid="oSafe", safe=True)
        self.assertFalse(pushed["ok"])
        self.assertEqual(pushed["status"], 400)


class SafeModeTest(WeChatCase):
    safe = True

    def test_scan_login_in_safe_mode_with_an_encrypted_reply(self):
        user, pushed = self.scan_login(self.chatd.client(), "oSafeUser01", safe=True)
        self.assertEqual(pushed["problems"], [])
        self.assertIn("登录成功", pushed["reply"]["content"])
        self.assertTrue(pushed["body"].startswith("<xml><Encrypt>"), pushed["body"][:80])
        self.assertNotIn("登录成功", pushed["body"])  # the reply travels encrypted
        self.assertEqual(user["balance"]["trial"], 10)

    def test_plaintext_pushes_are_still_accepted_in_compatible_mode(self):
        self.scan_login(self.chatd.client(), "oPlainInSafe01", safe=False)

    def test_a_message_sealed_for_another_appid_is_refused(self):
        c = self.chatd.client()
        started = self.start(c)
        pushed = self.wx.scan(ticket=started["ticket"], openid="oWrongApp01", safe=True, appid="wxanotherapp00000", retries=1)
        self.assertEqual(pushed["status"], 403, pushed)
        self.assertIn("another appid", self.chatd.log_text())
        self.assertEqual(self.poll(c, started["ticket"])["status"], "pending")

    def test_a_bad_msg_signature_is_refused(self):
        c = self.chatd.client()
        started = self.start(c)
        pushed = self.wx.scan(ticket=started["ticket"], openid="oBadSig01", safe=True, msg_signature="bad", retries=1)
        self.assertEqual(pushed["status"], 403, pushed)
        self.assertIn("invalid msg_signature", self.chatd.log_text())
        self.assertEqual(self.poll(c, started["ticket"])["status"], "pending")


class KeyChangeTest(WeChatCase):
    """The operator changed the EncodingAESKey; WeChat still seals with the old one for a while."""
    safe = True
    new_key = "N3wKeyN3wKeyN3wKeyN3wKeyN3wKeyN3wKeyN3wKey0"

    def setUp(self):
        super().setUp()
        self.chatd.stop()
        with open(self.chatd.conf) as f:
            conf = f.read().replace(f"encoding_aes_key = {AES_KEY}",
                                    f"encoding_aes_key = {self.new_key}\nprevious_encoding_aes_key = {AES_KEY}")
        with open(self.chatd.conf, "w") as f:
            f.write(conf)
        self.chatd.start()

    def test_pushes_sealed_with_the_previous_key_still_log_in(self):
        user, pushed = self.scan_login(self.chatd.client(), "oOldKey01", safe=True)
        # The fake only knows the old key: it could read the reply, so the reply used it too.
        self.assertEqual(pushed["problems"], [])
        self.assertIn("登录成功", pushed["reply"]["content"])


class CodeLoginTest(WeChatCase):
    mode = "code"
    safe = True

    def code_from(self, pushed):
        self.assertTrue(pushed["ok"], pushed)
        m = re.search(r"\b(\d{8})\b", pushed["reply"]["content"])
        self.assertIsNotNone(m, pushed["reply"])
        return m.group(1)

    def test_start_describes_the_keyword_and_the_account(self):
        c = self.chatd.client()
        self.assertIn("wechat_code", c.rpc("site.info")["login_methods"])
        r = c.rpc("auth.wechat.start")
        self.assertEqual(r, {"mode": "code", "keyword": "验证码", "account_qr_url": "http://weixin.qq.com/r/fakeaccount"})
        with self.assertRaises(RpcError) as e:
            self.poll(c, "anything")
        self.assertEqual(e.exception.reason, "forbidden")

    def test_the_keyword_gets_a_code_that_logs_in_exactly_once(self):
        for safe in (False, True):
            openid = f"oCodeUser{int(safe)}"
            code = self.code_from(self.wx.text(openid=openid, content="验证码", safe=safe))
            c = self.chatd.client()
            user = c.rpc("auth.wechat.code", {"code": code})["user"]
            self.assertEqual(c.rpc("me.get")["id"], user["id"])
            self.assertEqual(self.chatd.ctl_json("users", "show", str(user["id"]))["wechat"]["openid"], openid)
            with self.assertRaises(RpcError) as e:
                self.chatd.client().rpc("auth.wechat.code", {"code": code})
            self.assertEqual(e.exception.reason, "login_expired")

    def test_wrong_codes_are_refused_and_then_rate_limited(self):
        c = self.chatd.client()
        for _ in range(10):
            with self.assertRaises(RpcError) as e:
                c.rpc("auth.wechat.code", {"code": "00000000"})
            self.assertEqual(e.exception.reason, "login_expired")
        code = self.code_from(self.wx.text(openid="oPatient01", content="验证码"))
        with self.assertRaises(RpcError) as e:
            c.rpc("auth.wechat.code", {"code": code})
        self.assertEqual(e.exception.reason, "too_many_requests")

    def test_a_retried_message_gets_the_same_code(self):
        first = self.code_from(self.wx.text(openid="oRetry01", content="验证码", msg_id=7001))
        again = self.code_from(self.wx.text(openid="oRetry01", content="验证码", msg_id=7001))
        self.assertEqual(first, again)
        fresh = self.code_from(self.wx.text(openid="oRetry01", content="验证码", msg_id=7002))
        self.assertNotEqual(first, fresh)

    def test_other_messages_and_follows(self):
        other = self.wx.text(openid="oChatty01", content="你好")
        self.assertTrue(other["ok"] and other["empty_ok"], other)
        follow = self.wx.follow(openid="oNewFan01")
        self.assertTrue(follow["ok"], follow)
        self.assertIn("验证码", follow["reply"]["content"])

    def test_codes_per_openid_are_rate_limited(self):
        for _ in range(5):
            self.code_from(self.wx.text(openid="oGreedy01", content="验证码"))
        refused = self.wx.text(openid="oGreedy01", content="验证码")
        self.assertTrue(refused["ok"])
        self.assertIsNone(re.search(r"\d{8}", refused["reply"]["content"]))
        self.code_from(self.wx.text(openid="oOther01", content="验证码"))  # others are unaffected


class OffTest(ChatdTestCase):
    def test_wechat_off_means_no_callback_and_no_wechat_methods(self):
        c = self.chatd.client()
        status, _, _ = c.http("GET", "/wechat/callback?signature=x&timestamp=1&nonce=2&echostr=3", origin=False)
        self.assertEqual(status, 404)
        for method in ("auth.wechat.start", "auth.wechat.code"):
            with self.assertRaises(RpcError) as e:
                c.rpc(method, {"code": "12345678"} if method.endswith("code") else None)
            self.assertEqual(e.exception.reason, "forbidden")
        self.assertNotIn("wechat_qr", c.rpc("site.info")["login_methods"])


def scan_xml(openid, scene, ticket):
    return ("<xml><ToUserName><![CDATA[gh_fake000001]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{int(time.time())}</CreateTime>"
            "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[SCAN]]></Event>"
            f"<EventKey><![CDATA[{scene}]]></EventKey><Ticket><![CDATA[{ticket}]]></Ticket></xml>")


if __name__ == "__main__":
    main()
