-- Full-text index of messages for the operator's log search (tokenizer "chatd", registered by
-- store/text_search.cpp on every connection). Contentless: the text itself stays in messages.
CREATE VIRTUAL TABLE message_search USING fts5(content, content = '', tokenize = 'chatd');

-- Messages older than the index are indexed in the background, oldest first: ids from
-- next_id up to (not including) below. Newer messages are indexed as they are written.
CREATE TABLE search_backfill (
    next_id INTEGER NOT NULL,
    below   INTEGER NOT NULL
);
INSERT INTO search_backfill (next_id, below) SELECT 1, coalesce(max(id), 0) + 1 FROM messages;
