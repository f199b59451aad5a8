-- The search index merges its segments sixteen at a level instead of FTS5's four. Each merge
-- holds the one writer, and on an index of 100,000 messages the default's frequent merges made
-- one transaction in a hundred that adds a dozen messages take 20-40 ms, which questions wait
-- behind; sixteen brings that percentile to about 5 ms and halves the index's write time, for a
-- search that reads a few more segments.
INSERT INTO message_search (message_search, rank) VALUES ('automerge', 16);
