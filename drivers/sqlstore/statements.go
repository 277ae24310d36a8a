package sqlstore

// statements are the canonical SQL, rebound for one dialect at open.
type statements struct {
	revisions        string
	lockRevision     string
	lockCompactMark  string
	setMeta          string
	getKey           string
	getKeyAtLatest   string
	rangeLatest      string
	rangeLatestTo    string
	countLatest      string
	countLatestTo    string
	rangeAt          string
	rangeAtTo        string
	countAt          string
	countAtTo        string
	deleteKV         string
	getLease         string
	listLeases       string
	leaseKeys        string
	putLease         string
	deleteLease      string
	events           string
	eventsWithPrev   string
	deleteSuperseded string
	deleteTombstones string
	logRefs          string
	leaseRows        string
	pointRow         string
}

const kvCols = "name, value, create_revision, mod_revision, version, lease"

// The live row of each key as of a revision: its newest row at or below the
// revision, if that row is not a tombstone. One Txn may change a key twice
// (a put, then a from-key delete that covers it), so "newest" orders by
// (revision, sub).
const atRevWhere = ` l.revision <= ? AND l.deleted = 0 AND NOT EXISTS (
	SELECT 1 FROM strata_log n WHERE n.name = l.name AND n.revision <= ?
	AND (n.revision > l.revision OR (n.revision = l.revision AND n.sub > l.sub)))`

const logCols = "l.name, l.value, l.create_revision, l.revision, l.version, l.lease"

func newStatements(d Dialect) statements {
	r := d.Rebind
	return statements{
		revisions:       r("SELECT name, value FROM strata_meta WHERE name IN ('revision', 'compact_revision')"),
		lockRevision:    r("SELECT value FROM strata_meta WHERE name = 'revision'" + d.ForUpdate()),
		lockCompactMark: r("SELECT value FROM strata_meta WHERE name = 'compact_done'" + d.ForUpdate()),
		setMeta:         r("UPDATE strata_meta SET value = ? WHERE name = ?"),
		getKey:          r("SELECT " + kvCols + " FROM strata_kv WHERE name = ?"),
		rangeLatest:     r("SELECT " + kvCols + " FROM strata_kv WHERE name >= ? ORDER BY name LIMIT ?"),
		rangeLatestTo:   r("SELECT " + kvCols + " FROM strata_kv WHERE name >= ? AND name < ? ORDER BY name LIMIT ?"),
		countLatest:     r("SELECT COUNT(*) FROM strata_kv WHERE name >= ?"),
		countLatestTo:   r("SELECT COUNT(*) FROM strata_kv WHERE name >= ? AND name < ?"),
		rangeAt:         r("SELECT " + logCols + " FROM strata_log l WHERE l.name >= ? AND" + atRevWhere + " ORDER BY l.name LIMIT ?"),
		rangeAtTo:       r("SELECT " + logCols + " FROM strata_log l WHERE l.name >= ? AND l.name < ? AND" + atRevWhere + " ORDER BY l.name LIMIT ?"),
		countAt:         r("SELECT COUNT(*) FROM strata_log l WHERE l.name >= ? AND" + atRevWhere),
		countAtTo:       r("SELECT COUNT(*) FROM strata_log l WHERE l.name >= ? AND l.name < ? AND" + atRevWhere),
		deleteKV:        r("DELETE FROM strata_kv WHERE name = ?"),
		getLease:        r("SELECT id, ttl FROM strata_lease WHERE id = ?"),
		listLeases:      r("SELECT id, ttl FROM strata_lease ORDER BY id"),
		leaseKeys:       r("SELECT name FROM strata_kv WHERE lease = ? ORDER BY name"),
		putLease:        r("INSERT INTO strata_lease (id, ttl, expires_at) VALUES (?, ?, 0)"),
		deleteLease:     r("DELETE FROM strata_lease WHERE id = ?"),
		events: r(`SELECT l.revision, l.sub, l.name, l.value, l.create_revision, l.version, l.lease, l.deleted, l.prev_revision
			FROM strata_log l WHERE l.revision > ? AND l.revision <= ? ORDER BY l.revision, l.sub LIMIT ?`),
		eventsWithPrev:   r(eventsWithPrev(d)),
		deleteSuperseded: r(d.DeleteSuperseded()),
		// Tombstones below the target go; one at exactly the compact
		// revision stays until the next compaction, so a watch from the
		// compact revision still sees the deletes made at it, as in etcd.
		deleteTombstones: r("DELETE FROM strata_log WHERE revision >= ? AND revision < ? AND deleted = 1"),
		logRefs:          r("SELECT name, revision, sub, deleted FROM strata_log ORDER BY revision, sub"),
		// The history's reads (exclusive stores): one row by primary key
		// with the compact revision; the rows with a lease, where "lease
		// <> 0" lets SQLite use the partial index on lease.
		pointRow: r(`SELECT c.value, ` + logCols + ` FROM strata_meta c
			LEFT JOIN strata_log l ON l.revision = ? AND l.sub = ? WHERE c.name = 'compact_revision'`),
		leaseRows: r("SELECT name, revision, sub FROM strata_log WHERE lease = ? AND lease <> 0 AND deleted = 0"),

		// One statement is one snapshot in every dialect (SQLite's implicit
		// read transaction, PostgreSQL's statement snapshot, InnoDB's
		// consistent read): the revisions and the key agree without BEGIN.
		getKeyAtLatest: r(`SELECT m.value, c.value, k.name, k.value, k.create_revision, k.mod_revision, k.version, k.lease
			FROM strata_meta m JOIN strata_meta c ON c.name = 'compact_revision'
			LEFT JOIN strata_kv k ON k.name = ? WHERE m.name = 'revision'`),
	}
}

// EventsDialect is a Dialect with its own statement for the events with
// their previous values; its columns and parameters are those of the
// default one (eventsWithPrev).
type EventsDialect interface {
	EventsWithPrev() string
}

// eventsWithPrev reads the events of revisions (?, ?], at most ?, each with
// its key's previous value. That value is the key's value before the
// event's revision, as etcd reads it at revision-1. A change that follows
// another change of the same key in the same revision points at that
// revision; q steps over it to the value before.
func eventsWithPrev(d Dialect) string {
	if e, ok := d.(EventsDialect); ok {
		return e.EventsWithPrev()
	}
	return `SELECT l.revision, l.sub, l.name, l.value, l.create_revision, l.version, l.lease, l.deleted, l.prev_revision,
			p.value, p.create_revision, p.version, p.lease, p.revision
		FROM strata_log l
		LEFT JOIN strata_log q ON q.name = l.name AND q.revision = l.revision AND l.prev_revision = l.revision AND q.deleted = 0
		LEFT JOIN strata_log p ON p.name = l.name AND p.deleted = 0 AND p.revision < l.revision
			AND p.revision = CASE WHEN q.revision IS NULL THEN l.prev_revision ELSE q.prev_revision END
		WHERE l.revision > ? AND l.revision <= ? ORDER BY l.revision, l.sub LIMIT ?`
}
