-- Every status change of an upstream key (evicted, cooling, back to active…), for operators.
CREATE TABLE key_events (
    id     INTEGER PRIMARY KEY,
    key_id INTEGER NOT NULL,
    at     INTEGER NOT NULL,
    status TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX key_events_key ON key_events(key_id, id);
