"""Online payment (CONTRACT §11) against the payment fakes, one class per channel: an order is
placed, paid and credited exactly once, whatever arrives (replays, concurrent duplicates, forged
or wrong notifications, a lost notification, a restart), closed at the channel when it expires,
and renews and rewards like a card."""
import json
import os
import signal
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from harness import Chatd, ChatdTestCase, FakeChannel, FakeUpstream, RpcError, main, wait_for

API_V3_KEY = "0123456789abcdefghijABCDEFGHIJ01"
MCHID, APPID, SERIAL, PUB_KEY_ID = "1900000001", "wxd678efh567hg6787", "5157F09EFDC096DE15EBE81A47057A72", \
    "PUB_KEY_ID_0114232134912410000000000000"
ALIPAY_APP_ID = "2021000123456789"
EPAY_PID, EPAY_KEY = "1001", "Zx9kLm3Qp7Rt5Vw1"


def write_key_pair(workdir, name):
    """A fresh RSA-2048 pair: (private PEM path, public PEM path)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    priv, pub = os.path.join(workdir, name + ".pem"), os.path.join(workdir, name + "_pub.pem")
    with open(priv, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(pub, "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))
    return priv, pub


class PaymentCase(ChatdTestCase):
    """Subclasses name the channel, start its fake and give chatd's [pay.*] section."""
    channel = ""
    success = None  # (status, body) of the channel's own success reply

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="chatd-pay-")
        self.fake = FakeUpstream(self.workdir)
        self.pay_fake, conf = self.start_channel()
        self.chatd = Chatd(self.workdir, "[pay]\norder_minutes = 15\n" + conf, public_url=True).start()
        self.chatd.ctl("settings", "set", "referral.paid_percent", "10")
        self.plan = self.chatd.ctl_json("plans", "set", "--name", "月卡", "--price", "19.90", "--questions", "100",
                                        "--days", "30")

    def tearDown(self):
        try:
            super().tearDown()
        finally:
            self.pay_fake.stop()

    def buyer(self, name="buyer", invite=None):
        c = self.chatd.client()
        params = {"username": name, "password": "correct horse battery"}
        if invite:
            params["invite"] = invite
        c.user = c.rpc("auth.password.register", params)["user"]
        return c

    def create(self, c):
        order = c.rpc("pay.create", {"plan_id": self.plan["id"], "channel": self.channel})
        self.assertEqual(order["amount_cents"], 1990)
        self.assertTrue(order.get("qr_url") or order.get("pay_url"))
        return order["order_no"]

    def paid(self, c):
        return c.rpc("me.get")["balance"]["paid"]

    def order_rows(self, order_no):
        with self.db() as db:
            return db.execute("SELECT status FROM orders WHERE order_no = ?", (order_no,)).fetchall(), \
                db.execute("SELECT count(*) FROM ledger WHERE ref = ?", ("order:" + order_no,)).fetchone()[0]

    def assert_credited_once(self, c, order_no):
        self.assertEqual(self.paid(c), 100)
        rows, ledger = self.order_rows(order_no)
        self.assertEqual((rows, ledger), ([("paid",)], 1))
        self.assertTrue(self.chatd.ctl_json("status")["ledger_consistent"])

    def replied(self, notifications):
        return [(a.get("status"), a.get("body") or "") for n in notifications for a in n["attempts"][:1]]

    # The checks every channel passes.

    def test_paid_by_notification_once_whatever_repeats(self):
        c = self.buyer()
        no = self.create(c)
        self.assertEqual(c.rpc("pay.order", {"order_no": no})["status"], "pending")
        first = self.pay_fake.pay(no)["notifications"]
        self.assertEqual(self.replied(first), [self.success])
        self.assert_credited_once(c, no)
        seen = c.rpc("pay.order", {"order_no": no})
        self.assertEqual(seen["status"], "paid")
        self.assertEqual(seen["balance"]["paid"], 100)
        # 3 replays one after another, then 20 copies at once: all acknowledged, one credit.
        replays = self.pay_fake.notify(no, fault="replay", count=3)
        dupes = self.pay_fake.notify(no, count=1, concurrent=20)
        self.assertEqual(self.replied(replays + dupes), [self.success] * 23)
        self.assert_credited_once(c, no)
        events = self.chatd.ctl_json("orders", "show", no)["events"]
        verdicts = [e["verdict"] for e in events if e["source"] == "notify"]
        self.assertEqual(verdicts.count("accepted"), 1)
        self.assertEqual(verdicts.count("duplicate"), 23)
        self.assertEqual({e["client_ip"] for e in events if e["source"] == "notify"}, {"127.0.0.1"})

    def test_bad_notifications_change_nothing(self):
        # The minute job's first pass (2 s after start) would find the order paid at the channel
        # and credit it: the order is placed after that pass, and the next one is a minute away.
        wait_for(lambda: "pay: the minute job asked" in self.chatd.log_text(), what="the minute job's first pass")
        c = self.buyer()
        no = self.create(c)
        self.pay_fake.pay(no, notify=False)
        for fault in self.faults:
            with self.subTest(fault=fault):
                sent = self.pay_fake.notify(no, fault=fault)
                status, _ = self.replied(sent)[0]
                self.assertGreaterEqual(status, 400, f"{fault} must be refused")
                self.assertEqual(self.paid(c), 0)
                self.assertEqual(self.order_rows(no), ([("pending",)], 0))
        self.assertIn("refused", self.chatd.log_text())
        # The genuine one still works afterwards.
        self.pay_fake.notify(no)
        self.assert_credited_once(c, no)

    def test_a_lost_notification_is_found_by_asking(self):
        c = self.buyer()
        no = self.create(c)
        self.pay_fake.pay(no, notify=False)
        seen = c.rpc("pay.order", {"order_no": no})
        self.assertEqual(seen["status"], "paid")
        self.assertEqual(seen["balance"]["paid"], 100)
        self.assert_credited_once(c, no)
        self.assertEqual([e["verdict"] for e in self.chatd.ctl_json("orders", "show", no)["events"]], ["accepted"])

    def test_paid_while_down_is_credited_once_after_restart(self):
        c = self.buyer()
        no = self.create(c)
        self.chatd.stop(signal.SIGKILL)
        self.pay_fake.pay(no, notify=True)  # nobody answers: the channel will retry
        self.chatd.start()
        wait_for(lambda: self.order_rows(no)[0] == [("paid",)], timeout=20, what="the order paid after restart")
        self.assertEqual(self.paid(c), 100)
        self.pay_fake.notify(no, fault="replay")
        self.assert_credited_once(c, no)

    def test_an_expired_order_is_closed_at_the_channel(self):
        c = self.buyer()
        no = self.create(c)
        with self.db() as db:
            db.execute("UPDATE orders SET expires_at = expires_at - 3600 WHERE order_no = ?", (no,))
        shown = self.chatd.ctl_json("orders", "sync", no)
        self.assertEqual(shown["status"], "closed")
        self.assertEqual(c.rpc("pay.order", {"order_no": no})["status"], "closed")
        if self.closes_at_channel:
            self.assertIn(self.pay_fake.order(no)["state"], ("closed", "cancelled", "canceled"))

    def test_renewal_and_the_inviters_share(self):
        inviter = self.buyer("inviter")
        c = self.buyer("invitee", invite=inviter.user["invite_code"])
        for _ in range(2):
            no = self.create(c)
            self.pay_fake.pay(no)
        me = c.rpc("me.get")["balance"]
        self.assertEqual(me["paid"], 200)
        ledger = c.rpc("me.ledger")["items"]
        self.assertEqual(sorted(e["reason"] for e in ledger if e["reason"] == "order"), ["order", "order"])
        self.assertEqual(inviter.rpc("me.get")["balance"]["trial"], 10 + 20)
        orders = c.rpc("me.orders")["items"]
        self.assertEqual([o["status"] for o in orders], ["paid", "paid"])
        day = self.chatd.ctl_json("stats", "--days", "1")["days"][-1]
        self.assertEqual((day["orders"], day["paid_cents"]), (2, 3980))
        self.assertTrue(self.chatd.ctl_json("status")["ledger_consistent"])

    def test_refusals_for_users(self):
        c = self.buyer()
        with self.assertRaises(RpcError) as bad:
            c.rpc("pay.create", {"plan_id": self.plan["id"], "channel": "nosuchchannel"})
        self.assertEqual(bad.exception.reason, "pay_unavailable")
        with self.assertRaises(RpcError) as gone:
            c.rpc("pay.create", {"plan_id": 999, "channel": self.channel})
        self.assertEqual(gone.exception.reason, "not_found")
        for _ in range(5):
            self.create(c)
        with self.assertRaises(RpcError) as many:
            c.rpc("pay.create", {"plan_id": self.plan["id"], "channel": self.channel})
        self.assertEqual(many.exception.reason, "too_many_requests")
        other = self.buyer("other")
        no = c.rpc("me.orders")["items"][0]["order_no"]
        with self.assertRaises(RpcError) as theirs:
            other.rpc("pay.order", {"order_no": no})
        self.assertEqual(theirs.exception.reason, "not_found")
        self.assertIn(self.channel, self.chatd.client().rpc("pay.plans")["channels"])


class EpayTest(PaymentCase):
    channel = "epay_alipay"
    success = (200, "success")
    faults = ("forged_signature", "wrong_amount", "wrong_pid", "unknown_order")
    closes_at_channel = False  # epay has no close call

    def start_channel(self):
        fake = FakeChannel(self.workdir, "fake_epay", "--pid", EPAY_PID, "--key", EPAY_KEY)
        return fake, f"[pay.epay]\npid = {EPAY_PID}\nkey = {EPAY_KEY}\napi_base = {fake.base}/\n"

    def test_a_channel_that_does_not_answer_is_told_to_the_operator(self):
        c = self.buyer()
        no = self.create(c)
        self.pay_fake.call("POST", "/_fake/fail", {"path_prefix": "/api.php", "status": 502, "count": 10})
        result = self.chatd.ctl("orders", "sync", no, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("api.php", result.stderr)
        self.assertEqual(self.chatd.ctl_json("orders", "show", no)["events"][-1]["verdict"], "failed: provider")
        self.assertNotIn(EPAY_KEY, self.chatd.log_text())


class WeChatPayTest(PaymentCase):
    channel = "wechat"
    success = (204, "")
    faults = ("forged_signature", "signature_probe", "wrong_amount", "wrong_mchid", "wrong_appid", "unknown_order",
              "stale_timestamp", "bad_ciphertext")
    closes_at_channel = True

    def start_channel(self):
        merchant_priv, merchant_pub = write_key_pair(self.workdir, "merchant")
        platform_pub = os.path.join(self.workdir, "wechatpay_pub.pem")
        fake = FakeChannel(self.workdir, "fake_wechatpay", "--mchid", MCHID, "--appid", APPID, "--serial", SERIAL,
                           "--merchant-public-key", merchant_pub, "--api-v3-key", API_V3_KEY,
                           "--platform-public-key-out", platform_pub, "--public-key-id", PUB_KEY_ID)
        wait_for(lambda: os.path.exists(platform_pub), what="the platform key")
        return fake, (f"[pay.wechat]\nmchid = {MCHID}\nappid = {APPID}\napi_v3_key = {API_V3_KEY}\n"
                      f"serial_no = {SERIAL}\nprivate_key_file = {merchant_priv}\n"
                      f"platform_public_key_file = {platform_pub}\nplatform_public_key_id = {PUB_KEY_ID}\n"
                      f"api_base = {fake.base}\n")

    def test_answers_not_signed_by_wechat_pay_are_not_believed(self):
        c = self.buyer()
        self.pay_fake.call("POST", "/_fake/fail", {"path_prefix": "/v3/pay/transactions/native", "signature": "forged",
                                                    "count": 1})
        with self.assertRaises(RpcError) as refused:
            c.rpc("pay.create", {"plan_id": self.plan["id"], "channel": self.channel})
        self.assertEqual(refused.exception.reason, "pay_unavailable")
        self.assertIn("not vouched for", self.chatd.log_text())
        self.create(c)  # the next answer is genuine
        self.assertNotIn(API_V3_KEY, self.chatd.log_text())


class AlipayTest(PaymentCase):
    channel = "alipay"
    success = (200, "success")
    faults = ("forged_signature", "wrong_amount", "wrong_app_id", "unknown_order")
    closes_at_channel = True

    def start_channel(self):
        app_priv, app_pub = write_key_pair(self.workdir, "app")
        alipay_pub = os.path.join(self.workdir, "alipay_pub.pem")
        fake = FakeChannel(self.workdir, "fake_alipay", "--app-id", ALIPAY_APP_ID, "--app-public-key", app_pub,
                           "--alipay-public-key-out", alipay_pub)
        wait_for(lambda: os.path.exists(alipay_pub), what="the Alipay key")
        return fake, (f"[pay.alipay]\napp_id = {ALIPAY_APP_ID}\nprivate_key_file = {app_priv}\n"
                      f"alipay_public_key_file = {alipay_pub}\ngateway = {fake.base}/gateway.do\n")


del PaymentCase  # only its channels run

if __name__ == "__main__":
    main()
