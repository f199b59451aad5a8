"""The payment fakes on their own (no chatd): each is driven by a correct client written here with
its own signing code (cryptography / hashlib, none of the fakes' helpers), and its notifications go
to a small receiver here that verifies and decrypts them independently."""
import base64
import hashlib
import http.client
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from harness import ROOT, main, wait_for

FAKES = os.path.join(ROOT, "tests", "fakes")
DELAYS = "0.1,0.2,0.3"  # the shortened retry schedule: four attempts in all


# --- plumbing -------------------------------------------------------------------------------------

class Fake:
    """python3 tests/fakes/<script> --listen 127.0.0.1:0 --port-file F ..."""

    def __init__(self, workdir, script, *args):
        self.port_file = os.path.join(workdir, script + ".port")
        self.log = open(os.path.join(workdir, script + ".log"), "wb")
        self.proc = subprocess.Popen([sys.executable, os.path.join(FAKES, script), "--listen", "127.0.0.1:0",
                                      "--port-file", self.port_file, "--retry-delays", DELAYS,
                                      "--notify-timeout", "2", *args], stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        self.port = int(wait_for(self.read_port, what=script + " port"))

    def read_port(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"fake exited with {self.proc.returncode}")
        if os.path.exists(self.port_file):
            with open(self.port_file) as f:
                return f.read().strip()
        return None

    def call(self, method, target, body=b"", headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        c.request(method, target, body=body, headers=headers or {})
        r = c.getresponse()
        out = r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        c.close()
        return out

    def hook(self, name, body=None):
        status, _, raw = self.call("POST" if body is not None else "GET", "/_fake/" + name,
                                   json.dumps(body).encode() if body is not None else b"")
        return status, json.loads(raw)

    def records(self, no):
        return self.hook("notifications?out_trade_no=" + urllib.parse.quote(no))[1]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.log.close()


class Receiver:
    """The app's notify endpoint: records every request; answers from `script`, then `default`."""

    def __init__(self, default):
        self.default, self.script, self.seen, self.lock = default, [], [], threading.Lock()
        receiver = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def answer(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urllib.parse.urlsplit(self.path)
                with receiver.lock:
                    receiver.seen.append({"method": self.command, "path": parts.path, "query": parts.query,
                                          "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                    status, text = receiver.script.pop(0) if receiver.script else receiver.default
                self.send_response(status)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            do_GET = do_POST = answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def reset(self, script=()):
        with self.lock:
            self.script, self.seen = list(script), []

    def wait(self, n):
        return wait_for(lambda: len(self.seen) >= n and list(self.seen), what=f"{n} notifications")

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def new_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def write_pem(path, key):
    with open(path, "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))


def read_pem(path):
    with open(path, "rb") as f:
        return serialization.load_pem_public_key(f.read())


def sign(key, message):
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def verifies(public_key, message, b64):
    try:
        public_key.verify(base64.b64decode(b64), message, padding.PKCS1v15(), hashes.SHA256())
        return True
    except (InvalidSignature, ValueError):
        return False


class FakeCase(unittest.TestCase):
    script = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="fakepay-")
        cls.receiver = Receiver(cls.default_reply)
        cls.fake = Fake(cls.tmp, cls.script, *cls.fake_args())

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()
        cls.receiver.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.receiver.reset()

    def settled(self, no, attempts):
        """Waits for the records of an order to reach `attempts` attempts in all; returns them."""
        return wait_for(lambda: (lambda r: sum(len(x["attempts"]) for x in r) >= attempts and r)(self.fake.records(no)),
                        what=f"{attempts} attempts for {no}")


# --- WeChat Pay API v3 -----------------------------------------------------------------------------

MCHID, WX_APPID, SERIAL = "1900000001", "wxd678efh567hg6787", "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
API_V3_KEY = "0123456789abcdefghijABCDEFGHIJ01"
PUB_KEY_ID = "PUB_KEY_ID_0114232024112200000000000000000001"


class WeChatPay(FakeCase):
    script = "fake_wechatpay.py"
    default_reply = (204, b"")

    @classmethod
    def fake_args(cls):
        cls.merchant = new_key()
        write_pem(os.path.join(cls.tmp, "merchant.pem"), cls.merchant)
        cls.platform_pem = os.path.join(cls.tmp, "wechatpay_pub.pem")
        return ["--mchid", MCHID, "--appid", WX_APPID, "--serial", SERIAL, "--merchant-public-key",
                os.path.join(cls.tmp, "merchant.pem"), "--api-v3-key", API_V3_KEY,
                "--platform-public-key-out", cls.platform_pem, "--public-key-id", PUB_KEY_ID]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.platform = read_pem(cls.platform_pem)

    def request(self, method, target, obj=None, key=None, ts=None, mchid=MCHID):
        body = json.dumps(obj, ensure_ascii=False).encode() if obj is not None else b""
        ts, nonce = str(ts or int(time.time())), secrets.token_hex(16)
        sig = sign(key or self.merchant, f"{method}\n{target}\n{ts}\n{nonce}\n".encode() + body + b"\n")
        auth = (f'WECHATPAY2-SHA256-RSA2048 mchid="{mchid}",nonce_str="{nonce}",signature="{sig}",'
                f'timestamp="{ts}",serial_no="{SERIAL}"')
        headers = {"Authorization": auth, "Accept": "application/json", "User-Agent": "test"}
        if obj is not None:
            headers["Content-Type"] = "application/json"
        return self.fake.call(method, target, body, headers)

    def signed_ok(self, headers, body):
        message = f"{headers['wechatpay-timestamp']}\n{headers['wechatpay-nonce']}\n".encode() + body + b"\n"
        return verifies(self.platform, message, headers["wechatpay-signature"])

    def order(self, no, total=990):
        status, headers, body = self.request("POST", "/v3/pay/transactions/native", {
            "appid": WX_APPID, "mchid": MCHID, "description": "Plus月卡", "out_trade_no": no,
            "notify_url": self.receiver.url + "/pay/wechat/notify", "amount": {"total": total, "currency": "CNY"}})
        self.assertEqual(status, 200, body)
        self.assertTrue(self.signed_ok(headers, body))
        self.assertEqual(headers["wechatpay-serial"], PUB_KEY_ID)
        return json.loads(body)

    def query(self, no):
        status, headers, body = self.request("GET", f"/v3/pay/transactions/out-trade-no/{no}?mchid={MCHID}")
        self.assertTrue(self.signed_ok(headers, body))
        return status, json.loads(body)

    def decrypt(self, raw):
        r = json.loads(raw)["resource"]
        return json.loads(AESGCM(API_V3_KEY.encode()).decrypt(r["nonce"].encode(), base64.b64decode(r["ciphertext"]),
                                                              r["associated_data"].encode()))

    def test_order_query_close(self):
        answer = self.order("wxorder0001")
        self.assertTrue(answer["code_url"].startswith("weixin://wxpay/bizpayurl?pr="))
        self.assertEqual(self.order("wxorder0001"), answer)  # a retried order: the same code_url
        status, t = self.query("wxorder0001")
        self.assertEqual((status, t["trade_state"], t["amount"]["total"]), (200, "NOTPAY", 990))
        status, headers, body = self.request("POST", "/v3/pay/transactions/out-trade-no/wxorder0001/close",
                                             {"mchid": MCHID})
        self.assertEqual((status, body), (204, b""))
        self.assertTrue(self.signed_ok(headers, body))  # a 204 is signed too, over "ts\nnonce\n\n"
        self.assertEqual(self.query("wxorder0001")[1]["trade_state"], "CLOSED")
        self.assertEqual(self.fake.hook("pay", {"out_trade_no": "wxorder0001"})[0], 409)
        self.assertEqual(self.query("nosuchorder1")[0], 404)

    def test_bad_signatures_refused(self):
        target, obj = "/v3/pay/transactions/native", {"appid": WX_APPID, "mchid": MCHID}
        for case in ({"key": new_key()}, {"ts": int(time.time()) - 600}, {"mchid": "1900000002"}):
            status, headers, body = self.request("POST", target, obj, **case)
            self.assertEqual(status, 401, case)
            self.assertEqual(json.loads(body)["code"], "SIGN_ERROR")
            self.assertTrue(self.signed_ok(headers, body))
        status, _, body = self.fake.call("GET", f"/v3/pay/transactions/out-trade-no/x?mchid={MCHID}")
        self.assertEqual((status, json.loads(body)["code"]), (401, "SIGN_ERROR"))

    def test_paid_notification_decrypts_and_retries(self):
        self.order("wxorder0002", 1234)
        self.receiver.reset([(500, b'{"code":"FAIL","message":"x"}'), (503, b"")])
        self.fake.hook("pay", {"out_trade_no": "wxorder0002"})
        seen = self.receiver.wait(3)
        rec = self.settled("wxorder0002", 3)[0]
        self.assertEqual([a.get("status") for a in rec["attempts"]], [500, 503, 204])
        self.assertTrue(rec["done"])
        self.assertEqual(len({s["body"] for s in seen}), 1)  # retries resend the same notification
        for s in seen:
            self.assertTrue(self.signed_ok(s["headers"], s["body"]))
            self.assertEqual(s["headers"]["wechatpay-serial"], PUB_KEY_ID)
        event = json.loads(seen[0]["body"])
        self.assertEqual((event["event_type"], event["resource_type"], event["resource"]["algorithm"],
                          len(event["resource"]["nonce"])), ("TRANSACTION.SUCCESS", "encrypt-resource",
                                                             "AEAD_AES_256_GCM", 12))
        t = self.decrypt(seen[0]["body"])
        self.assertEqual((t["out_trade_no"], t["mchid"], t["appid"], t["trade_state"], t["amount"]["total"]),
                         ("wxorder0002", MCHID, WX_APPID, "SUCCESS", 1234))
        self.assertEqual(self.query("wxorder0002")[1]["transaction_id"], t["transaction_id"])
        time.sleep(0.8)
        self.assertEqual(len(self.receiver.seen), 3)  # nothing more after the 204

    def test_faults(self):
        self.order("wxorder0003", 500)
        self.fake.hook("pay", {"out_trade_no": "wxorder0003"})
        genuine = self.receiver.wait(1)[0]
        event_id = json.loads(genuine["body"])["id"]

        def send(fault, **extra):
            self.receiver.reset()
            status, answer = self.fake.hook("notify", dict({"out_trade_no": "wxorder0003", "fault": fault}, **extra))
            self.assertEqual(status, 200, answer)
            return self.receiver.wait(len(answer["notifications"]))

        s = send("forged_signature")[0]
        self.assertFalse(self.signed_ok(s["headers"], s["body"]))
        s = send("signature_probe")[0]
        self.assertTrue(s["headers"]["wechatpay-signature"].startswith("WECHATPAY/SIGNTEST/"))
        self.assertFalse(self.signed_ok(s["headers"], s["body"]))
        s = send("wrong_amount")[0]
        self.assertTrue(self.signed_ok(s["headers"], s["body"]))
        self.assertNotEqual(self.decrypt(s["body"])["amount"]["total"], 500)
        s = send("wrong_mchid")[0]
        self.assertNotEqual(self.decrypt(s["body"])["mchid"], MCHID)
        s = send("unknown_order")[0]
        self.assertNotIn(self.decrypt(s["body"])["out_trade_no"], {o["out_trade_no"] for o in self.fake.hook("orders")[1]})
        s = send("stale_timestamp")[0]
        self.assertTrue(self.signed_ok(s["headers"], s["body"]))
        self.assertGreater(time.time() - int(s["headers"]["wechatpay-timestamp"]), 300)
        s = send("bad_ciphertext")[0]
        self.assertTrue(self.signed_ok(s["headers"], s["body"]))
        with self.assertRaises(InvalidTag):
            self.decrypt(s["body"])
        replays = send("replay", count=3)
        self.assertEqual(len(replays), 3)
        for r in replays:
            self.assertEqual((r["body"], r["headers"]["wechatpay-signature"]),
                             (genuine["body"], genuine["headers"]["wechatpay-signature"]))
        dupes = send(None, concurrent=5)
        self.assertEqual({json.loads(d["body"])["id"] for d in dupes}, {event_id})
        self.assertEqual(len(dupes), 5)

    def test_fail_injection(self):
        self.fake.hook("fail", {"path_prefix": "/v3/pay/transactions/native", "status": 500, "count": 1})
        status, headers, body = self.request("POST", "/v3/pay/transactions/native", {})
        self.assertEqual((status, json.loads(body)["code"]), (500, "SYSTEM_ERROR"))
        self.fake.hook("fail", {"path_prefix": "/v3/pay/transactions/native", "signature": "forged"})
        status, headers, body = self.request("POST", "/v3/pay/transactions/native", {
            "appid": WX_APPID, "mchid": MCHID, "description": "d", "out_trade_no": "wxorder0004",
            "notify_url": self.receiver.url + "/n", "amount": {"total": 1}})
        self.assertEqual(status, 200)
        self.assertFalse(self.signed_ok(headers, body))
        self.order("wxorder0005", 1)  # the injection is used up


# --- Alipay --------------------------------------------------------------------------------------

ALI_APP_ID = "2021000123456789"


def ali_response_text(raw, key):
    """The exact text of the *_response value, as received (no re-serialising)."""
    start = raw.index('"' + key + '":') + len(key) + 3
    _, end = json.JSONDecoder().raw_decode(raw, start)
    return raw[start:end]


def ali_content(params, drop):
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in drop and params[k] != "")


class Alipay(FakeCase):
    script = "fake_alipay.py"
    default_reply = (200, b"success")

    @classmethod
    def fake_args(cls):
        cls.app = new_key()
        write_pem(os.path.join(cls.tmp, "app.pem"), cls.app)
        cls.alipay_pem = os.path.join(cls.tmp, "alipay_pub.pem")
        return ["--app-id", ALI_APP_ID, "--app-public-key", os.path.join(cls.tmp, "app.pem"),
                "--alipay-public-key-out", cls.alipay_pem]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.alipay = read_pem(cls.alipay_pem)

    def call(self, method, biz, app_id=ALI_APP_ID, key=None, notify=True):
        p = {"app_id": app_id, "method": method, "format": "JSON", "charset": "utf-8", "sign_type": "RSA2",
             "timestamp": time.strftime("%Y-%m-%d %H:%M:%S"), "version": "1.0",
             "biz_content": json.dumps(biz, ensure_ascii=False)}
        if notify:
            p["notify_url"] = self.receiver.url + "/pay/alipay/notify"
        p["sign"] = sign(key or self.app, ali_content(p, ("sign",)).encode())
        status, _, body = self.fake.call("POST", "/gateway.do", urllib.parse.urlencode(p).encode(),
                                         {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"})
        self.assertEqual(status, 200)
        raw = body.decode()
        name = method.replace(".", "_") + "_response"
        text = ali_response_text(raw, name)
        whole = json.loads(raw)
        signed = "sign" in whole and verifies(self.alipay, text.encode(), whole["sign"])
        return json.loads(text), signed, text

    def precreate(self, no, amount="12.34"):
        r, signed, text = self.call("alipay.trade.precreate", {"out_trade_no": no, "total_amount": amount,
                                                                "subject": "Plus月卡", "timeout_express": "15m"})
        self.assertEqual(r["code"], "10000", r)
        self.assertTrue(signed)
        self.assertIn("\\/", text)  # slashes arrive escaped: a client that re-serialises fails to verify
        return r

    def verified(self, body, charset="utf-8"):
        params = dict(urllib.parse.parse_qsl(body.decode("ascii"), keep_blank_values=True, encoding=charset))
        ok = verifies(self.alipay, ali_content(params, ("sign", "sign_type")).encode(charset), params["sign"])
        return params, ok

    def test_precreate_query_close(self):
        r = self.precreate("aliorder0001")
        self.assertTrue(r["qr_code"].startswith("https://qr.alipay.com/"))
        q, signed, _ = self.call("alipay.trade.query", {"out_trade_no": "aliorder0001"})
        self.assertEqual((q["code"], q["sub_code"], signed), ("40004", "ACQ.TRADE_NOT_EXIST", True))
        self.assertEqual(self.call("alipay.trade.close", {"out_trade_no": "aliorder0001"})[0]["sub_code"],
                         "ACQ.TRADE_NOT_EXIST")
        self.fake.hook("scan", {"out_trade_no": "aliorder0001"})
        q = self.call("alipay.trade.query", {"out_trade_no": "aliorder0001"})[0]
        self.assertEqual((q["code"], q["trade_status"], q["total_amount"]), ("10000", "WAIT_BUYER_PAY", "12.34"))
        self.fake.hook("pay", {"out_trade_no": "aliorder0001", "notify": False})
        q = self.call("alipay.trade.query", {"out_trade_no": "aliorder0001"})[0]
        self.assertEqual((q["trade_status"], q["total_amount"]), ("TRADE_SUCCESS", "12.34"))
        self.assertTrue(q["trade_no"])
        self.assertEqual(self.call("alipay.trade.close", {"out_trade_no": "aliorder0001"})[0]["sub_code"],
                         "ACQ.TRADE_STATUS_ERROR")
        self.precreate("aliorder0002")
        c = self.call("alipay.trade.cancel", {"out_trade_no": "aliorder0002"})[0]
        self.assertEqual((c["code"], c["action"]), ("10000", "close"))
        self.assertEqual(self.fake.hook("pay", {"out_trade_no": "aliorder0002"})[0], 409)

    def test_bad_requests_refused(self):
        biz = {"out_trade_no": "aliorder0009", "total_amount": "1.00", "subject": "x"}
        r, _, _ = self.call("alipay.trade.precreate", biz, key=new_key())
        self.assertEqual((r["code"], r["sub_code"]), ("40002", "isv.invalid-signature"))
        r, signed, _ = self.call("alipay.trade.precreate", biz, app_id="2021000000000000")
        self.assertEqual((r["code"], r["sub_code"], signed), ("40002", "isv.invalid-app-id", False))
        self.assertFalse(any(o["out_trade_no"] == "aliorder0009" for o in self.fake.hook("orders")[1]))

    def test_notification_verifies_and_retries(self):
        self.precreate("aliorder0003", "9.90")
        self.receiver.reset([(200, b"fail"), (200, b"success\n")])
        self.fake.hook("pay", {"out_trade_no": "aliorder0003"})
        seen = self.receiver.wait(3)
        rec = self.settled("aliorder0003", 3)[0]
        self.assertEqual([a["ok"] for a in rec["attempts"]], [False, False, True])
        params, ok = self.verified(seen[0]["body"])
        self.assertTrue(ok)
        self.assertEqual((params["app_id"], params["out_trade_no"], params["trade_status"], params["total_amount"],
                          params["notify_type"], params["sign_type"]),
                         (ALI_APP_ID, "aliorder0003", "TRADE_SUCCESS", "9.90", "trade_status_sync", "RSA2"))
        self.assertEqual({self.verified(s["body"])[0]["notify_id"] for s in seen}, {params["notify_id"]})
        time.sleep(0.8)
        self.assertEqual(len(self.receiver.seen), 3)

    def test_faults(self):
        self.precreate("aliorder0004", "5.00")
        self.fake.hook("pay", {"out_trade_no": "aliorder0004"})
        genuine = self.receiver.wait(1)[0]

        def send(fault, **extra):
            self.receiver.reset()
            status, answer = self.fake.hook("notify", dict({"out_trade_no": "aliorder0004", "fault": fault}, **extra))
            self.assertEqual(status, 200, answer)
            return [self.verified(s["body"]) for s in self.receiver.wait(len(answer["notifications"]))]

        self.assertFalse(send("forged_signature")[0][1])
        params, ok = send("wrong_amount")[0]
        self.assertTrue(ok)
        self.assertNotEqual(params["total_amount"], "5.00")
        params, ok = send("wrong_app_id")[0]
        self.assertTrue(ok)
        self.assertNotEqual(params["app_id"], ALI_APP_ID)
        params, ok = send("unknown_order")[0]
        self.assertTrue(ok)
        self.assertNotEqual(params["out_trade_no"], "aliorder0004")
        replays = send("replay", count=2)
        self.assertEqual([p for p, _ in replays], [self.verified(genuine["body"])[0]] * 2)
        dupes = send(None, concurrent=4)
        self.assertEqual(len({p["notify_id"] for p, _ in dupes}), 1)
        self.assertEqual(len(dupes), 4)

    def test_gbk_notification(self):
        self.precreate("aliorder0005")
        self.fake.hook("pay", {"out_trade_no": "aliorder0005", "charset": "GBK"})
        params, ok = self.verified(self.receiver.wait(1)[0]["body"], "gbk")
        self.assertTrue(ok)
        self.assertEqual((params["charset"], params["subject"]), ("GBK", "Plus月卡"))


# --- epay ----------------------------------------------------------------------------------------

PID, KEY = "1001", "Kd9s8Fj2LmQ4x7Zp0aBcDeFgHiJkLmNo"


def md5_sign(params, key=KEY):
    text = "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in ("sign", "sign_type") and params[k] != "")
    return hashlib.md5((text + key).encode()).hexdigest()


class EPay(FakeCase):
    script = "fake_epay.py"
    default_reply = (200, b"success")

    @classmethod
    def fake_args(cls):
        return ["--pid", PID, "--key", KEY]

    def form(self, no, money="1.00", key=KEY, **extra):
        p = dict({"pid": PID, "type": "alipay", "out_trade_no": no, "notify_url": self.receiver.url + "/pay/epay/notify",
                  "return_url": "http://127.0.0.1/return", "name": "Plus月卡", "money": money}, **extra)
        p["sign"], p["sign_type"] = md5_sign(p, key), "MD5"
        return p

    def mapi(self, no, **kw):
        status, _, body = self.fake.call("POST", "/mapi.php", urllib.parse.urlencode(self.form(no, **kw)).encode(),
                                         {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200)
        return json.loads(body)

    def query(self, no, key=KEY):
        q = urllib.parse.urlencode({"act": "order", "pid": PID, "key": key, "out_trade_no": no})
        return json.loads(self.fake.call("GET", "/api.php?" + q)[2])

    def test_mapi_submit_query(self):
        r = self.mapi("epayorder0001", clientip="127.0.0.1", device="pc")
        self.assertEqual(r["code"], 1, r)
        self.assertTrue(r["trade_no"] and r["qrcode"].startswith("https://qr.alipay.com/"))
        q = self.query("epayorder0001")
        self.assertEqual((q["code"], q["status"], q["money"], q["trade_no"], q["pid"]),
                         (1, 0, "1.00", r["trade_no"], PID))
        self.assertEqual(self.query("epayorder0001", key="wrong")["code"], -3)
        self.assertEqual(self.query("nosuchorder")["code"], -1)
        self.fake.hook("pay", {"out_trade_no": "epayorder0001", "notify": False})
        self.assertEqual(self.query("epayorder0001")["status"], 1)
        status, headers, body = self.fake.call("GET", "/submit.php?" + urllib.parse.urlencode(
            self.form("epayorder0002", "2.5", type="wxpay")))
        self.assertEqual(status, 200)
        self.assertIn("text/html", headers["content-type"])
        order = [o for o in self.fake.hook("orders")[1] if o["out_trade_no"] == "epayorder0002"][0]
        self.assertIn(order["trade_no"], body.decode())
        self.assertEqual((order["money"], order["type"], order["via"]), ("2.50", "wxpay", "submit"))

    def test_bad_requests_refused(self):
        r = self.mapi("epayorder0009", key="not-the-key")
        self.assertEqual(r["code"], -1)
        self.assertIn("签名", r["msg"])
        self.assertEqual(self.mapi("epayorder0009", money="-1")["code"], -1)
        self.assertEqual(self.query("epayorder0009")["code"], -1)

    def check(self, request, money="1.00"):
        params = dict(urllib.parse.parse_qsl(request["query"] if request["method"] == "GET" else request["body"].decode()))
        return params, params["sign"] == md5_sign(params) and params["sign_type"] == "MD5"

    def test_notifications_get_post_and_retries(self):
        self.mapi("epayorder0003", money="3")
        self.receiver.reset([(200, b"fail"), (500, b"")])
        self.fake.hook("pay", {"out_trade_no": "epayorder0003"})
        seen = self.receiver.wait(3)
        self.assertEqual([a["ok"] for a in self.settled("epayorder0003", 3)[0]["attempts"]], [False, False, True])
        params, ok = self.check(seen[0])
        self.assertTrue(ok)
        self.assertEqual((seen[0]["method"], params["pid"], params["out_trade_no"], params["money"],
                          params["trade_status"]), ("GET", PID, "epayorder0003", "3.00", "TRADE_SUCCESS"))
        time.sleep(0.8)
        self.assertEqual(len(self.receiver.seen), 3)
        self.mapi("epayorder0004")
        self.receiver.reset()
        self.fake.hook("pay", {"out_trade_no": "epayorder0004", "method": "POST"})
        s = self.receiver.wait(1)[0]
        self.assertEqual((s["method"], s["headers"]["content-type"]), ("POST", "application/x-www-form-urlencoded"))
        self.assertTrue(self.check(s)[1])

    def test_faults(self):
        self.mapi("epayorder0005")
        self.fake.hook("pay", {"out_trade_no": "epayorder0005"})
        genuine = self.receiver.wait(1)[0]

        def send(fault, **extra):
            self.receiver.reset()
            status, answer = self.fake.hook("notify", dict({"out_trade_no": "epayorder0005", "fault": fault}, **extra))
            self.assertEqual(status, 200, answer)
            return [self.check(s) for s in self.receiver.wait(len(answer["notifications"]))]

        self.assertFalse(send("forged_signature")[0][1])
        params, ok = send("wrong_amount")[0]
        self.assertTrue(ok)
        self.assertNotEqual(params["money"], "1.00")
        params, ok = send("wrong_pid")[0]
        self.assertTrue(ok)
        self.assertNotEqual(params["pid"], PID)
        params, ok = send("unknown_order")[0]
        self.assertTrue(ok)
        self.assertNotEqual(params["out_trade_no"], "epayorder0005")
        replays = send("replay", count=2)
        self.assertEqual([p for p, _ in replays], [self.check(genuine)[0]] * 2)
        self.assertEqual(len(send(None, concurrent=3)), 3)


if __name__ == "__main__":
    main()
