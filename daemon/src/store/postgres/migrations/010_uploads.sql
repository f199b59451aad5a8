-- Users' uploads: images and files they attach to questions. The bytes live outside the
-- database, content-addressed under data_dir/files (hash = SHA-256); a file's text (extracted
-- from a PDF, or the text file itself) is kept here, ready for the context.
CREATE TABLE uploads (
    id         TEXT PRIMARY KEY,  -- random and unguessable: it appears in URLs
    user_id    BIGINT NOT NULL REFERENCES users(id),
    hash       TEXT NOT NULL,
    name       TEXT NOT NULL,
    mime       TEXT NOT NULL,
    size       BIGINT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('image', 'file')),
    text       TEXT NOT NULL DEFAULT '',
    chars      BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX uploads_hash ON uploads(hash);

-- Which uploads a question was asked with, in their order.
CREATE TABLE message_attachments (
    message_id BIGINT NOT NULL REFERENCES messages(id),
    upload_id  TEXT NOT NULL REFERENCES uploads(id),
    position   BIGINT NOT NULL,
    PRIMARY KEY (message_id, position)
);
CREATE INDEX message_attachments_upload ON message_attachments(upload_id);
