-- WeChat login state that several chatd instances on one database share (PostgreSQL): a QR
-- login may start on one, be scanned through another and be polled on a third. A single
-- SQLite instance keeps this state in memory (wechat/memory_login_state.hpp) and leaves these
-- tables empty; they exist here too so both schemas hold the same tables.

-- Pending QR logins: one per browser (a newer one replaces it), found by ticket or scene.
CREATE TABLE wechat_logins (
    ticket     TEXT PRIMARY KEY,         -- WeChat's QR ticket, polled by the browser
    scene      TEXT NOT NULL UNIQUE,     -- what the scan push carries
    browser    TEXT NOT NULL UNIQUE,     -- a hash of the browser's login cookie
    invite     TEXT NOT NULL DEFAULT '',
    openid     TEXT NOT NULL DEFAULT '', -- set by the scan; handed out once by a poll
    qr_url     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX wechat_logins_expiry ON wechat_logins (expires_at);

-- One-time codes, keyed by a keyed hash: a copy of the database gives no usable code.
CREATE TABLE wechat_codes (
    code_hash  TEXT PRIMARY KEY,
    openid     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX wechat_codes_expiry ON wechat_codes (expires_at);

-- The site-wide budget of wrong codes: one row per wrong attempt within the window.
CREATE TABLE wechat_code_guesses (
    id    INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL
);
CREATE INDEX wechat_code_guesses_at ON wechat_code_guesses (at_ms);

-- WeChat's pushes, remembered while their timestamps are accepted: each signature
-- (timestamp/nonce) with the message it first carried, and each message with its reply,
-- so a retry that reaches another instance gets the first reply and is not handled again.
CREATE TABLE wechat_push_signatures (
    signature  TEXT PRIMARY KEY,
    message    TEXT NOT NULL,
    first_seen INTEGER NOT NULL
);
CREATE INDEX wechat_push_signatures_seen ON wechat_push_signatures (first_seen);
CREATE TABLE wechat_push_messages (
    message   TEXT PRIMARY KEY,
    reply     TEXT NOT NULL DEFAULT '',
    last_seen INTEGER NOT NULL
);
CREATE INDEX wechat_push_messages_seen ON wechat_push_messages (last_seen);

-- The account's access token, one per API base and appid: each fetch of a new token retires
-- the previous one, so instances share one. refreshing_until: a lease on the fetch, so only
-- one instance asks WeChat at a time; rejected: the last token WeChat called stale.
CREATE TABLE wechat_tokens (
    account          TEXT PRIMARY KEY,
    token            TEXT NOT NULL DEFAULT '',
    valid_until      INTEGER NOT NULL DEFAULT 0,
    refreshing_until INTEGER NOT NULL DEFAULT 0,
    rejected         TEXT NOT NULL DEFAULT '',
    last_forced      INTEGER NOT NULL DEFAULT 0
);
