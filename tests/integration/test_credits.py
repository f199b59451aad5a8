"""Charging, free-if-slow, concurrent spending, referrals, operator grants and bans."""
import json
import threading

from harness import ChatdTestCase, RpcError, main


class CreditsTest(ChatdTestCase):
    extra_conf = "answers_in_flight = 100\n"  # appended to [limits]

    def test_a_slow_first_token_is_free(self):
        self.add_key("ok", tokens=2, first_delay=1500)
        self.chatd.ctl("settings", "set", "billing.free_if_slower_than", "1")
        c = self.chatd.client()
        c.register("patient")
        _, _, final = c.answer("slow please")
        done = json.loads(final[2])
        self.assertEqual((done["status"], done["charged"], done["refunded"], done["free_reason"]),
                         ("done", 0, True, "slow"))
        self.assertEqual(done["balance"]["trial"], 10)
        self.assertGreater(done["latency_ms"]["first_token"], 1000)
        reasons = [x["reason"] for x in c.rpc("me.ledger")["items"]]
        self.assertEqual(reasons, ["refund_slow", "question", "trial_grant"])

    def test_n_credits_and_5n_concurrent_questions_charge_exactly_n(self):
        self.add_key("ok", tokens=20, delay=20)
        self.chatd.ctl("settings", "set", "billing.trial_questions", "3")
        c = self.chatd.client()
        c.register("greedy")
        outcomes = []
        barrier = threading.Barrier(15)

        def ask():
            barrier.wait()
            try:
                outcomes.append(("ok", c.ask("me too")["message_id"]))
            except RpcError as e:
                outcomes.append((e.reason, None))
        threads = [threading.Thread(target=ask) for _ in range(15)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        accepted = [m for r, m in outcomes if r == "ok"]
        self.assertEqual(len(accepted), 3)
        self.assertEqual(sorted(r for r, _ in outcomes if r != "ok"), ["insufficient_credits"] * 12)
        for m in accepted:
            self.assertEqual(c.stream(m)[-1][0], "done")
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 0)
        self.assertEqual(len([x for x in c.rpc("me.ledger")["items"] if x["reason"] == "question"]), 3)
        self.assertTrue(self.chatd.ctl_json("status")["ledger_consistent"])

    def test_referral_rewards(self):
        self.chatd.ctl("settings", "set", "referral.signup_reward", "3")
        self.chatd.ctl("settings", "set", "referral.paid_percent", "10")
        a, b, c = self.chatd.client(), self.chatd.client(), self.chatd.client()
        a_user = a.register("inviter")
        info = a.rpc("invite.info")
        self.assertEqual((info["code"], info["invited"], info["rewarded_questions"]), (a_user["invite_code"], 0, 0))
        self.assertEqual(info["link"], f"{self.chatd.origin}/?ref={a_user['invite_code']}")
        b_user = b.rpc("auth.password.register", {"username": "invitee", "password": "correct horse battery",
                                                 "invite": a_user["invite_code"]})["user"]
        self.assertEqual(a.rpc("me.get")["balance"]["trial"], 13)
        self.assertEqual(a.rpc("invite.info")["invited"], 1)
        # A card of 50 for the invitee earns the inviter 5 (10 %, rounded down); one of 9 earns 0.
        big, small = self.chatd.ctl("cards", "generate", "--count", "1", "--questions", "50", "--days", "30").stdout.split() + \
            self.chatd.ctl("cards", "generate", "--count", "1", "--questions", "9", "--days", "30").stdout.split()
        b.rpc("cards.redeem", {"code": big})
        b.rpc("cards.redeem", {"code": small})
        self.assertEqual(a.rpc("me.get")["balance"]["trial"], 18)
        self.assertEqual(a.rpc("invite.info")["rewarded_questions"], 8)
        # No chains: C, invited by B, rewards B only.
        c.rpc("auth.password.register", {"username": "third", "password": "correct horse battery",
                                         "invite": b_user["invite_code"]})
        card = self.chatd.ctl("cards", "generate", "--count", "1", "--questions", "100", "--days", "30").stdout.split()[0]
        c.rpc("cards.redeem", {"code": card})
        self.assertEqual(b.rpc("me.get")["balance"]["trial"], 10 + 3 + 10)
        self.assertEqual(a.rpc("me.get")["balance"]["trial"], 18)
        # An unknown code is simply ignored.
        d = self.chatd.client()
        d.rpc("auth.password.register", {"username": "nobody", "password": "correct horse battery", "invite": "NOPE"})
        self.assertEqual(d.rpc("me.get")["balance"]["trial"], 10)
        self.assertTrue(self.chatd.ctl_json("status")["ledger_consistent"])

    def test_grants_and_bans(self):
        c = self.chatd.client()
        uid = c.register("member")["id"]
        self.assertIn("member", self.chatd.ctl("users", "list").stdout)
        self.assertEqual(self.chatd.ctl_json("users", "list", "--query", "memb")["items"][0]["id"], uid)
        self.chatd.ctl("users", "grant", str(uid), "--questions", "5")
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 15)
        self.chatd.ctl("users", "grant", str(uid), "--questions=-3")
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 12)
        too_much = self.chatd.ctl("users", "grant", str(uid), "--questions=-100", check=False)
        self.assertEqual(too_much.returncode, 1)
        self.assertIn("invalid_params", too_much.stderr)
        self.chatd.ctl("users", "grant", str(uid), "--questions", "20", "--days", "7")
        bal = c.rpc("me.get")["balance"]
        self.assertEqual((bal["trial"], bal["paid"]), (12, 20))
        show = self.chatd.ctl_json("users", "show", str(uid))
        self.assertEqual([x["reason"] for x in show["ledger"]], ["grant", "grant", "grant", "trial_grant"])
        self.assertIn("socket", show["ledger"][0]["ref"])
        self.assertIn("grant", self.chatd.ctl("users", "show", str(uid)).stdout)
        self.chatd.ctl("users", "ban", str(uid))
        with self.assertRaises(RpcError) as e:
            c.rpc("me.get")
        self.assertEqual(e.exception.reason, "unauthorized")
        with self.assertRaises(RpcError) as e:
            c.rpc("auth.password.login", {"username": "member", "password": "correct horse battery"})
        self.assertEqual(e.exception.reason, "user_banned")
        self.chatd.ctl("users", "unban", str(uid))
        c.rpc("auth.password.login", {"username": "member", "password": "correct horse battery"})
        self.assertEqual(c.rpc("me.get")["id"], uid)
        self.assertTrue(self.chatd.ctl_json("status")["ledger_consistent"])


if __name__ == "__main__":
    main()
