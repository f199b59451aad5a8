-- Uploads' bytes in the database, by content hash (SHA-256), for instances that share one:
-- the bytes an instance took stay reachable through the others, whose data_dir/files is then
-- only a cache. A single SQLite instance keeps its files on disk only and leaves this table
-- empty; it exists here too so both schemas hold the same tables.
CREATE TABLE blobs (
    hash  TEXT PRIMARY KEY,
    bytes BLOB NOT NULL
) WITHOUT ROWID;
