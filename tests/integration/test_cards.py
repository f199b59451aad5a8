"""Recharge cards against a real chatd: formats, renewal, exactly-once redemption, limits."""
import csv
import io
import json
import threading
import time

from harness import ChatdTestCase, RpcError, main


class CardsTest(ChatdTestCase):
    def generate(self, *args):
        return self.chatd.ctl("cards", "generate", *args).stdout

    def test_generate_and_export_formats_parse_back(self):
        txt = self.generate("--count", "3", "--questions", "50", "--days", "30", "--batch", "shop-a")
        codes = txt.split()
        self.assertEqual(len(codes), 3)
        for code in codes:
            self.assertRegex(code, r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")
        rows = list(csv.DictReader(io.StringIO(
            self.chatd.ctl("cards", "export", "--batch", "shop-a", "--format", "csv").stdout)))
        self.assertEqual(sorted(r["code"] for r in rows), sorted(codes))
        self.assertEqual(set(rows[0]), {"code", "questions", "days", "batch", "redeem_before"})
        self.assertEqual((rows[0]["questions"], rows[0]["days"], rows[0]["batch"], rows[0]["redeem_before"]),
                         ("50", "30", "shop-a", ""))
        exported = json.loads(self.chatd.ctl("cards", "export", "--batch", "shop-a", "--format", "json").stdout)
        self.assertEqual(sorted(c["code"] for c in exported), sorted(codes))
        self.assertEqual(exported[0]["redeem_before"], None)
        self.assertEqual(sorted(self.chatd.ctl("cards", "export", "--batch", "shop-a").stdout.split()), sorted(codes))
        dup = self.chatd.ctl("cards", "generate", "--count", "1", "--questions", "1", "--days", "1",
                             "--batch", "shop-a", check=False)
        self.assertEqual(dup.returncode, 1)
        self.assertIn("already exists", dup.stderr)
        batches = self.chatd.ctl_json("cards", "batches")["items"]
        self.assertEqual((batches[0]["batch"], batches[0]["count"], batches[0]["unused"]), ("shop-a", 3, 3))

    def test_redeem_renew_and_refusals(self):
        c = self.chatd.client()
        c.register("buyer")
        a, b, r = self.generate("--count", "3", "--questions", "50", "--days", "30").split()
        t0 = int(time.time())
        bal = c.rpc("cards.redeem", {"code": a.lower().replace("-", "")})["balance"]
        self.assertEqual(bal["paid"], 50)
        self.assertAlmostEqual(bal["paid_expires_at"], t0 + 30 * 86400, delta=5)
        # Renewal while valid: questions add up and the expiry moves out by the card's days.
        bal2 = c.rpc("cards.redeem", {"code": " " + b + " "})["balance"]
        self.assertEqual(bal2["paid"], 100)
        self.assertEqual(bal2["paid_expires_at"], bal["paid_expires_at"] + 30 * 86400)
        self.assertEqual(bal2["trial"], 10)
        for code, reason in [(a, "card_used"), ("ZZZZ-ZZZZ-ZZZZ-ZZZZ", "card_invalid"), ("not a card", "card_invalid")]:
            with self.assertRaises(RpcError) as e:
                c.rpc("cards.redeem", {"code": code})
            self.assertEqual(e.exception.reason, reason)
        self.assertEqual(self.chatd.ctl_json("cards", "revoke", r)["revoked"], 1)
        with self.assertRaises(RpcError) as e:
            c.rpc("cards.redeem", {"code": r})
        self.assertEqual(e.exception.reason, "card_revoked")
        # Five failures in 15 minutes, then even a good card waits.
        good = self.generate("--count", "1", "--questions", "5", "--days", "1").split()[0]
        with self.assertRaises(RpcError) as e:
            c.rpc("cards.redeem", {"code": "AAAA-AAAA-AAAA-AAAA"})
        with self.assertRaises(RpcError) as e:
            c.rpc("cards.redeem", {"code": good})
        self.assertEqual(e.exception.reason, "too_many_attempts")
        listed = {x["code"]: x for x in self.chatd.ctl_json("cards", "list")["items"]}
        self.assertEqual(listed[a]["status"], "used")
        self.assertEqual(listed[a]["redeemed_by"], c.rpc("me.get")["id"])
        self.assertEqual(listed[r]["status"], "revoked")
        self.assertTrue(self.chatd.ctl_json("status")["ledger_consistent"])

    def test_expired_card(self):
        c = self.chatd.client()
        c.register("late")
        # A few seconds ahead: a slow (sanitized) chatctl must not find it past already.
        redeem_before = int(time.time()) + 5
        code = self.generate("--count", "1", "--questions", "5", "--days", "1",
                             "--redeem-before", str(redeem_before)).split()[0]
        time.sleep(max(0.0, redeem_before - time.time()) + 1.1)
        with self.assertRaises(RpcError) as e:
            c.rpc("cards.redeem", {"code": code})
        self.assertEqual(e.exception.reason, "card_expired")
        self.assertEqual([x["status"] for x in self.chatd.ctl_json("cards", "list", "--status", "expired")["items"]],
                         ["expired"])

    def test_paid_credits_are_spent_before_trial(self):
        self.add_key("ok", tokens=2)
        c = self.chatd.client()
        c.register("spender")
        code = self.generate("--count", "1", "--questions", "2", "--days", "7").split()[0]
        c.rpc("cards.redeem", {"code": code})
        for expected in [(10, 1), (10, 0), (9, 0)]:
            _, _, final = c.answer("q")
            bal = json.loads(final[2])["balance"]
            self.assertEqual((bal["trial"], bal["paid"]), expected)

    def test_one_card_redeemed_by_100_users_at_once_succeeds_exactly_once(self):
        code = self.generate("--count", "1", "--questions", "100", "--days", "30").split()[0]
        clients = [self.chatd.client() for _ in range(100)]
        for i, cl in enumerate(clients):
            cl.register(f"racer{i:03d}")
        barrier = threading.Barrier(len(clients))
        outcomes = []

        def redeem(cl):
            barrier.wait()
            try:
                cl.rpc("cards.redeem", {"code": code})
                outcomes.append("ok")
            except RpcError as e:
                outcomes.append(e.reason)
        threads = [threading.Thread(target=redeem, args=(cl,)) for cl in clients]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(outcomes.count("ok"), 1)
        self.assertEqual(outcomes.count("card_used"), 99)
        paid = [cl.rpc("me.get")["balance"]["paid"] for cl in clients]
        self.assertEqual(sorted(paid), [0] * 99 + [100])
        db = self.db()
        self.assertEqual(db.execute("SELECT count(*) FROM ledger WHERE reason='card'").fetchone()[0], 1)
        self.assertTrue(self.chatd.ctl_json("status")["ledger_consistent"])

    def test_a_10000_card_batch(self):
        t0 = time.monotonic()
        out = self.generate("--count", "10000", "--questions", "10", "--days", "30", "--batch", "big",
                            "--format", "csv")
        generated = time.monotonic() - t0
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual(len(rows), 10000)
        self.assertEqual(len({r["code"] for r in rows}), 10000)
        t1 = time.monotonic()
        exported = self.chatd.ctl("cards", "export", "--batch", "big").stdout.split()
        print(f"\n10,000 cards: generate {generated:.2f} s, export {time.monotonic() - t1:.2f} s")
        self.assertEqual(sorted(exported), sorted(r["code"] for r in rows))


if __name__ == "__main__":
    main()
