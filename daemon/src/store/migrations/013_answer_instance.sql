-- Which chatd instance is writing an answer (host:port), so that on a database several
-- instances share, a restarted instance interrupts and refunds only the answers it was
-- writing. Empty for answers of a single-instance SQLite database.
ALTER TABLE messages ADD COLUMN instance TEXT NOT NULL DEFAULT '';
