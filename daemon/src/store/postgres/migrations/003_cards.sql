-- Recharge cards (充值卡), generated in named batches and sold outside (card shops, Taobao…).
CREATE TABLE card_batches (
    name          TEXT PRIMARY KEY,
    questions     BIGINT NOT NULL CHECK (questions > 0),
    days          BIGINT NOT NULL CHECK (days > 0),
    redeem_before BIGINT,
    created_at    BIGINT NOT NULL
);

-- `code` is stored normalised: 16 Crockford base32 characters, no dashes. "expired" is not a
-- stored status: an unused card whose redeem_before has passed.
CREATE TABLE cards (
    code          TEXT PRIMARY KEY,
    batch         TEXT NOT NULL REFERENCES card_batches(name),
    questions     BIGINT NOT NULL,
    days          BIGINT NOT NULL,
    redeem_before BIGINT,
    status        TEXT NOT NULL DEFAULT 'unused' CHECK (status IN ('unused', 'used', 'revoked')),
    redeemed_by   BIGINT REFERENCES users(id),
    redeemed_at   BIGINT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX cards_batch ON cards(batch, status);
