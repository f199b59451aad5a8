"""The fake WeChat platform on its own: the official signature vectors, safe-mode crypto, the token
and QR APIs with injected faults, and the phone simulator against a small callback server here
that checks signatures and decrypts independently of the fake's own code."""
import base64
import hashlib
import http.client
import importlib.util
import os
import shutil
import struct
import tempfile
import threading
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from harness import FAKE_WECHAT, FakeWeChat, main

APPID, SECRET, TOKEN = "wxfa4e000000000001", "s3cret-fake", "pushtoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 chars
ACCOUNT = "gh_fake000001"


def load_fake():
    spec = importlib.util.spec_from_file_location("fake_wechat", FAKE_WECHAT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fake = load_fake()
wire = importlib.import_module("fake_wechat_wire")  # its wire formats, found beside it


# --- what an app does with a push, written here without the fake's helpers ----------------------

def sha1_sorted(*parts):
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def app_key():
    return base64.b64decode(AES_KEY + "=")


def app_decrypt(b64):
    key = app_key()
    d = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = d.update(base64.b64decode(b64)) + d.finalize()
    plain = plain[:-plain[-1]]
    (n,) = struct.unpack(">I", plain[16:20])
    return plain[20:20 + n], plain[20 + n:].decode()


def app_encrypt(msg, appid=APPID):
    key = app_key()
    plain = os.urandom(16) + struct.pack(">I", len(msg)) + msg + appid.encode()
    pad = 32 - len(plain) % 32
    e = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(e.update(plain + bytes([pad]) * pad) + e.finalize()).decode()


def text_reply(to, frm, content):
    return (f"<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[{frm}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content></xml>")


class CallbackApp:
    """A minimal app endpoint. `mode`: reply | swap | success | empty | garbage | badsig | slow | slow_once."""

    def __init__(self):
        self.mode = "reply"
        self.delay = 0.0
        self.seen = []  # (query, decrypted message XML root) per POST that passed the checks
        self.rejected = []
        self.dropped = 0
        app = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body):
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    app.dropped += 1  # WeChat gave up waiting and closed the connection

            def do_GET(self):
                q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                if q.get("signature") == sha1_sorted(TOKEN, q.get("timestamp", ""), q.get("nonce", "")):
                    self.answer(200, q["echostr"].encode())
                else:
                    self.answer(403, b"bad signature")

            def do_POST(self):
                q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, reply = app.handle(q, body)
                self.answer(status, reply)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/wechat"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, q, body):
        ts, nonce = q.get("timestamp", ""), q.get("nonce", "")
        if q.get("signature") != sha1_sorted(TOKEN, ts, nonce):
            self.rejected.append("signature")
            return 403, b"bad signature"
        safe = q.get("encrypt_type") == "aes"
        if safe:
            encrypted = ET.fromstring(body).findtext("Encrypt")
            if q.get("msg_signature") != sha1_sorted(TOKEN, ts, nonce, encrypted):
                self.rejected.append("msg_signature")
                return 403, b"bad msg_signature"
            msg, appid = app_decrypt(encrypted)
            if appid != APPID:
                self.rejected.append("appid")
                return 403, b"wrong appid"
            root = ET.fromstring(msg)
        else:
            root = ET.fromstring(body)
        self.seen.append((q, root))
        if self.mode == "slow" or (self.mode == "slow_once" and len(self.seen) == 1):
            time.sleep(self.delay)
        user, account = root.findtext("FromUserName"), root.findtext("ToUserName")
        if self.mode in ("success", "empty"):
            return 200, b"success" if self.mode == "success" else b""
        if self.mode == "garbage":
            return 200, b'{"not":"xml"}'
        if self.mode == "swap":
            user, account = account, user
        content = root.findtext("Content") or root.findtext("Event")
        plain = text_reply(user, account, "got " + content)
        if not safe:
            return 200, plain.encode()
        encrypted, stamp, reply_nonce = app_encrypt(plain.encode()), str(int(time.time())), "4242"
        sig = sha1_sorted(TOKEN, stamp, reply_nonce, encrypted)
        if self.mode == "badsig":
            sig = sig[::-1]
        return 200, (f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt><MsgSignature><![CDATA[{sig}]]>"
                     f"</MsgSignature><TimeStamp>{stamp}</TimeStamp><Nonce><![CDATA[{reply_nonce}]]></Nonce>"
                     "</xml>").encode()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# --- pure functions ----------------------------------------------------------------------------

class CryptoTest(unittest.TestCase):
    def test_official_signature_vectors(self):
        self.assertEqual(wire.signature("AAAAA", "1714036504", "1514711492"),
                         "f464b24fc39322e44b38aa78f5edd27bd1441696")
        self.assertEqual(wire.signature("AAAAA", "1714037059", "486452656"),
                         "899cf89e464efb63f54ddac96b0a0a235f53aa78")

    def test_aes_round_trip_and_32_byte_padding(self):
        key = wire.aes_key(AES_KEY)
        for n in range(65):
            msg = bytes(range(65, 65 + n % 26)) * (n // 26 + 1)
            msg = msg[:n]
            with self.subTest(length=n):
                encrypted = wire.encrypt(key, msg, APPID)
                self.assertEqual(len(base64.b64decode(encrypted)) % 32, 0)
                self.assertEqual(wire.decrypt(key, encrypted), (msg, APPID))
                self.assertEqual(app_decrypt(encrypted), (msg, APPID))  # as an app would read it
                self.assertEqual(wire.decrypt(key, app_encrypt(msg)), (msg, APPID))

    def test_bad_key_and_bad_padding_are_refused(self):
        with self.assertRaises(ValueError):
            wire.aes_key("short")
        with self.assertRaises(ValueError):
            wire.unpad32(b"\x00" * 32)


# --- the fake as a process ----------------------------------------------------------------------

class FakeCase(unittest.TestCase):
    fake_args = ()

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="chatd-wechat-")
        self.wx = FakeWeChat(self.workdir, "--appid", APPID, "--secret", SECRET, "--token", TOKEN,
                             "--aes-key", AES_KEY, *self.fake_args)

    def tearDown(self):
        self.wx.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def stable_token(self, force=False, **overrides):
        body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET, "force_refresh": force}
        body.update(overrides)
        return self.wx.post("/cgi-bin/stable_token", body)

    def create_qr(self, token, body=None):
        body = body or {"expire_seconds": 300, "action_name": "QR_STR_SCENE",
                        "action_info": {"scene": {"scene_str": "login_abc"}}}
        return self.wx.post("/cgi-bin/qrcode/create?access_token=" + urllib.parse.quote(token), body)

    def assertErr(self, answer, errcode, errmsg=None):
        self.assertEqual(answer.get("errcode"), errcode, answer)
        if errmsg:
            self.assertTrue(answer["errmsg"].startswith(errmsg), answer)


class ApiTest(FakeCase):
    def test_stable_token_is_stable_until_forced(self):
        first = self.stable_token()
        self.assertEqual(self.stable_token()["access_token"], first["access_token"])
        self.assertTrue(7190 <= first["expires_in"] <= 7200, first)
        forced = self.stable_token(force=True)
        self.assertNotEqual(forced["access_token"], first["access_token"])
        self.assertNotIn("errcode", self.create_qr(first["access_token"]))  # old one still in its grace
        self.assertEqual(self.stable_token()["access_token"], forced["access_token"])
        stats = self.wx.stats()
        self.assertEqual((stats["stable_token"], stats["force_refresh"]), (4, 1))

    def test_credential_errors(self):
        self.assertErr(self.stable_token(appid="wxnope"), 40013, "invalid appid")
        self.assertErr(self.stable_token(secret="nope"), 40125, "invalid appsecret")
        self.assertErr(self.stable_token(grant_type="password"), 40002)
        self.assertErr(self.wx.get(f"/cgi-bin/token?grant_type=client_credential&appid={APPID}&secret=x"), 40125)

    def test_classic_token_is_new_every_call(self):
        q = f"/cgi-bin/token?grant_type=client_credential&appid={APPID}&secret={SECRET}"
        a, b = self.wx.get(q), self.wx.get(q)
        self.assertNotEqual(a["access_token"], b["access_token"])
        self.assertEqual(a["expires_in"], 7200)
        self.assertNotIn("errcode", self.create_qr(a["access_token"]))  # within the grace period
        self.assertEqual(self.wx.stats()["token"], 2)

    def test_qrcode_create_show_and_list(self):
        token = self.stable_token()["access_token"]
        qr = self.create_qr(token)
        self.assertEqual(qr["expire_seconds"], 300)
        self.assertTrue(qr["url"].startswith("http://weixin.qq.com/q/"), qr)
        numeric = self.create_qr(token, {"action_name": "QR_SCENE", "action_info": {"scene": {"scene_id": 7}}})
        self.assertEqual(numeric["expire_seconds"], 60)  # the default
        huge = self.create_qr(token, {"expire_seconds": 10**8, "action_name": "QR_SCENE",
                                      "action_info": {"scene": {"scene_id": 8}}})
        self.assertEqual(huge["expire_seconds"], 2592000)
        listed = self.wx.qrcodes()
        self.assertEqual([c["scene"] for c in listed], ["login_abc", 7, 8])
        self.assertEqual((listed[0]["ticket"], listed[0]["url"]), (qr["ticket"], qr["url"]))

        c = http.client.HTTPConnection("127.0.0.1", self.wx.port, timeout=10)
        c.request("GET", "/cgi-bin/showqrcode?ticket=" + urllib.parse.quote(qr["ticket"], safe=""))
        r = c.getresponse()
        self.assertEqual((r.status, r.read()[:8]), (200, b"\x89PNG\r\n\x1a\n"))
        c.request("GET", "/cgi-bin/showqrcode?ticket=nope")
        r = c.getresponse()
        r.read()
        self.assertEqual(r.status, 404)
        c.close()

    def test_qrcode_create_refuses_bad_bodies(self):
        token = self.stable_token()["access_token"]
        self.assertErr(self.create_qr(token, {"action_name": "QR_SCENE", "action_info": {"scene_id": 1}}), 40053)
        self.assertErr(self.create_qr(token, {"action_name": "QR_STR_SCENE",
                                              "action_info": {"scene": {"scene_str": "x" * 65}}}), 40053)
        self.assertErr(self.create_qr(token, {"action_name": "QR_SCENE", "action_info": {"scene": {"scene_id": 0}}}),
                       40053)
        self.assertErr(self.create_qr(token, {"action_name": "QR_BOGUS"}), 40052)
        self.assertErr(self.wx.post("/cgi-bin/qrcode/create", {}), 41001, "access_token missing")
        self.assertErr(self.create_qr("made-up"), 40001)
        self.assertEqual(self.wx.stats()["tokens_rejected"], 2)

    def test_rotation_then_refresh_recovers(self):
        token = self.stable_token()["access_token"]
        self.wx.rotate()
        self.assertErr(self.create_qr(token), 40001, "invalid credential, access_token is invalid or not latest")
        fresh = self.stable_token()["access_token"]
        self.assertNotEqual(fresh, token)
        self.assertNotIn("errcode", self.create_qr(fresh))

    def test_injected_errors_count_down(self):
        token = self.stable_token()["access_token"]
        self.wx.fail("qrcode/create", 40164, count=2)
        for _ in range(2):
            self.assertErr(self.create_qr(token), 40164, "invalid ip 127.0.0.1 ipv6 ::ffff:127.0.0.1, not in whitelist")
        self.assertNotIn("errcode", self.create_qr(token))
        self.wx.fail("*", -1)
        self.assertErr(self.stable_token(), -1, "system error")
        self.assertEqual(self.wx.stats()["errors_injected"], 3)

    def test_user_info_after_scan(self):
        app = CallbackApp()
        self.addCleanup(app.stop)
        self.wx.configure(callback=app.url)
        token = self.stable_token()["access_token"]
        qr = self.create_qr(token)
        self.assertTrue(self.wx.scan(ticket=qr["ticket"], openid="Uabc")["ok"])
        self.assertTrue(self.wx.follow(openid="oplain")["ok"])
        info = self.wx.get(f"/cgi-bin/user/info?access_token={urllib.parse.quote(token)}&openid=Uabc&lang=zh_CN")
        self.assertEqual((info["subscribe"], info["unionid"], info["subscribe_scene"], info["qr_scene_str"]),
                         (1, "union_Uabc", "ADD_SCENE_QR_CODE", "login_abc"))
        plain = self.wx.get(f"/cgi-bin/user/info?access_token={urllib.parse.quote(token)}&openid=oplain")
        self.assertNotIn("unionid", plain)
        self.assertErr(self.wx.get(f"/cgi-bin/user/info?access_token={urllib.parse.quote(token)}&openid=ox"), 40003)
        self.assertEqual(self.wx.stats()["user_info"], 3)


class ExpiryTest(FakeCase):
    fake_args = ("--token-ttl", "1")

    def test_expired_token_gets_42001(self):
        token = self.stable_token()["access_token"]
        time.sleep(1.2)
        self.assertErr(self.create_qr(token), 42001, "access_token expired")
        self.assertNotEqual(self.stable_token()["access_token"], token)


class SubscriptionAccountTest(FakeCase):
    fake_args = ("--account", "subscription")

    def test_qrcode_create_is_unauthorized(self):
        self.assertErr(self.create_qr(self.stable_token()["access_token"]), 48001, "api unauthorized")


# --- the phone simulator -----------------------------------------------------------------------

class SimulatorTest(FakeCase):
    def setUp(self):
        super().setUp()
        self.app = CallbackApp()
        self.wx.configure(callback=self.app.url, reply_timeout=0.5)
        token = self.stable_token()["access_token"]
        self.qr = self.create_qr(token)

    def tearDown(self):
        self.app.stop()
        super().tearDown()

    def test_url_verification(self):
        self.assertTrue(self.wx.verify_url()["ok"])
        bad = self.wx.verify_url("bad")
        self.assertEqual((bad["ok"], bad["status"]), (False, 403))

    def test_scan_and_text_get_correct_replies_in_both_modes(self):
        for safe in (False, True):
            with self.subTest(safe=safe):
                self.app.seen.clear()
                new = self.wx.scan(ticket=self.qr["ticket"], openid="o1", safe=safe)
                self.assertTrue(new["ok"], new)
                self.assertEqual(new["reply"]["content"], "got subscribe")
                self.assertEqual((new["reply"]["to"], new["reply"]["from"]), ("o1", ACCOUNT))
                again = self.wx.scan(url=self.qr["url"], openid="o1", following=True, safe=safe)
                self.assertTrue(again["ok"], again)
                text = self.wx.text(openid="o1", content="验证码", safe=safe, msg_id=123456789012345678)
                self.assertEqual((text["ok"], text["attempts"], text["reply"]["content"]), (True, 1, "got 验证码"))
                (q1, sub), (q2, scan), (_, msg) = self.app.seen
                self.assertEqual((sub.findtext("Event"), sub.findtext("EventKey")), ("subscribe", "qrscene_login_abc"))
                self.assertEqual((scan.findtext("Event"), scan.findtext("EventKey")), ("SCAN", "login_abc"))
                self.assertEqual(sub.findtext("Ticket"), self.qr["ticket"])
                self.assertEqual((msg.findtext("MsgId"), msg.findtext("ToUserName")), ("123456789012345678", ACCOUNT))
                self.assertEqual(q1.get("encrypt_type"), "aes" if safe else None)
                self.assertEqual(q1["openid"], "o1")

    def test_wrong_replies_are_flagged(self):
        for safe in (False, True):
            for mode, needle in (("swap", "ToUserName"), ("garbage", "该公众号暂时无法提供服务")):
                with self.subTest(safe=safe, mode=mode):
                    self.app.mode = mode
                    r = self.wx.text(openid="o2", content="hi", safe=safe)
                    self.assertFalse(r["ok"], r)
                    self.assertTrue(any(needle in p for p in r["problems"]), r["problems"])
        self.app.mode = "badsig"
        r = self.wx.text(openid="o2", content="hi", safe=True)
        self.assertIn("MsgSignature", " ".join(r["problems"]))

    def test_success_and_empty_bodies_are_accepted(self):
        for mode in ("success", "empty"):
            self.app.mode = mode
            r = self.wx.text(openid="o3", content="hi", safe=True)
            self.assertEqual((r["ok"], r["empty_ok"], r["reply"]), (True, True, None))

    def test_slow_reply_is_retried_with_the_same_message(self):
        self.app.mode, self.app.delay = "slow", 0.8
        r = self.wx.text(openid="o4", content="slow", safe=True, timestamp=1700000000)
        self.assertEqual((r["ok"], r["attempts"]), (False, 3))
        self.assertIn("3 attempts", r["problems"][0])
        time.sleep(0.5)  # let the server finish its sleeps
        self.assertEqual(len(self.app.seen), 3)
        self.assertEqual({root.findtext("CreateTime") for _, root in self.app.seen}, {"1700000000"})
        self.assertEqual(len({root.findtext("MsgId") for _, root in self.app.seen}), 1)
        self.assertEqual(len({q["nonce"] for q, _ in self.app.seen}), 3)

    def test_one_slow_reply_then_success(self):
        self.app.mode, self.app.delay = "slow_once", 0.8
        r = self.wx.scan(scene="login_abc", openid="o5")
        self.assertEqual((r["ok"], r["attempts"]), (True, 2))

    def test_each_attempt_reports_its_signed_url_and_a_given_nonce_is_used_first(self):
        self.app.mode, self.app.delay = "slow_once", 0.8
        r = self.wx.text(openid="o8", content="hi", timestamp=1700000000, nonce=424242)
        self.assertEqual((r["ok"], r["attempts"]), (True, 2))
        first, second = (dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(t["url"]).query)) for t in r["tries"])
        self.assertEqual((first["timestamp"], first["nonce"]), ("1700000000", "424242"))
        self.assertEqual(first["signature"], sha1_sorted(TOKEN, "1700000000", "424242"))
        self.assertNotEqual(second["nonce"], "424242")  # a retry is signed afresh
        self.assertEqual([q["nonce"] for q, _ in self.app.seen], ["424242", second["nonce"]])

    def test_forged_pushes_reach_the_app(self):
        xml = wire.message_xml([("ToUserName", ACCOUNT), ("FromUserName", "o6"), ("CreateTime", 1),
                                ("MsgType", "text"), ("Content", "hi"), ("MsgId", 1)])
        cases = [({"sign": "bad"}, "signature"), ({"sign": "none"}, "signature"),
                 ({"safe": True, "msg_signature": "bad"}, "msg_signature"),
                 ({"safe": True, "appid": "wxother"}, "appid")]
        for opts, reason in cases:
            with self.subTest(**opts):
                self.app.rejected.clear()
                r = self.wx.push(xml=xml, **opts)
                self.assertEqual((r["ok"], r["status"], r["attempts"]), (False, 403, 1))
                self.assertEqual(self.app.rejected, [reason])
        self.assertTrue(self.wx.push(xml=xml, safe=True)["ok"])
        self.assertEqual(len(self.wx.pushes()), 5)

    def test_unknown_ticket_and_unreachable_app(self):
        status, body = self.wx.request("POST", "/_fake/scan", {"ticket": "nope", "openid": "o7"})
        self.assertEqual(status, 404)
        self.wx.configure(callback="http://127.0.0.1:1/wechat")
        r = self.wx.follow(openid="o7")
        self.assertEqual((r["ok"], r["attempts"], r["status"]), (False, 3, None))


if __name__ == "__main__":
    main()
