-- Nothing to queue: the log search is a trigram index over messages (008), kept by PostgreSQL as
-- each message is written.
SELECT 1;
