-- PostgreSQL twin of migrations/018_answers_streaming.sql: kept in the question's transaction
-- (+1) and by finish_answer when it ends a streaming answer (-1).
ALTER TABLE users ADD COLUMN answers_streaming INTEGER NOT NULL DEFAULT 0;
UPDATE users u SET answers_streaming = (
    SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE c.user_id = u.id AND m.status = 'streaming');
