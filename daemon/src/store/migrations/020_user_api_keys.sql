-- Users' personal API keys for the OpenAI-compatible API (/v1): only the SHA-256 of a key is
-- kept, with a few characters of each end to show it masked.
CREATE TABLE user_api_keys (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    shown_prefix TEXT NOT NULL,
    shown_suffix TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX user_api_keys_user ON user_api_keys (user_id);
-- The operator's per-user switch; the site-wide one is the setting api.enabled.
ALTER TABLE users ADD COLUMN api_enabled INTEGER NOT NULL DEFAULT 1;
-- A question asked through the API belongs to a conversation of its own, marked with the key.
ALTER TABLE conversations ADD COLUMN user_api_key_id INTEGER REFERENCES user_api_keys(id);
ALTER TABLE daily_stats ADD COLUMN api_questions INTEGER NOT NULL DEFAULT 0;
