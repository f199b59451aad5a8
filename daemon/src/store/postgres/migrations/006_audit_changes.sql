-- What an admin change did, not only what was asked: the state before and after (JSON, secrets
-- masked) and, for web sessions, the client address.
ALTER TABLE audit_log ADD COLUMN address TEXT;
ALTER TABLE audit_log ADD COLUMN before TEXT;
ALTER TABLE audit_log ADD COLUMN after TEXT;
