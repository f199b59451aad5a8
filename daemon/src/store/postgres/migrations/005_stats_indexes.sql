-- The operator's dashboard reads days of activity: these keep it off full-table scans.
CREATE INDEX messages_created ON messages(created_at);
CREATE INDEX users_created ON users(created_at);
CREATE INDEX ledger_at ON ledger(at);
CREATE INDEX cards_redeemed ON cards(redeemed_at) WHERE redeemed_at IS NOT NULL;
CREATE INDEX conversations_updated ON conversations(updated_at, id);
