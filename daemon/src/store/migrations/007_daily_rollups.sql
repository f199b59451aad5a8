-- The dashboard's series, kept per day (server local time) as things happen, in the same
-- transaction as what they count: reading a month is reading 30 rows, not every message.
CREATE TABLE daily_stats (
    date         TEXT PRIMARY KEY,  -- YYYY-MM-DD
    questions    INTEGER NOT NULL DEFAULT 0,
    new_users    INTEGER NOT NULL DEFAULT 0,
    redemptions  INTEGER NOT NULL DEFAULT 0,
    credits_sold INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Who asked on which day: counting a day's rows gives its active users.
CREATE TABLE daily_active (
    date    TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    PRIMARY KEY (date, user_id)
) WITHOUT ROWID;

-- First-token latency as a histogram per day: bucket = round(ln(1 + ms) * 20), about 5 % wide.
CREATE TABLE daily_latency (
    date   TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    count  INTEGER NOT NULL,
    PRIMARY KEY (date, bucket)
) WITHOUT ROWID;

INSERT INTO daily_stats (date, questions)
    SELECT date(created_at, 'unixepoch', 'localtime'), count(*) FROM messages WHERE role = 'assistant' GROUP BY 1;
INSERT INTO daily_stats (date, new_users)
    SELECT date(created_at, 'unixepoch', 'localtime'), count(*) FROM users WHERE true GROUP BY 1
    ON CONFLICT (date) DO UPDATE SET new_users = excluded.new_users;
INSERT INTO daily_stats (date, redemptions, credits_sold)
    SELECT date(redeemed_at, 'unixepoch', 'localtime'), count(*), sum(questions) FROM cards
    WHERE redeemed_at IS NOT NULL GROUP BY 1
    ON CONFLICT (date) DO UPDATE SET redemptions = excluded.redemptions, credits_sold = excluded.credits_sold;
INSERT INTO daily_active (date, user_id)
    SELECT DISTINCT date(m.created_at, 'unixepoch', 'localtime'), c.user_id
    FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.role = 'assistant';
INSERT INTO daily_latency (date, bucket, count)
    SELECT date(created_at, 'unixepoch', 'localtime'), CAST(round(ln(1 + first_token_ms) * 20) AS INTEGER), count(*)
    FROM messages WHERE role = 'assistant' AND first_token_ms IS NOT NULL GROUP BY 1, 2;
