-- The chatd instances sharing a database and when each was last seen (unix seconds, by the
-- database's clock) and since when it has beaten without a gap, so that a live one can finish the answers of one that died. SQLite has
-- one instance per file and leaves the table empty; it is here so both schemas match.
CREATE TABLE instances (
    name TEXT PRIMARY KEY,
    started_at INTEGER NOT NULL,
    beating_since INTEGER NOT NULL,
    seen_at INTEGER NOT NULL
);
