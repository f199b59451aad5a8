#!/usr/bin/env python3
"""The soak: a steady mixed load for a long time, printing chatd's RSS, open files, threads and
database size every interval; they must stay flat (no leaks).

    soak.py --seconds 3600 [--interval 60] [--users 40]

The load: users asking one question after another (some stopped early, some over failing keys
that fail over), reading their answers and deleting most conversations again (so that the
database reuses its pages). Flat means, comparing the last third of the
samples with the middle third (the first third is warm-up): RSS up by at most 10 % + 8 MB, open
files by at most 10, threads by at most 2, and the database by at most 2 KB per question asked in
between (the ledger and the day counters are append-only and grow with use). The database's size
is what its pages in use hold (SQLite: pages less free pages, the write-ahead log's committed
pages included), not its files, which grow in steps until a checkpoint. Binaries and
PostgreSQL as for chaos.py."""
import argparse
import contextlib
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import Chatd, FakeUpstream, RpcError, read_events  # noqa: E402
import invariants  # noqa: E402

KEYS = ("sk-soak1:ok:tokens=30:delay=20", "sk-soak2:ok:tokens=15:delay=40", "sk-soak3:error:status=500",
        "sk-soak4:drop:after=5:tokens=30:delay=20")


def proc_figures(pid):
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            status[key] = value.strip()
    return {
        "rss_mb": int(status["VmRSS"].split()[0]) / 1024,
        "files": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": int(status["Threads"]),
    }


def db_bytes(daemon):
    if daemon.postgres_url:
        return invariants.rows(daemon, "SELECT pg_database_size(current_database())")[0][0]
    uri = "file:" + os.path.join(daemon.data_dir, "chatd.db") + "?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
        pages, free, size = (db.execute(f"PRAGMA {p}").fetchone()[0]
                             for p in ("page_count", "freelist_count", "page_size"))
    return (pages - free) * size


class Counters:
    def __init__(self):
        self.lock = threading.Lock()
        self.asked = self.done = self.failed = self.refused = 0
        self.errors = []

    def add(self, **deltas):
        with self.lock:
            for k, v in deltas.items():
                setattr(self, k, getattr(self, k) + v)


def user_loop(daemon, client, counters, stop, seed):
    n = 0
    while not stop.is_set():
        n += 1
        try:
            sent = client.rpc("chat.send", {"content": f"soak question {seed}-{n}"})
            counters.add(asked=1)
            events = client.stream(sent["message_id"], stop_after_deltas=3 if n % 10 == 0 else None)
            if n % 10 == 0:
                client.rpc("chat.stop", {"message_id": sent["message_id"]})
            final = events[-1][0] if isinstance(events, list) and events else None
            counters.add(done=final == "done", failed=final == "error")
            if n % 4:
                client.rpc("conversations.delete", {"id": sent["conversation_id"]})
        except RpcError as e:
            counters.add(refused=1)
            if e.reason not in ("busy", "too_many_requests", "no_upstream"):
                counters.errors.append(f"{e.reason}: {e}")
            time.sleep(0.2)
        except Exception as e:  # noqa: BLE001 — a soak reports, it does not stop at the first
            counters.errors.append(f"{type(e).__name__}: {e}")
            time.sleep(0.5)


def flat(samples):
    """Violations of flatness: the last third of the samples against the middle third."""
    if len(samples) < 3:
        return [f"only {len(samples)} samples: run longer than three intervals"]
    third = len(samples) // 3
    middle, last = samples[third:2 * third], samples[2 * third:]
    peak = lambda part, key: max(s[key] for s in part)  # noqa: E731
    out = []
    if peak(last, "rss_mb") > peak(middle, "rss_mb") * 1.10 + 8:
        out.append(f"RSS grew from {peak(middle, 'rss_mb'):.1f} to {peak(last, 'rss_mb'):.1f} MB")
    if peak(last, "files") > peak(middle, "files") + 10:
        out.append(f"open files grew from {peak(middle, 'files')} to {peak(last, 'files')}")
    if peak(last, "threads") > peak(middle, "threads") + 2:
        out.append(f"threads grew from {peak(middle, 'threads')} to {peak(last, 'threads')}")
    asked = last[-1]["asked"] - middle[0]["asked"]
    grown = last[-1]["db"] - middle[0]["db"]
    if asked and grown > 2048 * asked:
        out.append(f"the database grew {grown / asked:.0f} bytes per question")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--interval", type=float, default=60)
    ap.add_argument("--users", type=int, default=40)
    args = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="chatd-soak-")
    fake = FakeUpstream(workdir)
    chatd = Chatd(workdir, "answers_in_flight = 4\n").start()
    failed = True
    try:
        chatd.ctl("keys", "add", "--base-url", fake.base_url, "-", input="".join(k + "\n" for k in KEYS))
        clients = []
        for i in range(args.users):
            c = chatd.client()
            c.user = c.register(f"soak{i:03d}")
            chatd.ctl("users", "grant", str(c.user["id"]), "--questions", "1000000", "--days", "365")
            clients.append(c)
        counters, stop = Counters(), threading.Event()
        threads = [threading.Thread(target=user_loop, args=(chatd, c, counters, stop, i), daemon=True)
                   for i, c in enumerate(clients)]
        for t in threads:
            t.start()
        print(f"soak: {args.seconds:.0f} s, a sample every {args.interval:.0f} s, {args.users} users, "
              f"chatd pid {chatd.proc.pid}")
        print(f"{'minute':>7} {'rss MB':>7} {'files':>6} {'threads':>7} {'db KB':>8} {'asked':>7} {'done':>6} "
              f"{'failed':>6}")
        samples, began = [], time.monotonic()
        while time.monotonic() - began < args.seconds:
            time.sleep(min(args.interval, max(0.0, args.seconds - (time.monotonic() - began))))
            s = dict(proc_figures(chatd.proc.pid), db=db_bytes(chatd), asked=counters.asked)
            samples.append(s)
            print(f"{(time.monotonic() - began) / 60:7.1f} {s['rss_mb']:7.1f} {s['files']:6d} {s['threads']:7d} "
                  f"{s['db'] / 1024:8.0f} {counters.asked:7d} {counters.done:6d} {counters.failed:6d}", flush=True)
        stop.set()
        for t in threads:
            t.join(60)
        problems = flat(samples) + counters.errors[:10]
        problems += invariants.balances_match_ledger(chatd) + invariants.questions_charged_once(chatd)
        for p in problems:
            print(f"soak: FAIL: {p}")
        failed = bool(problems) or counters.done == 0
        print(f"soak: {'FAIL' if failed else 'ok'}: {counters.asked} questions, {counters.done} done, "
              f"{counters.failed} ended in an error, {counters.refused} refused")
    finally:
        chatd.stop(signal.SIGTERM, timeout=60)
        fake.stop()
        if failed:
            print(f"soak: work dir kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
