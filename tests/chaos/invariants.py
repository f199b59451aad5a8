"""What must hold after every round, whatever the fault: read from chatd's database (SQLite file
or PostgreSQL) and compared with what the browsers and buyers saw. Each check returns a list of
violations; an empty list is a pass."""
import contextlib
import os
import sqlite3

# A crash may lose what arrived since the last save: saves come every 0.5 s, and a save in
# flight at the kill takes up to a commit. The product's promise is at most 1 s.
LOSS_ALLOWED_S = 1.0


def connect(daemon):
    if daemon.postgres_url:
        from pg_database import Connection
        return Connection(daemon.postgres_url)
    return sqlite3.connect(os.path.join(daemon.data_dir, "chatd.db"), timeout=30)


def rows(daemon, sql, *args):
    with contextlib.closing(connect(daemon)) as db:
        return db.execute(sql, args).fetchall()


def in_batches(daemon, sql, values, size=500):
    """Rows of `sql` with its "{}" filled by placeholders for each batch of values."""
    out = []
    for i in range(0, len(values), size):
        batch = values[i:i + size]
        out += rows(daemon, sql.format(", ".join("?" * len(batch))), *batch)
    return out


def balances_match_ledger(daemon):
    bad = rows(daemon,
               "SELECT u.id, u.trial_credits, u.paid_credits, COALESCE(l.t, 0), COALESCE(l.p, 0) FROM users u "
               "LEFT JOIN (SELECT user_id, sum(delta_trial) t, sum(delta_paid) p FROM ledger GROUP BY user_id) l "
               "ON l.user_id = u.id WHERE u.trial_credits != COALESCE(l.t, 0) OR u.paid_credits != COALESCE(l.p, 0)")
    return [f"user {u}: balance {t}/{p}, ledger {lt}/{lp}" for u, t, p, lt, lp in bad]


def questions_charged_once(daemon):
    """Each question charged at most once and refunded at most once, the refund matching the
    message's flag."""
    out = [f"{ref}: {n} '{reason}' rows" for ref, reason, n in rows(
        daemon, "SELECT ref, reason, count(*) FROM ledger WHERE ref LIKE 'message:%' "
                "GROUP BY ref, reason HAVING count(*) > 1")]
    out += [f"message {m}: refunded flag {flag} but {n} refund rows" for m, flag, n in rows(
        daemon, "SELECT m.id, m.refunded, COALESCE(r.n, 0) FROM messages m LEFT JOIN "
                "(SELECT ref, count(*) n FROM ledger WHERE ref LIKE 'message:%' AND reason LIKE 'refund%' "
                "GROUP BY ref) r ON r.ref = 'message:' || m.id WHERE m.role = 'assistant' "
                "AND m.charge_trial + m.charge_paid > 0 AND m.refunded != COALESCE(r.n, 0)")]
    return out


def cards_credited_once(daemon, redemptions):
    out = [f"{ref}: credited {n} times" for ref, n in rows(
        daemon, "SELECT ref, count(*) FROM ledger WHERE ref LIKE 'card:%' GROUP BY ref HAVING count(*) > 1")]
    forms = {f: code for code in redemptions for f in (code, code.replace("-", ""))}  # as made, as stored
    holders = dict(in_batches(daemon, "SELECT code, redeemed_by FROM cards WHERE code IN ({})", list(forms)))
    credited = {(ref[len("card:"):], user) for ref, user in in_batches(
        daemon, "SELECT ref, user_id FROM ledger WHERE ref IN ({})", ["card:" + f for f in forms])}
    for code, tries in redemptions.items():
        winners = [user for user, outcome in tries if outcome == "ok"]
        if len(winners) > 1:
            out.append(f"card {code}: redeemed by {len(winners)} racers {winners}")
        stored = [f for f in (code, code.replace("-", "")) if f in holders]
        holder = holders[stored[0]] if stored else None
        if winners and holder != winners[0]:
            out.append(f"card {code}: {winners[0]} was told ok but the card is {holder}'s")
        if holder is not None and not any((f, holder) in credited for f in stored):
            out.append(f"card {code}: redeemed by {holder} without a ledger row")
    return out


def orders_credited_once(daemon, orders):
    out = [f"{ref}: credited {n} times" for ref, n in rows(
        daemon, "SELECT ref, count(*) FROM ledger WHERE ref LIKE 'order:%' GROUP BY ref HAVING count(*) > 1")]
    numbers = [no for _, no in orders]
    status = dict(in_batches(daemon, "SELECT order_no, status FROM orders WHERE order_no IN ({})", numbers))
    credited = {}
    for (ref,) in in_batches(daemon, "SELECT ref FROM ledger WHERE ref IN ({})", ["order:" + no for no in numbers]):
        credited[ref[len("order:"):]] = credited.get(ref[len("order:"):], 0) + 1
    for no in numbers:
        if status.get(no) == "paid" and credited.get(no, 0) != 1:
            out.append(f"order {no}: paid, credited {credited.get(no, 0)} times")
        if status.get(no) not in (None, "paid") and credited.get(no):
            out.append(f"order {no}: {status[no]} but credited")
    return out


def nothing_streaming(daemon):
    return [f"message {m} still streaming" for (m,) in rows(
        daemon, "SELECT id FROM messages WHERE status = 'streaming'")]


def answers_kept(daemon, answers, outcome):
    """Every stored answer agrees with what its browser received: one a prefix of the other; equal
    when the browser saw the end; after kill -9 at most LOSS_ALLOWED_S of text short."""
    out = []
    kept = in_batches(daemon, "SELECT id, content, status FROM messages WHERE id IN ({})",
                      [a.message_id for a in answers])
    kept = {m: (content, status) for m, content, status in kept}
    for a in answers:
        if a.message_id not in kept:
            out.append(f"message {a.message_id}: not stored")
            continue
        stored, status = kept[a.message_id]
        common = min(len(stored), len(a.text))
        if stored[:common] != a.text[:common]:
            out.append(f"message {a.message_id}: stored text and received text differ at {common}")
            continue
        if a.final == "done" and stored != a.text:
            out.append(f"message {a.message_id} ({status}): browser saw done with {len(a.text)} chars, "
                       f"{len(stored)} stored")
        if len(stored) < len(a.text):
            if outcome.died_at is None:
                out.append(f"message {a.message_id} ({status}): {len(a.text) - len(stored)} chars lost "
                           f"without a crash")
            elif len(stored) < a.received_by(outcome.died_at - LOSS_ALLOWED_S):
                out.append(f"message {a.message_id} ({status}): lost more than {LOSS_ALLOWED_S} s before "
                           f"the crash ({len(stored)} stored of {len(a.text)})")
    return out


def storage_intact(daemon):
    if daemon.postgres_url:
        from pg_database import psql
        # amcheck verifies every B-tree index against its table (PostgreSQL's integrity check).
        psql(daemon.postgres_url, "CREATE EXTENSION IF NOT EXISTS amcheck")
        psql(daemon.postgres_url,
             "SELECT bt_index_check(c.oid, true) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
             "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
             "WHERE a.amname = 'btree' AND n.nspname = 'public'")
        return []
    result = rows(daemon, "PRAGMA integrity_check")
    return [] if result == [("ok",)] else [f"integrity_check: {result[:5]}"]


def check_all(daemon, load, outcome):
    """{invariant name: [violations]} in a stable order for printing."""
    checks = {
        "balance=ledger": balances_match_ledger(daemon),
        "questions once": questions_charged_once(daemon),
        "cards once": cards_credited_once(daemon, load.redemptions),
        "orders once": orders_credited_once(daemon, load.orders),
        "none streaming": nothing_streaming(daemon),
        "answers kept": answers_kept(daemon, load.answers, outcome),
        "integrity": storage_intact(daemon),
    }
    healthy = outcome.healthy_after_s
    checks["healthz<5s"] = [] if healthy is None or healthy <= 5.0 else [f"/healthz after {healthy:.1f} s"]
    checks["no surprises"] = list(load.surprises)
    return checks
