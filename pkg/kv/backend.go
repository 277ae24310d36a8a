package kv

import "context"

// Backend is what the engine needs from a storage driver: snapshot reads and
// exclusive write transactions over the revisioned log.
type Backend interface {
	// Read runs fn inside a consistent read-only snapshot.
	Read(ctx context.Context, fn func(ReadTxn) error) error
	// Write runs fn inside one write transaction. Writers are serialised:
	// the transaction holds the revision row lock (or the SQLite write lock)
	// from its first statement, so commit order equals revision order. It
	// commits durably if fn returns nil and rolls back otherwise.
	Write(ctx context.Context, fn func(WriteTxn) error) error
	Close() error
}

// ReadTxn reads one snapshot.
type ReadTxn interface {
	AuthReadTxn
	MemberReadTxn
	// Revisions returns the current and the compact revision.
	Revisions(ctx context.Context) (current, compacted int64, err error)
	// Range returns the live keys of r as of revision rev, in key order, at
	// most limit of them (0: no limit). rev must be the current revision or
	// above the compact revision. keysOnly may leave values out.
	Range(ctx context.Context, r Range, rev, limit int64, keysOnly bool) ([]*KeyValue, error)
	// Count returns the number of live keys of r as of revision rev.
	Count(ctx context.Context, r Range, rev int64) (int64, error)
	// Lease returns the lease with this ID, or ErrLeaseNotFound.
	Lease(ctx context.Context, id int64) (*Lease, error)
	// Leases returns every lease.
	Leases(ctx context.Context) ([]Lease, error)
	// LeaseKeys returns the live keys attached to the lease, in key order.
	LeaseKeys(ctx context.Context, id int64) ([][]byte, error)
	// Events returns the log rows with revision in (after, through], in
	// (revision, sub) order, about limit rows but never splitting a
	// revision, with the previous value when withPrev is set. read is the
	// revision the rows cover up to: through, or less when the batch was
	// cut short (the caller reads again from read).
	Events(ctx context.Context, after, through int64, limit int, withPrev bool) (evs []Event, read int64, err error)
}

// WriteTxn is ReadTxn plus the writes of one transaction. Writes are seen by
// later reads of the same transaction.
type WriteTxn interface {
	ReadTxn
	AuthWriteTxn
	MemberWriteTxn
	// Append writes the changes of revision rev: a log row each, and the
	// latest-value table updated (or the key removed on delete).
	Append(ctx context.Context, rev int64, changes []Change) error
	// SetRevision records rev as the current revision.
	SetRevision(ctx context.Context, rev int64) error
	// SetCompacted records rev as the compact revision.
	SetCompacted(ctx context.Context, rev int64) error
	// PutLease creates or replaces a lease.
	PutLease(ctx context.Context, l Lease) error
	// DeleteLease removes a lease.
	DeleteLease(ctx context.Context, id int64) error
	// Prefetch is a hint: the operations to come read the latest values of
	// these keys. A backend may load them in one round trip, at once or
	// with the next read of the revisions (call it first, then Revisions).
	// It changes nothing that reads see.
	Prefetch(ctx context.Context, keys [][]byte) error
}

// Compactor is the optional driver capability that removes history at or
// below a revision. Each call does one bounded step and reports how far it
// got; the engine calls it again until done.
type Compactor interface {
	// CompactStep physically removes superseded rows and tombstones with a
	// revision at or below to, starting where the previous step stopped (the
	// driver keeps that mark durably, in the same transaction as the
	// deletes). It covers at most batch revisions and returns the revision it
	// has finished through; done == to means nothing is left.
	CompactStep(ctx context.Context, to, batch int64) (done int64, err error)
}

// PointReader is the optional capability of reading one key's latest value
// together with the current and compact revision in one consistent
// snapshot, cheaper than a Read transaction (one statement, no BEGIN and
// COMMIT). kv is nil when the key is not live.
type PointReader interface {
	ReadLatest(ctx context.Context, key []byte) (kv *KeyValue, current, compacted int64, err error)
}

// RevisionKeeper is the optional capability of knowing the current and
// compact revisions without reading the database: exactly, for a backend
// that is the only writer of its database (a SQLite store that owns its
// file); for a shared database, those of this process's last commit, which
// other processes' commits may have passed. ok is false when it knows
// nothing; the caller then reads them in a Read transaction. exact is true
// for the only writer: the database holds no newer commit. It returns
// once every commit up to current is durable, as a Read does.
type RevisionKeeper interface {
	KnownRevisions(ctx context.Context) (current, compacted int64, ok, exact bool, err error)
}

// EventKeeper is the optional capability of a backend that is the only
// writer of its database (a SQLite store that owns its file) to give the
// watch poller the rows of its latest commits from memory. RecentEvents is
// what a Read transaction at the current revision would answer to
// Revisions and Events(after, current, limit, true), with through as
// Events returns it; ok is false when memory does not hold all of those
// rows, and the caller then reads them in a Read transaction. It returns
// once every commit up to current is durable, as a Read does.
type EventKeeper interface {
	RecentEvents(ctx context.Context, after int64, limit int) (evs []Event, through, current, compacted int64, ok bool, err error)
}

// Notifier is the optional capability of a backend shared by several
// processes: it signals when another process may have committed, so the
// watch poller reads the log at once instead of waiting for its next tick.
type Notifier interface {
	Notifications() <-chan struct{}
}

// Locker is the optional capability of a backend shared by several
// processes to elect the one process that runs a singleton job (lease
// expiry, automatic compaction). A backend without it has one process only,
// which always holds every lock.
type Locker interface {
	// TryLock tries to take the named lock for this process. held reports
	// whether this process holds it now; lost is closed if the lock is lost
	// later (connection gone). release gives it up.
	TryLock(ctx context.Context, name string) (held bool, lost <-chan struct{}, release func(), err error)
}

// AsyncWriter is the optional capability of a backend whose commit becomes
// visible before it is on disk, and which makes it durable in a group sync
// shared by every commit made so far (SQLite's WAL written without sync,
// then one fdatasync). It lets the engine apply the next batch while the
// previous one is being synced.
//
// Reads never return state that is not yet durable: a read that saw a
// commit waits for its sync before it returns.
type AsyncWriter interface {
	// WriteAsync runs fn in one write transaction and commits it as Write
	// does, but returns once the commit is visible. wait blocks until the
	// commit is durable; an error from it means the sync failed and whether
	// the commit survives a crash is unknown.
	WriteAsync(ctx context.Context, fn func(WriteTxn) error) (wait func() error, err error)
}
