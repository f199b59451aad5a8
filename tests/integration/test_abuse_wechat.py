"""Abuse probes against WeChat code login, each printing its figures: a code guesser spread over
many client addresses, replayed signed pushes with forged bodies, and a burst of wrong codes from
one address. Runs the real chatd against the fake WeChat platform, like test_wechat.py."""
import http.client
import json
import re
import secrets
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from harness import main
from test_wechat import WeChatCase

KEYWORD = "验证码"
BUDGET_PER_MINUTE = 30  # wrong codes per minute from all clients together (chatd.conf(5))
CODE = re.compile(r"\b(\d{8})\b")


def address(i):
    """A different client address for every attempt, as a botnet or spoofed proxy headers give."""
    return f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"


class CodeAttempts(WeChatCase):
    mode = "code"

    def code_from(self, pushed):
        self.assertTrue(pushed["ok"], pushed)
        m = CODE.search(pushed["reply"]["content"])
        self.assertIsNotNone(m, pushed["reply"])
        return m.group(1)

    def try_code(self, code, addr):
        """One auth.wechat.code call from `addr`: "ok", or the error's reason."""
        req = {"jsonrpc": "2.0", "id": 1, "method": "auth.wechat.code", "params": {"code": code}}
        status, _, data = self.chatd.client().http("POST", "/rpc", req, headers={"X-Forwarded-For": addr})
        self.assertEqual(status, 200, data)
        reply = json.loads(data)
        return "ok" if "result" in reply else reply["error"]["data"]["reason"]

    def burst(self, attempts, workers):
        """Sends `attempts` [(code, address)] from `workers` threads released together."""
        start = threading.Barrier(workers)

        def run(share):
            start.wait()
            return [self.try_code(code, addr) for code, addr in share]
        shares = [attempts[w::workers] for w in range(workers)]
        began = time.monotonic()
        with ThreadPoolExecutor(workers) as pool:
            outcomes = [o for share in pool.map(run, shares) for o in share]
        return outcomes, time.monotonic() - began


class DistributedGuessingTest(CodeAttempts):
    def test_a_guesser_with_many_addresses_gets_30_checked_codes_a_minute_and_no_login(self):
        victim = self.code_from(self.wx.text(openid="oVictim01", content=KEYWORD))
        wrong = set()
        while len(wrong) < 400:
            guess = f"{secrets.randbelow(10**len(victim)):0{len(victim)}d}"  # the code's format is no secret
            if guess != victim:
                wrong.add(guess)
        attempts = [(code, address(i)) for i, code in enumerate(sorted(wrong))]
        first_attempt = time.monotonic()
        outcomes, seconds = self.burst(attempts, workers=16)
        checked, refused = outcomes.count("login_expired"), outcomes.count("too_many_requests")
        # Once the budget is spent even the right code is refused unchecked, from a new address.
        right_during_lockout = self.try_code(victim, address(10_000))
        print(f"\nguesser: {len(attempts)} wrong codes from {len(attempts)} addresses in {seconds:.2f} s "
              f"({len(attempts) / seconds:.0f}/s sent); checked {checked}, refused {refused} "
              f"(too_many_requests); the right code during the lockout: {right_during_lockout}")
        self.assertEqual(outcomes.count("ok"), 0)
        self.assertEqual(checked + refused, len(attempts), set(outcomes))
        self.assertEqual(checked, BUDGET_PER_MINUTE)
        self.assertEqual(right_during_lockout, "too_many_requests")
        log = self.chatd.log_text()
        self.assertEqual(log.count("likely a guessing attack"), 1)  # once per lockout
        self.assertNotIn(victim, log)
        self.assertFalse([code for code in wrong if code in log])

        # The window slides: a minute after the first wrong code the victim's code still works.
        time.sleep(max(0.0, first_attempt + 61 - time.monotonic()))
        c = self.chatd.client()
        user = c.rpc("auth.wechat.code", {"code": victim})["user"]
        self.assertEqual(self.chatd.ctl_json("users", "show", str(user["id"]))["wechat"]["openid"], "oVictim01")
        self.assertIn("code login open again", self.chatd.log_text())

    def test_a_burst_of_wrong_codes_from_one_address_is_held_to_the_per_address_limit(self):
        limit = int(self.chatd.ctl("settings", "get", "limits.login_attempts_per_15min").stdout.split()[-1])
        attempts = [(f"{90_000_000 + i:08d}", "192.0.2.7") for i in range(40)]
        outcomes, seconds = self.burst(attempts, workers=40)
        checked, refused = outcomes.count("login_expired"), outcomes.count("too_many_requests")
        print(f"\none address: 40 concurrent wrong codes in {seconds:.2f} s; checked {checked}, "
              f"refused {refused} (limit {limit} per 15 min)")
        self.assertEqual(checked + refused, 40, set(outcomes))
        self.assertEqual(checked, limit)
        # Other addresses are not held back by it.
        self.assertEqual(self.try_code("12345678", "192.0.2.8"), "login_expired")


class ReplayCase(CodeAttempts):
    def post_callback(self, url, body):
        parts = urllib.parse.urlsplit(url)
        c = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        c.request("POST", f"{parts.path}?{parts.query}", body=body.encode(), headers={"Content-Type": "text/xml"})
        r = c.getresponse()
        data = r.read().decode()
        c.close()
        return r.status, data

    def forged_keyword(self, openid, timestamp, msg_id=None):
        return ("<xml><ToUserName><![CDATA[gh_fake000001]]></ToUserName>"
                f"<FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{timestamp}</CreateTime>"
                f"<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{KEYWORD}]]></Content>"
                + (f"<MsgId>{msg_id}</MsgId>" if msg_id is not None else "") + "</xml>")

    def signed(self, pushed):
        url = pushed["tries"][0]["url"]
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
        return url, query["timestamp"], query["nonce"]


class PlaintextReplayTest(ReplayCase):
    def test_a_captured_callback_url_with_a_forged_body_is_refused(self):
        pushed = self.wx.text(openid="oVictim02", content=KEYWORD)
        code = self.code_from(pushed)
        url, timestamp, _ = self.signed(pushed)  # as an access log shows it
        original = self.wx.pushes()[-1]["xml"]
        forgeries = {"another MsgId": self.forged_keyword("oVictim02", timestamp, msg_id=12345),
                     "no MsgId": self.forged_keyword("oVictim02", timestamp),
                     "another sender": self.forged_keyword("oAttacker02", timestamp, msg_id=12345)}
        for what, body in forgeries.items():
            # The query's openid must name the sender, so the attacker changes it along.
            target = url.replace("openid=oVictim02", "openid=oAttacker02") if "oAttacker02" in body else url
            status, reply = self.post_callback(target, body)
            print(f"\nreplayed URL + forged body ({what}): HTTP {status}")
            self.assertEqual(status, 403, (what, reply))
            self.assertIsNone(CODE.search(reply), reply)
        self.assertIn("signature reused for another message", self.chatd.log_text())
        self.assertNotIn("CDATA[", self.chatd.log_text())  # refusals never log the body

        # WeChat delivering the very message again gets the first reply: the same code.
        status, reply = self.post_callback(url, original)
        self.assertEqual(status, 200)
        self.assertEqual(CODE.search(reply).group(1), code)
        # The code the victim was sent is the only one, and it still logs them in once.
        user = self.chatd.client().rpc("auth.wechat.code", {"code": code})["user"]
        self.assertEqual(self.chatd.ctl_json("users", "show", str(user["id"]))["wechat"]["openid"], "oVictim02")

    def test_an_event_url_cannot_carry_a_keyword_message(self):
        followed = self.wx.follow(openid="oVictim05")
        self.assertTrue(followed["ok"], followed)
        url, timestamp, _ = self.signed(followed)
        # Everything an event is known by, but as a text message asking for a code.
        forged = self.forged_keyword("oVictim05", timestamp).replace("</Content>", "</Content><Event>subscribe</Event>")
        status, reply = self.post_callback(url, forged)
        self.assertEqual(status, 403, reply)
        self.assertIsNone(CODE.search(reply), reply)

    def test_the_same_message_replayed_after_a_minute_gets_the_old_reply_not_a_fresh_code(self):
        pushed = self.wx.text(openid="oVictim03", content=KEYWORD)
        code = self.code_from(pushed)
        url, _, _ = self.signed(pushed)
        original = self.wx.pushes()[-1]["xml"]
        time.sleep(65)  # longer than retries used to be remembered; the timestamp is still accepted
        status, reply = self.post_callback(url, original)
        replayed = CODE.search(reply)
        print(f"\nsame URL and body 65 s later: HTTP {status}, "
              f"code {'the same' if replayed and replayed.group(1) == code else 'NEW' if replayed else 'none'}")
        self.assertEqual(status, 200)
        self.assertEqual(replayed.group(1), code)  # the first reply again, no fresh code
        user = self.chatd.client().rpc("auth.wechat.code", {"code": code})["user"]
        self.assertEqual(self.chatd.ctl_json("users", "show", str(user["id"]))["wechat"]["openid"], "oVictim03")


class SafeModeReplayTest(ReplayCase):
    safe = True

    def test_a_safe_push_url_stripped_to_plaintext_is_refused(self):
        pushed = self.wx.text(openid="oVictim04", content=KEYWORD, safe=True)
        code = self.code_from(pushed)
        msg_id = int(re.search(r"<MsgId>(\d+)</MsgId>", self.wx.pushes()[-1]["xml"]).group(1))
        url, timestamp, nonce = self.signed(pushed)
        # Compatible mode takes plaintext too: without encrypt_type the (timestamp, nonce)
        # signature is all that is checked.
        parts = urllib.parse.urlsplit(url)
        query = {k: v for k, v in urllib.parse.parse_qsl(parts.query) if k not in ("encrypt_type", "msg_signature")}
        stripped = parts._replace(query=urllib.parse.urlencode(query)).geturl()
        status, reply = self.post_callback(stripped, self.forged_keyword("oVictim04", timestamp, msg_id=777))
        print(f"\nsafe-mode URL stripped to plaintext + forged body: HTTP {status}")
        self.assertEqual(status, 403, reply)
        self.assertIsNone(CODE.search(reply), reply)
        # Even a correctly sealed message cannot reuse the signature for another message.
        resealed = self.wx.push(xml=self.forged_keyword("oVictim04", timestamp, msg_id=778), safe=True,
                                timestamp=int(timestamp), nonce=nonce, retries=1)
        self.assertEqual(resealed["status"], 403, resealed)
        # WeChat's retry of the original message (a new nonce) gets the first code again.
        again = self.wx.text(openid="oVictim04", content=KEYWORD, safe=True, msg_id=msg_id)
        self.assertEqual(self.code_from(again), code)


if __name__ == "__main__":
    main()
