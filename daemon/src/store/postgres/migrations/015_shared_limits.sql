-- PostgreSQL twin of migrations/015_shared_limits.sql.
-- Rate limits that hold across several chatd instances on one database: one row a counted
-- attempt, `at` in milliseconds. UNLOGGED: a crash may forget recent attempts, which only
-- lets a few more through; in exchange no hit costs a WAL write.
CREATE UNLOGGED TABLE rate_hits (
    bucket TEXT NOT NULL,
    at     BIGINT NOT NULL
);
CREATE INDEX rate_hits_bucket ON rate_hits(bucket, at);
CREATE INDEX rate_hits_at ON rate_hits(at);
-- Counts and records a hit in one round trip: the bucket's lock first, then (a volatile
-- function in READ COMMITTED takes a fresh snapshot for each statement) a count that sees every
-- hit committed before the lock was granted, so two instances never both take the last place.
-- The limit is the caller's (store::record_hit).
CREATE FUNCTION chatd_record_hit(hit_bucket TEXT, hit_limit BIGINT, window_ms BIGINT, now_ms BIGINT)
RETURNS BOOLEAN LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    recent BIGINT;
BEGIN
    PERFORM pg_advisory_xact_lock(1667785076, hashtext(hit_bucket));  -- 0x63686174, "chat"
    DELETE FROM rate_hits WHERE bucket = hit_bucket AND at <= now_ms - window_ms;
    SELECT count(*) INTO recent FROM rate_hits WHERE bucket = hit_bucket;
    IF recent >= hit_limit THEN
        RETURN FALSE;
    END IF;
    INSERT INTO rate_hits (bucket, at) VALUES (hit_bucket, now_ms);
    RETURN TRUE;
END;
$$;
