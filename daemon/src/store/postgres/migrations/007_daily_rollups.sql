-- The dashboard's series, kept per day (server local time: the session's TimeZone) as things
-- happen, in the same transaction as what they count: reading a month is reading 30 rows, not
-- every message.
CREATE TABLE daily_stats (
    date         TEXT PRIMARY KEY,  -- YYYY-MM-DD
    questions    BIGINT NOT NULL DEFAULT 0,
    new_users    BIGINT NOT NULL DEFAULT 0,
    redemptions  BIGINT NOT NULL DEFAULT 0,
    credits_sold BIGINT NOT NULL DEFAULT 0
);

-- Who asked on which day: counting a day's rows gives its active users.
CREATE TABLE daily_active (
    date    TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    PRIMARY KEY (date, user_id)
);

-- First-token latency as a histogram per day: bucket = round(ln(1 + ms) * 20), about 5 % wide.
CREATE TABLE daily_latency (
    date   TEXT NOT NULL,
    bucket BIGINT NOT NULL,
    count  BIGINT NOT NULL,
    PRIMARY KEY (date, bucket)
);

INSERT INTO daily_stats (date, questions)
    SELECT to_char(to_timestamp(created_at), 'YYYY-MM-DD'), count(*) FROM messages WHERE role = 'assistant' GROUP BY 1;
INSERT INTO daily_stats (date, new_users)
    SELECT to_char(to_timestamp(created_at), 'YYYY-MM-DD'), count(*) FROM users WHERE true GROUP BY 1
    ON CONFLICT (date) DO UPDATE SET new_users = excluded.new_users;
INSERT INTO daily_stats (date, redemptions, credits_sold)
    SELECT to_char(to_timestamp(redeemed_at), 'YYYY-MM-DD'), count(*), sum(questions) FROM cards
    WHERE redeemed_at IS NOT NULL GROUP BY 1
    ON CONFLICT (date) DO UPDATE SET redemptions = excluded.redemptions, credits_sold = excluded.credits_sold;
INSERT INTO daily_active (date, user_id)
    SELECT DISTINCT to_char(to_timestamp(m.created_at), 'YYYY-MM-DD'), c.user_id
    FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.role = 'assistant';
INSERT INTO daily_latency (date, bucket, count)
    SELECT to_char(to_timestamp(created_at), 'YYYY-MM-DD'), CAST(round(ln(1 + first_token_ms) * 20) AS BIGINT), count(*)
    FROM messages WHERE role = 'assistant' AND first_token_ms IS NOT NULL GROUP BY 1, 2;
