-- PostgreSQL twin of migrations/013_answer_instance.sql.
-- Which chatd instance is writing an answer (host:port), so that on a database several
-- instances share, a restarted instance interrupts and refunds only the answers it was
-- writing.
ALTER TABLE messages ADD COLUMN instance TEXT NOT NULL DEFAULT '';
