-- Reasoning models: the answer's reasoning is kept beside its content (never sent back as
-- context), with how long the model thought and the tokens it says the thinking took.
ALTER TABLE messages ADD COLUMN reasoning TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN reasoning_ms BIGINT;
ALTER TABLE messages ADD COLUMN reasoning_tokens BIGINT;

-- Per-model request options and the upstream's prices (per 1,000,000 tokens).
ALTER TABLE models ADD COLUMN vision BIGINT NOT NULL DEFAULT 0;
ALTER TABLE models ADD COLUMN max_tokens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE models ADD COLUMN stream_usage TEXT NOT NULL DEFAULT 'auto'
    CHECK (stream_usage IN ('auto', 'on', 'off'));
ALTER TABLE models ADD COLUMN price_in DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE models ADD COLUMN price_out DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE models ADD COLUMN image_cost BIGINT NOT NULL DEFAULT 0;

-- Learnt from the upstream: its gateway refused stream_options once.
ALTER TABLE api_keys ADD COLUMN refuses_stream_options BIGINT NOT NULL DEFAULT 0;

-- Token usage and what it cost upstream (the model's prices when the answer ended); tokens are
-- estimated from the text when the upstream reported none.
ALTER TABLE messages ADD COLUMN tokens_estimated BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN upstream_cost DOUBLE PRECISION;

-- Per day and model, kept as answers end (in the same transaction): the margin figures read a
-- month as a few hundred rows, not every message.
CREATE TABLE daily_model_usage (
    date              TEXT NOT NULL,  -- YYYY-MM-DD of the question, server local time
    model             TEXT NOT NULL,
    questions         BIGINT NOT NULL DEFAULT 0,
    prompt_tokens     BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    reasoning_tokens  BIGINT NOT NULL DEFAULT 0,
    upstream_cost     DOUBLE PRECISION NOT NULL DEFAULT 0,
    credits           BIGINT NOT NULL DEFAULT 0,  -- charged and not refunded
    PRIMARY KEY (date, model)
);
INSERT INTO daily_model_usage (date, model, questions, prompt_tokens, completion_tokens, credits)
    SELECT to_char(to_timestamp(created_at), 'YYYY-MM-DD'), COALESCE(model, ''), count(*),
           sum(COALESCE(prompt_tokens, 0)), sum(COALESCE(completion_tokens, 0)),
           sum(CASE WHEN refunded <> 0 THEN 0 ELSE charge_trial + charge_paid END)
    FROM messages WHERE role = 'assistant' AND status != 'streaming' GROUP BY 1, 2;
