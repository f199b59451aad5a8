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
-- Counts and records a hit in each bucket in one round trip, or in none when one is full: the
-- buckets' locks first (in the order of their keys, so two callers never wait on each other in
-- a cycle), then — a volatile function in READ COMMITTED takes a fresh snapshot for each
-- statement — counts that see every hit committed before the locks were granted, so two
-- instances never both take the last place. The limit is the caller's (store::record_hits).
CREATE FUNCTION chatd_record_hits(buckets TEXT[], hit_limit BIGINT, window_ms BIGINT, now_ms BIGINT)
RETURNS BOOLEAN LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    lock_key INTEGER;
    b TEXT;
    recent BIGINT;
BEGIN
    FOR lock_key IN SELECT DISTINCT hashtext(x) FROM unnest(buckets) AS x ORDER BY 1 LOOP
        PERFORM pg_advisory_xact_lock(1667785076, lock_key);  -- 0x63686174, "chat"
    END LOOP;
    FOREACH b IN ARRAY buckets LOOP
        DELETE FROM rate_hits WHERE bucket = b AND at <= now_ms - window_ms;
        SELECT count(*) INTO recent FROM rate_hits WHERE bucket = b;
        IF recent >= hit_limit THEN
            RETURN FALSE;
        END IF;
    END LOOP;
    INSERT INTO rate_hits (bucket, at) SELECT x, now_ms FROM unnest(buckets) AS x;
    RETURN TRUE;
END;
$$;
