"""One round's mixed load against a running chatd, recorded the way browsers and buyers saw it:
answers read from their SSE streams (some stopped by their asker), card codes raced by several
users at once, and paid orders whose payment notifications arrive more than once."""
import http.client
import json
import random
import threading
import time

from harness import RpcError

QUESTIONS = ("Tell me about the sea.", "用三句话介绍长城。", "What is 2 + 2?", "Write a haiku about rain.")


class Answer:
    """What one browser received of one answer."""

    def __init__(self, user, message_id):
        self.user = user
        self.message_id = message_id
        self.text = ""
        self.marks = []  # (monotonic time, len(text)) after each delta
        self.final = None  # "done" | "error" | None when the stream was cut
        self.final_data = None
        self.stopped = False  # the asker sent chat.stop

    def received_by(self, moment):
        """How much text had arrived by that monotonic moment."""
        got = 0
        for at, length in self.marks:
            if at > moment:
                break
            got = length
        return got


class Load:
    """Runs the round's workers on threads; `join` waits for them. Failures to reach chatd while a
    fault has it down are expected and only counted; anything else is kept in `surprises`."""

    def __init__(self, daemon, users, rng):
        self.d = daemon
        self.users = users
        self.rng = rng
        self.answers = []
        self.redemptions = {}  # card code → [(user id, "ok" | reason | "unreachable")]
        self.orders = []  # (user id, order number)
        self.refused = {}  # reason → count of questions chatd refused
        self.unreachable = 0
        self.why_unreachable = {}
        self.surprises = []
        self.lock = threading.Lock()
        self.threads = []

    def spawn(self, fn, *args):
        t = threading.Thread(target=self.guard, args=(fn, *args), daemon=True)
        t.start()
        self.threads.append(t)

    def guard(self, fn, *args):
        try:
            fn(*args)
        except Exception as e:  # noqa: BLE001 — kept and reported by the round
            with self.lock:
                self.surprises.append(f"{fn.__name__}: {type(e).__name__}: {e}")

    def join(self, timeout):
        deadline = time.monotonic() + timeout
        for t in self.threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return [t for t in self.threads if t.is_alive()]

    # --- asking ---------------------------------------------------------------------------------

    def ask(self, client, question, stop_after_deltas, start_at):
        time.sleep(max(0.0, start_at - time.monotonic()))
        try:
            sent = client.rpc("chat.send", {"content": question})
        except RpcError as e:
            with self.lock:
                self.refused[e.reason] = self.refused.get(e.reason, 0) + 1
            return
        except (OSError, http.client.HTTPException, AssertionError) as e:
            with self.lock:
                self.unreachable += 1
                self.why_unreachable[type(e).__name__] = self.why_unreachable.get(type(e).__name__, 0) + 1
            return
        answer = Answer(client.user["id"], sent["message_id"])
        with self.lock:
            self.answers.append(answer)
        self.read_stream(client, answer, stop_after_deltas)

    def read_stream(self, client, answer, stop_after_deltas):
        try:
            c, r = client.open_stream(answer.message_id)
        except (OSError, http.client.HTTPException):
            return  # chatd went down between the question and its stream
        try:
            if r.status != 200:
                raise AssertionError(f"GET /api/stream/{answer.message_id}: HTTP {r.status}")
            deltas, event, data = 0, None, []
            while True:
                line = r.readline()
                if not line:
                    return  # cut: chatd died or closed
                line = line.decode().rstrip("\r\n")
                if line.startswith(":"):
                    continue
                if line:
                    field, _, value = line.partition(":")
                    value = value[1:] if value.startswith(" ") else value
                    if field == "event":
                        event = value
                    elif field == "data":
                        data.append(value)
                    continue
                if not data:
                    continue
                payload = json.loads("\n".join(data))
                if event == "delta":
                    answer.text += payload["text"]
                    answer.marks.append((time.monotonic(), len(answer.text)))
                    deltas += 1
                    if deltas == stop_after_deltas:
                        answer.stopped = True
                        self.stop(client, answer.message_id)
                elif event in ("done", "error"):
                    answer.final, answer.final_data = event, payload
                    return
                event, data = None, []
        except (OSError, http.client.HTTPException):
            return  # cut mid-stream
        finally:
            c.close()

    def stop(self, client, message_id):
        try:
            client.rpc("chat.stop", {"message_id": message_id})
        except (RpcError, OSError, http.client.HTTPException, AssertionError):
            pass  # the answer may have ended, or chatd be down: the stream tells what happened

    def start_questions(self, count, spread_s, stop_share=0.1):
        """`count` questions from the users in turn, started over `spread_s` seconds."""
        now = time.monotonic()
        for i in range(count):
            client = self.users[i % len(self.users)]
            stop_after = self.rng.randint(1, 4) if self.rng.random() < stop_share else None
            self.spawn(self.ask, client, self.rng.choice(QUESTIONS), stop_after, now + self.rng.uniform(0, spread_s))

    # --- cards ----------------------------------------------------------------------------------

    def race_card(self, code, racers, start_at):
        barrier = threading.Barrier(len(racers))
        for client in racers:
            self.spawn(self.redeem, client, code, barrier, start_at)

    def redeem(self, client, code, barrier, start_at):
        time.sleep(max(0.0, start_at - time.monotonic()))
        barrier.wait(10)
        try:
            client.rpc("cards.redeem", {"code": code})
            outcome = "ok"
        except RpcError as e:
            outcome = e.reason
        except (OSError, http.client.HTTPException, AssertionError):
            outcome = "unreachable"
        with self.lock:
            self.redemptions.setdefault(code, []).append((client.user["id"], outcome))

    # --- payments -------------------------------------------------------------------------------

    def buy(self, client, channel, plan_id, fake, start_at):
        time.sleep(max(0.0, start_at - time.monotonic()))
        try:
            order = client.rpc("pay.create", {"plan_id": plan_id, "channel": channel})
        except (RpcError, OSError, http.client.HTTPException, AssertionError):
            with self.lock:
                self.unreachable += 1
            return
        with self.lock:
            self.orders.append((client.user["id"], order["order_no"]))
        fake.pay(order["order_no"])  # the first notification, retried by the fake while chatd is away
        fake.notify(order["order_no"], count=1, concurrent=4)  # duplicates at once


def start_round(daemon, users, rng, *, questions, spread_s, cards, pay):
    """Starts the whole mixed load; returns the Load to join and check."""
    load = Load(daemon, users, rng)
    load.start_questions(questions, spread_s)
    now = time.monotonic()
    for code in cards:
        load.race_card(code, rng.sample(users, 3), now + rng.uniform(0, spread_s))
    if pay:
        fake, channel, plan_id, buyers = pay
        for client in buyers:
            load.spawn(load.buy, client, channel, plan_id, fake, now + rng.uniform(0, spread_s))
    return load


def seeded(seed):
    return random.Random(seed)
