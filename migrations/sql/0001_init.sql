-- Strata's first schema: one log row per key change, the latest value of
-- every live key, leases, and the counters of the store.

-- Named counters: revision (the current MVCC revision; its row is the lock
-- every writer takes first), compact_revision, compact_done (how far physical
-- compaction has removed history), cluster_id.
CREATE TABLE strata_meta (
	name VARCHAR(64) NOT NULL PRIMARY KEY,
	value BIGINT NOT NULL
);
INSERT INTO strata_meta (name, value) VALUES ('revision', 1);
INSERT INTO strata_meta (name, value) VALUES ('compact_revision', -1);
INSERT INTO strata_meta (name, value) VALUES ('compact_done', 0);

-- The log: one row per key change. A Put, DeleteRange or Txn is one revision;
-- its changes are numbered by sub. A delete is a tombstone row (deleted = 1).
-- prev_revision is the revision of the key's previous row (0: none), used for
-- prev_kv in watch events and to find superseded rows when compacting.
CREATE TABLE strata_log (
	revision BIGINT NOT NULL,
	sub BIGINT NOT NULL,
	name {{.Key}} NOT NULL,
	value {{.Blob}} NOT NULL,
	create_revision BIGINT NOT NULL,
	version BIGINT NOT NULL,
	lease BIGINT NOT NULL,
	deleted SMALLINT NOT NULL,
	prev_revision BIGINT NOT NULL,
	PRIMARY KEY (revision, sub)
);
CREATE INDEX strata_log_name ON strata_log (name, revision);

-- The latest value of every live key: a read of the current state costs the
-- live keys in the range, never the history.
CREATE TABLE strata_kv (
	name {{.Key}} NOT NULL PRIMARY KEY,
	value {{.Blob}} NOT NULL,
	create_revision BIGINT NOT NULL,
	mod_revision BIGINT NOT NULL,
	version BIGINT NOT NULL,
	lease BIGINT NOT NULL
) {{.TableOptions}};
CREATE INDEX strata_kv_lease ON strata_kv (lease);

-- Granted leases. expires_at is wall-clock milliseconds, kept by the expirer
-- and keepalives; it is never read by the deterministic apply path.
CREATE TABLE strata_lease (
	id BIGINT NOT NULL PRIMARY KEY,
	ttl BIGINT NOT NULL,
	expires_at BIGINT NOT NULL
);
