"""The operator's view: stats from real traffic, every user's logs, the audit log, and admin
methods over an admin's web session being recorded as such."""
import json

from harness import ChatdTestCase, RpcError, main


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

    def test_admin_changes_record_the_state_before_and_after(self):
        self.chatd.ctl("admin", "add", "boss", input="boss password 123\n")
        admin = self.chatd.client()
        admin.rpc("auth.password.login", {"username": "boss", "password": "boss password 123"})
        visitor = self.chatd.client()
        uid = visitor.register("visitor")["id"]
        _, key_id = self.add_key("ok")

        admin.rpc("admin.settings.set", {"key": "site.name", "value": "Shop"})
        admin.rpc("admin.users.grant", {"id": uid, "questions": 5})
        admin.rpc("admin.users.ban", {"id": uid})
        admin.rpc("admin.keys.disable", {"id": key_id})
        generated = admin.rpc("admin.cards.generate", {"count": 3, "questions": 10, "days": 30, "batch": "audited"})

        entries = {x["method"]: x for x in self.chatd.ctl_json("audit")["items"]}
        setting = entries["admin.settings.set"]
        self.assertEqual((setting["before"], setting["after"]), ({"site.name": "chatd"}, {"site.name": "Shop"}))
        self.assertEqual((setting["via"], setting["address"]), ("web", "127.0.0.1"))
        grant = entries["admin.users.grant"]
        self.assertEqual((grant["before"]["trial"], grant["after"]["trial"]), (10, 15))
        self.assertEqual((entries["admin.users.ban"]["before"], entries["admin.users.ban"]["after"]),
                         ({"banned": False}, {"banned": True}))
        self.assertEqual((entries["admin.keys.disable"]["before"], entries["admin.keys.disable"]["after"]),
                         ({"enabled": True}, {"enabled": False}))
        cards = entries["admin.cards.generate"]
        self.assertEqual(cards["after"], {"batch": "audited", "count": 3})
        # The codes are as good as money: they never reach the audit log.
        listing = json.dumps(self.chatd.ctl_json("audit"))
        for card in generated["cards"]:
            self.assertNotIn(card["code"], listing)
        human = self.chatd.ctl("audit").stdout
        self.assertIn('{"site.name":"chatd"} -> {"site.name":"Shop"}', human)
        self.assertIn("web 127.0.0.1", human)
        socket_entry = entries["admin.keys.add"]
        self.assertEqual((socket_entry["via"], socket_entry["address"]), ("socket", None))
        self.assertEqual(socket_entry["after"], {"ids": [key_id]})
        # A visitor's session cannot reach any of it.
        other = self.chatd.client()
        other.register("other")
        for method in ("admin.audit.list", "admin.users.grant", "admin.stats", "system.list_methods"):
            with self.assertRaises(RpcError) as e:
                other.rpc(method, {"id": uid, "questions": 1})
            self.assertEqual(e.exception.reason, "forbidden", method)


if __name__ == "__main__":
    main()
