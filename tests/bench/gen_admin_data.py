#!/usr/bin/env python3
"""Fills a chatd database with a busy site's history, for the admin console benchmark:
100,000 users (a tenth of them WeChat users), 1,000,000 messages in 500,000 question/answer
pairs over the last 90 days, the ledger rows that go with them (balances stay consistent with
the ledger), 100,000 recharge cards in 20 batches (a third redeemed) and 10,000 audit entries.

The database must already carry chatd's schema (start chatd on the data dir once). Usage:
  tests/bench/gen_admin_data.py DB [--users N] [--messages N] [--cards N] [--seed S]
"""
import argparse
import os
import random
import sqlite3
import string
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DAY = 86400
WORDS_ZH = ("量子 计算 学习 工作 邮件 翻译 代码 错误 数据库 性能 天气 旅行 健康 历史 数学 物理 "
            "经济 市场 产品 设计 用户 问题 答案 方法 例子 总结 解释 文章 故事 计划").split()
WORDS_EN = ("python list tuple error memory thread socket server client request response cache "
            "index query table latency stream token model prompt answer question example").split()


def sentence(rng, n):
    words = WORDS_ZH if rng.random() < 0.7 else WORDS_EN
    sep = "" if words is WORDS_ZH else " "
    return sep.join(rng.choice(words) for _ in range(n))


def crockford(rng, n):
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "".join(rng.choice(alphabet) for _ in range(n))


def generate(db_path, users, messages, cards, seed):
    rng = random.Random(seed)
    now = int(time.time())
    start = now - 90 * DAY
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    first_user = (db.execute("SELECT coalesce(max(id), 0) FROM users").fetchone()[0] or 0) + 1

    # Users: created evenly over the period; each gets the trial grant in the ledger.
    user_rows, ledger_rows = [], []
    created = {}
    for i in range(users):
        uid = first_user + i
        at = start + (i * 90 * DAY) // users
        created[uid] = at
        wechat = i % 10 == 0
        user_rows.append((uid, None if wechat else f"user{uid}", None if wechat else "x",
                          f"o{crockford(rng, 27)}" if wechat else None,
                          f"微信用户{uid}" if wechat else f"user{uid}",
                          crockford(rng, 8) + str(uid), at))
        ledger_rows.append((uid, at, 10, 0, "trial_grant", ""))
    db.executemany("INSERT INTO users (id, username, password_hash, wechat_openid, name, invite_code, created_at) "
                   "VALUES (?,?,?,?,?,?,?)", user_rows)

    # Conversations of 1-4 question/answer pairs; every question is charged one trial credit.
    pairs = messages // 2
    spent = {}
    conv_rows, msg_rows = [], []
    conv_id = (db.execute("SELECT coalesce(max(id), 0) FROM conversations").fetchone()[0] or 0)
    msg_id = (db.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0] or 0)
    made = 0
    while made < pairs:
        uid = first_user + rng.randrange(users)
        if spent.get(uid, 0) >= 10:
            continue
        n = min(rng.randint(1, 4), pairs - made, 10 - spent.get(uid, 0))
        conv_id += 1
        at = rng.randint(created[uid], now)
        parent = None
        t = at
        for _ in range(n):
            msg_id += 1
            question = sentence(rng, rng.randint(5, 30))
            msg_rows.append((msg_id, conv_id, parent, "user", question, "done", None, 0, None, t, t))
            ledger_rows.append((uid, t, -1, 0, "question", f"message:{msg_id + 1}"))
            msg_id += 1
            first_ms = int(rng.lognormvariate(6.5, 0.5))
            msg_rows.append((msg_id, conv_id, msg_id - 1, "assistant", sentence(rng, rng.randint(40, 160)), "done",
                             "gpt-4o-mini", 1, first_ms, t, t + 5))
            parent = msg_id
            t += rng.randint(10, 600)
        conv_rows.append((conv_id, uid, msg_rows[-2 * n][4][:40], "gpt-4o-mini", parent, at, min(t, now)))
        spent[uid] = spent.get(uid, 0) + n
        made += n
    db.executemany("INSERT INTO conversations (id, user_id, title, model, current_leaf_id, created_at, updated_at) "
                   "VALUES (?,?,?,?,?,?,?)", conv_rows)
    db.executemany("INSERT INTO messages (id, conversation_id, parent_id, role, content, status, model, "
                   "charge_trial, first_token_ms, created_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", msg_rows)
    db.execute("UPDATE users SET trial_credits = trial_credits + 10 WHERE id >= ?", (first_user,))
    db.executemany("UPDATE users SET trial_credits = trial_credits - ? WHERE id = ?",
                   [(n, uid) for uid, n in spent.items()])

    # Cards: 20 batches; a third of the codes redeemed, each a paid grant in the ledger.
    per_batch = max(1, cards // 20)
    paid = {}
    for b in range(20):
        name = f"bench-{b:02d}"
        made_at = start + b * 4 * DAY
        db.execute("INSERT INTO card_batches (name, questions, days, created_at) VALUES (?,?,?,?)",
                   (name, 50, 30, made_at))
        rows = []
        for _ in range(per_batch):
            code = crockford(rng, 16)
            if rng.random() < 1 / 3:
                uid = first_user + rng.randrange(users)
                at = rng.randint(max(made_at, created[uid]), now)
                rows.append((code, name, 50, 30, "used", uid, at, made_at))
                paid[uid] = paid.get(uid, 0) + 50
                ledger_rows.append((uid, at, 0, 50, "card", f"card:{code}"))
            else:
                rows.append((code, name, 50, 30, "unused", None, None, made_at))
        db.executemany("INSERT OR IGNORE INTO cards (code, batch, questions, days, status, redeemed_by, "
                       "redeemed_at, created_at) VALUES (?,?,?,?,?,?,?,?)", rows)
    db.executemany("UPDATE users SET paid_credits = paid_credits + ?, paid_expires_at = ? WHERE id = ?",
                   [(n, now + 30 * DAY, uid) for uid, n in paid.items()])
    ledger_rows.sort(key=lambda r: r[1])
    db.executemany("INSERT INTO ledger (user_id, at, delta_trial, delta_paid, reason, ref) VALUES (?,?,?,?,?,?)",
                   ledger_rows)

    db.executemany("INSERT INTO audit_log (at, actor, via, method, params) VALUES (?,?,?,?,?)",
                   [(start + i * 777, "socket", "socket", "admin.settings.set",
                     '{"key":"site.name","value":"bench"}') for i in range(10_000)])
    # The dashboard's day rollups, computed as the migration that introduced them does.
    migration = os.path.join(ROOT, "daemon", "src", "store", "migrations", "007_daily_rollups.sql")
    for table in ("daily_stats", "daily_active", "daily_latency"):
        db.execute(f"DELETE FROM {table}")
    with open(migration) as f:
        statements = [x.strip() for x in f.read().split(";")]
    for sql in statements:
        body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--")).strip()
        if body.startswith("INSERT"):
            db.execute(body)
    # chatd indexes these for search in the background when it next starts.
    db.execute("UPDATE search_backfill SET next_id = 1, below = (SELECT max(id) + 1 FROM messages)")
    db.commit()
    db.execute("ANALYZE")
    db.close()
    return {"users": users, "conversations": len(conv_rows), "messages": len(msg_rows),
            "ledger": len(ledger_rows), "cards": per_batch * 20}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("db")
    ap.add_argument("--users", type=int, default=100_000)
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--cards", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    t = time.monotonic()
    counts = generate(a.db, a.users, a.messages, a.cards, a.seed)
    print(f"generated {counts} in {time.monotonic() - t:.1f} s")


if __name__ == "__main__":
    main()
