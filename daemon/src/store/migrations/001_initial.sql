-- Accounts. A user logs in by password (username) or, later, by WeChat (openid).
CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    username        TEXT UNIQUE COLLATE NOCASE,
    password_hash   TEXT,
    wechat_openid   TEXT UNIQUE,
    wechat_unionid  TEXT,
    name            TEXT NOT NULL,
    avatar          TEXT,
    is_admin        INTEGER NOT NULL DEFAULT 0,
    banned          INTEGER NOT NULL DEFAULT 0,
    theme           TEXT NOT NULL DEFAULT '',
    invite_code     TEXT NOT NULL UNIQUE,
    invited_by      INTEGER REFERENCES users(id),
    -- Balance buckets; every change is mirrored by a ledger row in the same transaction.
    trial_credits   INTEGER NOT NULL DEFAULT 0 CHECK (trial_credits >= 0),
    paid_credits    INTEGER NOT NULL DEFAULT 0 CHECK (paid_credits >= 0),
    paid_expires_at INTEGER,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER
);

-- Append-only: rows are never updated or deleted (enforced by the triggers below).
CREATE TABLE ledger (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    at          INTEGER NOT NULL,
    delta_trial INTEGER NOT NULL,
    delta_paid  INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    ref         TEXT
);
CREATE INDEX ledger_user ON ledger(user_id, id);
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger is append-only'); END;

-- Only a hash of the cookie token is stored, so a database leak does not leak sessions.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT,
    user_agent   TEXT
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

-- Models offered to users; `id` is what the SPA picks, `upstream_model` what is sent upstream.
CREATE TABLE models (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    upstream_model    TEXT NOT NULL,
    cost              INTEGER NOT NULL DEFAULT 1 CHECK (cost >= 0),
    max_messages      INTEGER NOT NULL DEFAULT 20,
    max_context_chars INTEGER NOT NULL DEFAULT 16000,
    enabled           INTEGER NOT NULL DEFAULT 1,
    sort              INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO models (id, name, upstream_model, cost, sort) VALUES ('gpt-4o-mini', 'GPT-4o mini', 'gpt-4o-mini', 1, 0);

CREATE TABLE conversations (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id),
    title           TEXT NOT NULL DEFAULT '',
    model           TEXT NOT NULL,
    role_id         INTEGER,
    system_prompt   TEXT,
    pinned          INTEGER NOT NULL DEFAULT 0,
    current_leaf_id INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    -- Deleted by the user: hidden from them, kept for the operator's logs.
    deleted_at      INTEGER
);
CREATE INDEX conversations_user ON conversations(user_id, pinned, updated_at, id);

-- A tree per conversation: regenerate and edit add siblings under the same parent.
CREATE TABLE messages (
    id                INTEGER PRIMARY KEY,
    conversation_id   INTEGER NOT NULL REFERENCES conversations(id),
    parent_id         INTEGER REFERENCES messages(id),
    role              TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content           TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL CHECK (status IN ('streaming', 'done', 'stopped', 'failed', 'interrupted')),
    model             TEXT,
    key_id            INTEGER,
    charge_trial      INTEGER NOT NULL DEFAULT 0,
    charge_paid       INTEGER NOT NULL DEFAULT 0,
    refunded          INTEGER NOT NULL DEFAULT 0,
    free_reason       TEXT,
    error_reason      TEXT,
    error_message     TEXT,
    prompt_tokens     INTEGER,
    completion_tokens INTEGER,
    first_token_ms    INTEGER,
    total_ms          INTEGER,
    created_at        INTEGER NOT NULL,
    finished_at       INTEGER
);
CREATE INDEX messages_conversation ON messages(conversation_id, id);
CREATE INDEX messages_streaming ON messages(status) WHERE status = 'streaming';

CREATE TABLE api_keys (
    id             INTEGER PRIMARY KEY,
    secret         TEXT NOT NULL UNIQUE,
    base_url       TEXT,
    models         TEXT NOT NULL DEFAULT '[]',
    note           TEXT,
    provider       TEXT NOT NULL DEFAULT 'openai',
    -- `enabled` is the operator's switch; `status` is what the pool decided (active/cooling/invalid).
    enabled        INTEGER NOT NULL DEFAULT 1,
    status         TEXT NOT NULL DEFAULT 'active',
    reason         TEXT,
    cooldown_until INTEGER,
    requests       INTEGER NOT NULL DEFAULT 0,
    failures       INTEGER NOT NULL DEFAULT 0,
    tokens_in      INTEGER NOT NULL DEFAULT 0,
    tokens_out     INTEGER NOT NULL DEFAULT 0,
    last_used_at   INTEGER,
    last_error     TEXT,
    created_at     INTEGER NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    via    TEXT NOT NULL CHECK (via IN ('socket', 'web')),
    method TEXT NOT NULL,
    params TEXT NOT NULL
);
