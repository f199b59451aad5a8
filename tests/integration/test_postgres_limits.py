"""Limits that hold across several chatd instances on one PostgreSQL database: a user's answers
in flight and questions per minute, login attempts, sign-ups and failed card redemptions are
counted in the database, so asking A and then B does not double a limit."""

from harness import ChatdTestCase, RpcError, main
from shared_database import SharedDatabase


class PostgresLimitsTest(SharedDatabase, ChatdTestCase):
    def settings(self, **values):
        for key, value in values.items():
            self.chatd.ctl("settings", "set", f"limits.{key}", str(value))

    def refused(self, call):
        try:
            call()
        except RpcError as e:
            return e.reason
        return "ok"

    def test_answers_in_flight_hold_across_instances(self):
        self.settings(answers_in_flight=1)
        key = self.key("ok", tokens=400, delay=50)  # about 20 s: still streaming meanwhile
        self.chatd.add_key(key, self.fake.base_url)
        b = self.second_instance()
        b.add_key(key, self.fake.base_url)
        on_a = self.chatd.client()
        on_a.register("ada")
        on_b = b.client()
        on_b.cookie = on_a.cookie
        first = on_a.ask("a long one")
        self.assertEqual(self.refused(lambda: on_b.ask("meanwhile on B")), "busy")
        self.assertEqual(self.refused(lambda: on_a.ask("meanwhile on A")), "busy")
        # Refused questions leave nothing behind: one question, one answer, one charge.
        db = self.db()
        uid = on_a.rpc("me.get")["id"]
        self.assertEqual(db.execute("SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                                    "WHERE c.user_id = ?", (uid,)).fetchone()[0], 2)
        # Once the answer has ended, the other instance lets the next question in.
        on_a.rpc("chat.stop", {"message_id": first["message_id"]})
        on_a.stream(first["message_id"])
        second = on_b.ask("now on B")
        on_b.rpc("chat.stop", {"message_id": second["message_id"]})
        on_b.stream(second["message_id"])

    def test_questions_per_minute_hold_across_instances(self):
        self.settings(questions_per_minute=4, answers_in_flight=100)
        self.add_key("ok", tokens=2)
        b = self.second_instance()
        b.add_key(self.key("ok", tokens=2), self.fake.base_url)
        on_a = self.chatd.client()
        on_a.register("bea")
        on_b = b.client()
        on_b.cookie = on_a.cookie
        outcomes = [self.refused(lambda c=c: c.ask("q")) for c in (on_a, on_b, on_a, on_b, on_a, on_b)]
        self.assertEqual(outcomes, ["ok"] * 4 + ["too_many_requests"] * 2)
        # Another user has a minute of their own.
        other = b.client()
        other.register("cid")
        self.assertEqual(self.refused(lambda: other.ask("q")), "ok")

    def test_login_attempts_signups_and_card_guesses_hold_across_instances(self):
        self.settings(login_attempts_per_15min=6, signups_per_hour=3)
        b = self.second_instance()
        a_client, b_client = self.chatd.client(), b.client()
        a_client.register("victim")
        b_client.cookie = a_client.cookie
        # Five wrong card codes in turn on A and B, then the sixth is refused unchecked.
        guesses = [self.refused(lambda c=c: c.rpc("cards.redeem", {"code": "WRONG-CODE-0000"}))
                   for c in (a_client, b_client) * 3]
        self.assertEqual(guesses, ["card_invalid"] * 5 + ["too_many_attempts"])
        # Six wrong passwords in turn on A and B, then even the right one is refused on both.
        login = "auth.password.login"
        wrong = [self.refused(lambda c=c: c.rpc(login, {"username": "victim", "password": "nope-nope"}))
                 for c in (a_client, b_client) * 4]
        self.assertEqual(wrong, ["bad_credentials"] * 6 + ["too_many_requests"] * 2)
        for c in (a_client, b_client):
            right = {"username": "victim", "password": "correct horse battery"}
            self.assertEqual(self.refused(lambda c=c: c.rpc(login, right)), "too_many_requests")
        # Sign-ups from one address: three an hour (victim was the first), whichever instance.
        signups = [self.refused(lambda c=c, i=i: c.register(f"new{i}"))
                   for i, c in enumerate((b.client(), self.chatd.client(), b.client(), self.chatd.client()))]
        self.assertEqual(signups, ["ok", "ok", "too_many_requests", "too_many_requests"])
        self.assertGreater(self.db().execute("SELECT count(*) FROM rate_hits").fetchone()[0], 0)

if __name__ == "__main__":
    main()
