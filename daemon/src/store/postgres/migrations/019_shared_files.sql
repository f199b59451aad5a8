-- PostgreSQL twin of migrations/019_shared_files.sql.
-- Uploads' bytes by content hash (SHA-256): the source of truth for instances that share this
-- database; each instance's data_dir/files is a cache of it. A row goes in the transaction
-- that forgets the last upload with its hash.
CREATE TABLE blobs (
    hash  TEXT PRIMARY KEY,
    bytes BYTEA NOT NULL
);
