-- Messages waiting for the search index. A question's transaction only records the id here; a
-- background job indexes them a batch at a time, because FTS5 writes a segment of its own for
-- every transaction that adds to it, which costs many times the indexing itself when each
-- question commits with a few others.
CREATE TABLE search_queue (
    message_id INTEGER PRIMARY KEY
);
