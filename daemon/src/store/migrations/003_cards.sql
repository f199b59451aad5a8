-- Recharge cards (充值卡), generated in named batches and sold outside (card shops, Taobao…).
CREATE TABLE card_batches (
    name          TEXT PRIMARY KEY,
    questions     INTEGER NOT NULL CHECK (questions > 0),
    days          INTEGER NOT NULL CHECK (days > 0),
    redeem_before INTEGER,
    created_at    INTEGER NOT NULL
) WITHOUT ROWID;

-- `code` is stored normalised: 16 Crockford base32 characters, no dashes. "expired" is not a
-- stored status: an unused card whose redeem_before has passed.
CREATE TABLE cards (
    code          TEXT PRIMARY KEY,
    batch         TEXT NOT NULL REFERENCES card_batches(name),
    questions     INTEGER NOT NULL,
    days          INTEGER NOT NULL,
    redeem_before INTEGER,
    status        TEXT NOT NULL DEFAULT 'unused' CHECK (status IN ('unused', 'used', 'revoked')),
    redeemed_by   INTEGER REFERENCES users(id),
    redeemed_at   INTEGER,
    created_at    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX cards_batch ON cards(batch, status);
