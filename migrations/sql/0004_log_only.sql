-- No change to the tables. From this version on, a SQLite store that owns
-- its file writes no strata_kv: it empties the table and marks it stale
-- ('kv_stale' in strata_meta), and a store that opens the file shared fills
-- it again from the log. A binary older than this version would read the
-- empty table as an empty keyspace; the version makes it refuse the
-- database instead ("newer than this binary").
UPDATE strata_meta SET value = value WHERE name = 'revision';
