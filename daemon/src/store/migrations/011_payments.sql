-- Online payment (CONTRACT §11): plans users buy, their orders, and every word a payment
-- channel said about an order. An order's plan is copied into it, so changing or removing a
-- plan never changes what an order was sold for.
CREATE TABLE plans (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents > 0),
    questions   INTEGER NOT NULL CHECK (questions > 0),
    days        INTEGER NOT NULL CHECK (days > 0),
    enabled     INTEGER NOT NULL DEFAULT 1,
    sort        INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

-- pending → paid (credited in the same transaction) | closed. A closed order the channel later
-- reports paid is still credited: the money was taken.
CREATE TABLE orders (
    order_no     TEXT PRIMARY KEY,  -- random and unguessable: it reaches the channel and the URL
    user_id      INTEGER NOT NULL REFERENCES users(id),
    plan_id      INTEGER,
    plan_name    TEXT NOT NULL,
    questions    INTEGER NOT NULL,
    days         INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
    channel      TEXT NOT NULL,     -- wechat, alipay, epay_alipay, epay_wxpay
    status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'paid', 'closed')),
    trade_no     TEXT,              -- the channel's own number, once known
    qr_url       TEXT,
    pay_url      TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    paid_at      INTEGER,
    closed_at    INTEGER
) WITHOUT ROWID;
CREATE INDEX orders_user ON orders(user_id, created_at);
CREATE INDEX orders_pending ON orders(status, expires_at);
CREATE INDEX orders_created ON orders(created_at);

-- What each notification, query and close said, and what chatd made of it: accepted
-- (credited now), duplicate (already paid), or refused with why. Summaries only: never a
-- secret or a whole body.
CREATE TABLE order_events (
    id        INTEGER PRIMARY KEY,
    order_no  TEXT NOT NULL,
    at        INTEGER NOT NULL,
    source    TEXT NOT NULL,  -- notify, query, sync, close
    client_ip TEXT NOT NULL DEFAULT '',
    verdict   TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX order_events_order ON order_events(order_no, id);

ALTER TABLE daily_stats ADD COLUMN orders INTEGER NOT NULL DEFAULT 0;
ALTER TABLE daily_stats ADD COLUMN paid_cents INTEGER NOT NULL DEFAULT 0;
