"""The operator's view: stats from real traffic, every user's logs, the audit log, and admin
methods over an admin's web session being recorded as such."""
import json

from harness import ChatdTestCase, main


class OperatorTest(ChatdTestCase):
    def test_stats_logs_and_audit(self):
        self.add_key("ok", tokens=2)
        a, b = self.chatd.client(), self.chatd.client()
        a.register("alpha")
        b_id = b.register("beta")["id"]
        a.answer("alpha asks about apples")
        sent, _, _ = b.answer("beta asks about bananas")
        b.rpc("conversations.delete", {"id": sent["conversation_id"]})
        code = self.chatd.ctl("cards", "generate", "--count", "1", "--questions", "30", "--days", "7").stdout.split()[0]
        b.rpc("cards.redeem", {"code": code})

        today = self.chatd.ctl_json("stats", "--days", "7")["days"]
        self.assertEqual(len(today), 7)
        d = today[-1]
        self.assertEqual((d["questions"], d["new_users"], d["active_users"], d["redemptions"], d["credits_sold"]),
                         (2, 2, 2, 1, 30))
        self.assertIsNotNone(d["first_token_p50_ms"])
        self.assertGreaterEqual(d["first_token_p95_ms"], d["first_token_p50_ms"])
        self.assertEqual(today[0]["questions"], 0)

        logs = self.chatd.ctl_json("logs")["items"]
        self.assertEqual({c["user_name"] for c in logs}, {"alpha", "beta"})
        mine = self.chatd.ctl_json("logs", "--user", str(b_id))["items"]
        self.assertEqual(len(mine), 1)
        self.assertIsNotNone(mine[0]["deleted_at"])  # deleted by the user, kept for the operator
        found = self.chatd.ctl_json("logs", "--query", "apples")["items"]
        self.assertEqual([c["user_name"] for c in found], ["alpha"])
        conv = self.chatd.ctl_json("call", "admin.conversations.get", json.dumps({"id": mine[0]["id"]}))
        self.assertEqual(conv["messages"][0]["content"], "beta asks about bananas")

        # Admin changes over the web are audited with the admin's name; secrets are masked.
        self.chatd.ctl("admin", "add", "boss", input="boss password 123\n")
        admin = self.chatd.client()
        admin.rpc("auth.password.login", {"username": "boss", "password": "boss password 123"})
        admin.rpc("admin.settings.set", {"key": "site.name", "value": "Shop"})
        admin.rpc("admin.keys.add", {"keys": ["sk-supersecretvalue-9876"]})
        audit = self.chatd.ctl_json("audit")["items"]
        top = audit[0]
        self.assertEqual((top["method"], top["via"]), ("admin.keys.add", "web"))
        self.assertIn("boss", top["actor"])
        self.assertEqual(top["params"]["keys"], ["sk-…9876"])
        self.assertEqual((audit[1]["method"], audit[1]["params"]), ("admin.settings.set", {"key": "site.name", "value": "Shop"}))
        added = [x for x in audit if x["method"] == "admin.admins.add"][0]
        self.assertEqual((added["via"], added["params"]["password"]), ("socket", "***"))
        self.assertNotIn("boss password 123", self.chatd.ctl("audit").stdout)
        self.assertNotIn("supersecretvalue", self.chatd.log_text())


if __name__ == "__main__":
    main()
