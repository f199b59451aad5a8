"""What a new visitor and a new operator meet: the site's brand in site.info, the page's CSP and
the web app manifest; operators trying the chat for free and not counted as visitors; models
learnt to reason."""
import json
import os

from harness import ChatdTestCase, main, wait_for


class Brand(ChatdTestCase):
    def setUp(self):
        super().setUp()
        webui = os.path.join(self.workdir, "webui")
        os.makedirs(webui, exist_ok=True)
        with open(os.path.join(webui, "index.html"), "w") as f:
            f.write("<!doctype html><title>t</title>")
        with open(os.path.join(webui, "sw.js"), "w") as f:
            f.write("self.addEventListener('fetch', () => {});")

    def page_csp(self):
        status, headers, _ = self.chatd.client().http("GET", "/c/1", origin=False)
        self.assertEqual(status, 200)
        return headers["content-security-policy"]

    def test_site_info_carries_the_brand_and_what_is_on(self):
        c = self.chatd.client()
        info = c.rpc("site.info")
        self.assertEqual((info["logo_url"], info["tagline"], info["shop_url"]), ("", "", ""))
        self.assertEqual(info["trial_questions"], 10)
        self.assertEqual((info["referral_signup_reward"], info["referral_paid_percent"]), (0, 0))
        self.assertIs(info["models"][0]["reasoning"], False)

        self.chatd.ctl("settings", "set", "site.logo_url", "https://cdn.example.com:8443/brand/logo.png")
        self.chatd.ctl("settings", "set", "site.tagline", "一个好用的 AI 助手")
        self.chatd.ctl("settings", "set", "site.shop_url", "https://shop.example.com/cards?id=7")
        self.chatd.ctl("settings", "set", "billing.trial_questions", "3")
        self.chatd.ctl("settings", "set", "referral.signup_reward", "5")
        info = c.rpc("site.info")
        self.assertEqual(info["logo_url"], "https://cdn.example.com:8443/brand/logo.png")
        self.assertEqual(info["tagline"], "一个好用的 AI 助手")
        self.assertEqual(info["shop_url"], "https://shop.example.com/cards?id=7")
        self.assertEqual(info["trial_questions"], 3)
        self.assertEqual(info["referral_signup_reward"], 5)

    def test_links_are_checked(self):
        for bad in ("javascript:alert(1)", "//evil.example/logo.png", "https://a b/logo.png",
                    'https://x.example/"onerror="x', "ftp://x.example/logo.png", "https://user@x.example/",
                    "logo.png"):
            r = self.chatd.ctl("settings", "set", "site.logo_url", bad, check=False)
            self.assertNotEqual(r.returncode, 0, bad)
            self.assertIn("site.logo_url", r.stderr + r.stdout)
        for good in ("/brand/logo.svg", "http://127.0.0.1:9/logo.png", ""):
            self.chatd.ctl("settings", "set", "site.logo_url", good)
            self.assertEqual(self.chatd.client().rpc("site.info")["logo_url"], good)

    def test_the_page_may_load_the_logo_from_where_it_is_hosted(self):
        self.assertIn("img-src 'self' data: blob:;", self.page_csp())
        self.chatd.ctl("settings", "set", "site.logo_url", "https://cdn.example.com:8443/brand/logo.png")
        self.assertIn("img-src 'self' data: blob: https://cdn.example.com:8443;", self.page_csp())
        # A logo on this site needs nothing more.
        self.chatd.ctl("settings", "set", "site.logo_url", "/brand/logo.png")
        self.assertIn("img-src 'self' data: blob:;", self.page_csp())
        # Scripts stay strict whatever the logo.
        self.assertIn("default-src 'self'", self.page_csp())
        self.assertNotIn("cdn.example.com", self.page_csp())

    def test_manifest_follows_the_site(self):
        c = self.chatd.client()
        status, headers, body = c.http("GET", "/manifest.webmanifest", origin=False)
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/manifest+json")
        m = json.loads(body)
        self.assertEqual((m["name"], m["start_url"], m["display"]), ("chatd", "/", "standalone"))
        self.assertIn({"src": "/icon-192.png", "sizes": "192x192", "type": "image/png"}, m["icons"])
        self.assertIn("512x512", [i["sizes"] for i in m["icons"]])

        self.chatd.ctl("settings", "set", "site.name", "星河智能问答助手专业版本站")
        self.chatd.ctl("settings", "set", "site.logo_url", "https://cdn.example.com/logo.png")
        self.chatd.ctl("settings", "set", "site.tagline", "随时问，马上答")
        m = json.loads(c.http("GET", "/manifest.webmanifest", origin=False)[2])
        self.assertEqual(m["name"], "星河智能问答助手专业版本站")
        self.assertEqual(m["short_name"], "星河智能问答助手专业版本")  # twelve characters
        self.assertEqual(m["description"], "随时问，马上答")
        self.assertEqual(m["icons"][0]["src"], "https://cdn.example.com/logo.png")

    def test_the_service_worker_is_revalidated(self):
        status, headers, _ = self.chatd.client().http("GET", "/sw.js", origin=False)
        self.assertEqual(status, 200)
        self.assertEqual(headers["cache-control"], "no-cache")


class Operators(ChatdTestCase):
    def login_admin(self):
        self.chatd.ctl("admin", "add", "boss", input="boss password 123\n")
        admin = self.chatd.client()
        admin.rpc("auth.password.login", {"username": "boss", "password": "boss password 123"})
        return admin

    def test_an_admin_tries_the_chat_free_and_is_not_a_visitor(self):
        self.add_key("ok", tokens=3)
        visitor = self.chatd.client()
        visitor.register("alice")
        # The operator's account starts with nothing to spend.
        self.chatd.ctl("settings", "set", "billing.trial_questions", "0")
        admin = self.login_admin()
        status = self.chatd.ctl_json("status")
        self.assertEqual((status["users"], status["admins"]), (1, 1))

        # Even with no credits at all, the admin's questions are answered and cost nothing.
        before = admin.rpc("me.get")["balance"]
        self.assertEqual((before["trial"], before["paid"]), (0, 0))
        for _ in range(3):
            sent, text, final = admin.answer("hello")
            self.assertEqual(final[0], "done")
            self.assertEqual(json.loads(final[2])["charged"], 0)
        self.assertEqual(admin.rpc("me.get")["balance"], before)
        msgs = admin.rpc("conversations.get", {"id": sent["conversation_id"]})["messages"]
        answer = [m for m in msgs if m["id"] == sent["message_id"]][0]
        self.assertIs(answer["asked_by_admin"], True)

        sent_v, _, final_v = visitor.answer("hello")
        self.assertEqual(json.loads(final_v[2])["charged"], 1)
        vmsgs = visitor.rpc("conversations.get", {"id": sent_v["conversation_id"]})["messages"]
        self.assertNotIn("asked_by_admin", [m for m in vmsgs if m["id"] == sent_v["message_id"]][0])

        admin_id = admin.rpc("me.get")["id"]
        with self.db() as db:
            rows = db.execute("SELECT count(*) FROM ledger WHERE user_id = ? AND reason = 'question'",
                              (admin_id,)).fetchone()[0]
        self.assertEqual(rows, 0)

        # The dashboard counts the visitor, not the operator.
        today = self.chatd.ctl_json("stats", "--days", "1")["days"][-1]
        self.assertEqual(today["new_users"], 1)
        self.assertEqual(today["active_users"], 1)
        self.assertEqual(today["questions"], 4)
        self.assertTrue(self.chatd.ctl_json("status")["ledger_consistent"] in (True, None))


class Reasoning(ChatdTestCase):
    def test_a_model_is_learnt_to_reason_from_its_answers(self):
        self.add_key("reasoning", tokens=3, think_tokens=3)
        c = self.chatd.client()
        c.register("alice")
        self.assertIs(c.rpc("site.info")["models"][0]["reasoning"], False)
        c.answer("think first")
        # Noted once the answer has ended.
        wait_for(lambda: c.rpc("site.info")["models"][0]["reasoning"], what="the model noted as reasoning")
        models = self.chatd.ctl_json("models", "list")["items"]
        self.assertIs(models[0]["reasoning"], True)

    def test_the_operator_sets_it(self):
        model = self.chatd.ctl_json("call", "admin.models.set",
                                    json.dumps({"id": "deepseek-reasoner", "reasoning": True, "cost": 2}))
        self.assertIs(model["reasoning"], True)
        info = self.chatd.client().rpc("site.info")
        self.assertIn({"id": "deepseek-reasoner", "name": "deepseek-reasoner", "cost": 2, "vision": False,
                       "reasoning": True}, info["models"])
        self.chatd.ctl("models", "set", "deepseek-reasoner", "--no-reasoning")
        listed = {m["id"]: m for m in self.chatd.ctl_json("models", "list")["items"]}
        self.assertIs(listed["deepseek-reasoner"]["reasoning"], False)
        self.assertIn("REASONING", self.chatd.ctl("models", "list").stdout)


if __name__ == "__main__":
    main()
