-- Nothing to tune: the log search is a trigram index over messages (008), which PostgreSQL keeps
-- itself.
SELECT 1;
