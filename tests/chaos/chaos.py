#!/usr/bin/env python3
"""The chaos suite: rounds of mixed load (answers over keys that answer, hang, drop, fail or
refuse; card codes raced by several users; payment notifications with duplicates), each hit by
one fault at a random moment, then checked against the invariants (invariants.py). Every few
rounds a backup taken under the load is restored into a fresh chatd that must pass them too.

    chaos.py [--rounds 5] [--seed N] [--questions 300]

Binaries as for the integration tests (CHATD_BIN, CHATCTL_BIN, FAKE_UPSTREAM_BIN); with
CHATD_TEST_POSTGRES_URL (tests/support/pg_server.py --run) chatd runs on PostgreSQL. On SQLite the
data dir is a tmpfs (mount needs root) so that the disk can fill up. Exits 1 on any violation."""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import POSTGRES, Chatd, FakeChannel, free_port, wait_for  # noqa: E402
from faults import FAULTS, Upstream, hit  # noqa: E402
import invariants  # noqa: E402
import load as mixed  # noqa: E402

EPAY_PID, EPAY_KEY = "1001", "Zx9kLm3Qp7Rt5Vw1"
USERS = 60
ANSWERS_IN_FLIGHT = 8  # per user: 300 questions from 60 users stay within it
BACKUP_EVERY = 10  # rounds; the first round takes one too
# On PostgreSQL a restarted chatd is another instance: the answers of the one that died are ended
# by the dead-instance sweep, after this many seconds unseen (and as long again of beating).
PG_ARGS = ("--store.instance_timeout", "3") if POSTGRES else ()

# What the round's keys do (fake_upstream behaviours); the first ones answer.
ANSWERING = ("ok:tokens=40:delay=40", "ok:tokens=25:delay=60", "ok:tokens=60:delay=20", "ok:tokens=10:delay=100")
TROUBLE = ("slow:tokens=6:delay=300", "drop:after=4:tokens=30:delay=30", "hang", "hang_body", "error:status=500",
           "error:status=502", "invalid", "ratelimit:retry_after=1", "quota", "badjson")


def config():
    return (f"answers_in_flight = {ANSWERS_IN_FLIGHT}\n"  # still the harness's [limits] section
            "[upstream]\nfirst_byte_timeout = 3\nidle_timeout = 3\nconnect_timeout = 2\n"
            "[pay]\norder_minutes = 15\n"
            f"[pay.epay]\npid = {EPAY_PID}\nkey = {EPAY_KEY}\napi_base = {{epay}}/\n")


class Site:
    """chatd with its fakes, users, a plan, and the mounts to undo."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.data_dir = os.path.join(workdir, "var")
        os.makedirs(self.data_dir)
        self.mounted = False
        if not POSTGRES:
            mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=128m,mode=0700", "tmpfs", self.data_dir],
                                     capture_output=True, text=True)
            if mounted.returncode != 0:
                raise SystemExit("chaos: the disk-full fault needs a tmpfs data dir, and mount failed "
                                 f"(run as root): {mounted.stderr.strip()}")
            self.mounted = True
        self.upstream = Upstream(workdir, free_port())
        self.epay = FakeChannel(workdir, "fake_epay", "--pid", EPAY_PID, "--key", EPAY_KEY)
        self.chatd = Chatd(workdir, config().replace("{epay}", self.epay.base), PG_ARGS, public_url=True).start()
        self.plan = self.chatd.ctl_json("plans", "set", "--name", "月卡", "--price", "9.90", "--questions", "30",
                                        "--days", "30")
        self.users = []
        for i in range(USERS):
            c = self.chatd.client()
            c.user = c.register(f"chaos{i:03d}")
            self.users.append(c)
            self.chatd.ctl("users", "grant", str(c.user["id"]), "--questions", "100000", "--days", "365")

    def close(self):
        for stop in (lambda: self.chatd.stop(signal.SIGKILL), self.upstream.stop, self.epay.stop):
            try:
                stop()
            except Exception as e:  # noqa: BLE001 — tearing down; report and go on
                print(f"chaos: teardown: {e}", file=sys.stderr)
        if self.mounted:
            if subprocess.run(["umount", self.data_dir], capture_output=True).returncode != 0:
                subprocess.run(["umount", "--lazy", self.data_dir], check=False)

    def new_keys(self, round_no, rng):
        for key in self.chatd.ctl_json("keys", "list")["items"]:
            self.chatd.ctl("keys", "rm", str(key["id"]))
        behaviours = list(ANSWERING) + rng.sample(TROUBLE, 4)
        keys = "".join(f"sk-r{round_no:03d}k{i}:{b}\n" for i, b in enumerate(behaviours))
        self.chatd.ctl("keys", "add", "--base-url", self.upstream.base_url, "-", input=keys)
        return behaviours[len(ANSWERING):]

    def new_cards(self, round_no, count):
        out = self.chatd.ctl_json("cards", "generate", "--count", str(count), "--questions", "5", "--days", "30",
                                  "--batch", f"chaos-{round_no:03d}")
        return [c["code"] for c in out["cards"]]


def settle(daemon, timeout=45):
    """Waits for every answer to end (a hanging key ends at the first-byte timeout)."""
    wait_for(lambda: not invariants.nothing_streaming(daemon), timeout=timeout, interval=0.2,
             what="no answer left streaming")


def backup_now(daemon, path, taken):
    try:
        daemon.ctl("backup", path)
        taken.append(path)
    except AssertionError as e:
        taken.append(e)


def restore_and_check(backup, workdir):
    """A fresh chatd on the backup: it must start, sweep what was streaming, and pass."""
    os.makedirs(os.path.join(workdir, "var"))
    restored = Chatd(workdir, args=PG_ARGS)
    if restored.postgres_url:
        subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "-d", restored.postgres_url, backup],
                       check=True, capture_output=True, timeout=120)
    else:
        shutil.copy(backup, os.path.join(restored.data_dir, "chatd.db"))
    began = time.monotonic()
    restored.start()
    healthy_s = time.monotonic() - began
    try:
        settle(restored, timeout=20)
        checks = {
            "balance=ledger": invariants.balances_match_ledger(restored),
            "questions once": invariants.questions_charged_once(restored),
            "cards once": invariants.cards_credited_once(restored, {}),
            "orders once": invariants.orders_credited_once(restored, []),
            "none streaming": invariants.nothing_streaming(restored),
            "integrity": invariants.storage_intact(restored),
            "healthz<5s": [] if healthy_s <= 5 else [f"/healthz after {healthy_s:.1f} s"],
        }
    finally:
        restored.stop()
    return checks


def run_round(site, round_no, rng, args):
    trouble = site.new_keys(round_no, rng)
    cards = site.new_cards(round_no, 8)
    fault = args.faults[(round_no - 1) % len(args.faults)] if round_no <= len(args.faults) else rng.choice(
        args.faults)
    buyers = rng.sample(site.users, 4)
    began = time.monotonic()
    work = mixed.start_round(site.chatd, site.users, rng, questions=args.questions, spread_s=args.spread,
                             cards=cards, pay=(site.epay, "epay_alipay", site.plan["id"], buyers))
    fault_at = rng.uniform(0.4, args.spread + 1.0)
    taken = []
    if round_no == 1 or round_no % BACKUP_EVERY == 0:
        time.sleep(rng.uniform(0.1, fault_at * 0.8))
        backup_now(site.chatd, os.path.join(site.workdir, f"backup-{round_no:03d}.db"), taken)
    time.sleep(max(0.0, began + fault_at - time.monotonic()))
    outcome = hit(fault, site.chatd, site.upstream, site.data_dir)
    stuck = work.join(timeout=120)
    if stuck:
        work.surprises.append(f"{len(stuck)} workers still running after 120 s")
    joined = time.monotonic()
    settle(site.chatd)
    settled = time.monotonic()
    checks = invariants.check_all(site.chatd, work, outcome)
    checked = time.monotonic()
    finals = {"done": 0, "error": 0, None: 0}
    for a in work.answers:
        finals[a.final] += 1
    print(f"round {round_no:3d}  {fault:<15} at {fault_at:4.1f} s  keys +{','.join(t.split(':')[0] for t in trouble)}"
          f"  answers {len(work.answers)} (done {finals['done']}, error {finals['error']}, cut {finals[None]})"
          f"  refused {sum(work.refused.values())}, down {work.unreachable} {work.why_unreachable or ''}"
          f"  healthz {'-' if outcome.healthy_after_s is None else f'{outcome.healthy_after_s:.2f} s'}"
          f"  (load {joined - began:.0f} s, settle {settled - joined:.0f} s, checks {checked - settled:.0f} s)")
    if taken:
        if isinstance(taken[0], Exception):
            checks["backup"] = [f"backup under load failed: {taken[0]}"]
        else:
            restored = restore_and_check(taken[0], os.path.join(site.workdir, f"restore-{round_no:03d}"))
            checks["backup"] = [f"restored: {name}: {v}" for name, vs in restored.items() for v in vs]
            print(f"           backup under load restored: {'ok' if not checks['backup'] else 'FAILED'}")
    return checks


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "5")))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("CHAOS_SEED", "0")) or int(time.time()))
    ap.add_argument("--questions", type=int, default=300, help="answers started per round")
    ap.add_argument("--spread", type=float, default=2.0, help="seconds over which a round's load starts")
    ap.add_argument("--keep", action="store_true", help="keep the work dir")
    args = ap.parse_args()
    args.faults = [f for f in FAULTS if f != "disk_full"] if POSTGRES else list(FAULTS)
    rng = mixed.seeded(args.seed)
    threading.stack_size(256 * 1024)
    print(f"chaos: {args.rounds} rounds, seed {args.seed}, {args.questions} answers a round, "
          f"backend {'postgres' if POSTGRES else 'sqlite'}, faults {', '.join(args.faults)}")
    workdir = tempfile.mkdtemp(prefix="chatd-chaos-")
    site = Site(workdir)
    totals, failed, finished = {}, False, False
    try:
        for round_no in range(1, args.rounds + 1):
            checks = run_round(site, round_no, rng, args)
            for name, violations in checks.items():
                totals.setdefault(name, [0, 0])
                totals[name][0 if not violations else 1] += 1
                for v in violations[:10]:
                    print(f"           VIOLATION {name}: {v}")
                failed |= bool(violations)
        finished = True
    finally:
        failed |= not finished
        site.close()
        print("\ninvariant          rounds passed  failed")
        for name, (ok, bad) in totals.items():
            print(f"{name:<18} {ok:13d}  {bad:6d}")
        if failed or args.keep:
            print(f"chaos: work dir kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
