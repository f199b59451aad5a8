-- How many answers each user has being written, kept by the store on a shared database
-- (PostgreSQL): the answers-in-flight limit reads one row instead of counting every streaming
-- answer. A single SQLite instance counts them in memory; the column is here so both schemas
-- stay the same (chatd migrate copies one into the other).
ALTER TABLE users ADD COLUMN answers_streaming INTEGER NOT NULL DEFAULT 0;
