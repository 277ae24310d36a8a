package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/strata-db/strata/pkg/kv"
)

// txn is one SQL transaction seen as a kv.ReadTxn or kv.WriteTxn.
type txn struct {
	s     *Store
	tx    *sql.Tx
	write bool
	// stmts are this transaction's handles of prepared statements.
	stmts map[string]*sql.Stmt
	// wb buffers a write transaction's writes (see writebuf.go).
	wb *writeBuf
	// readRev, in a read transaction of a store with a history, is the
	// revision its reads of the latest values read at (Revisions).
	readRev int64
	// pipe, if set, runs the transaction's statements on a connection of
	// its own, in pipelines (see Pipeliner); tx is then nil.
	pipe *pipeTx
	// want are keys Prefetch was given before the revision lock was taken,
	// to be read once it is.
	want [][]byte
}

var _ kv.WriteTxn = (*txn)(nil)

func (t *txn) Revisions(ctx context.Context) (current, compacted int64, err error) {
	if t.write && t.wb != nil && t.wb.revsKnown {
		return t.wb.rev, t.wb.compacted, nil
	}
	if t.write && t.s.hist != nil {
		// The only writer: the history marks them at every commit, and a
		// transaction that rolls back leaves them as they were.
		current, compacted = t.s.hist.revisions()
	} else {
		current, compacted, err = t.readRevisions(ctx)
	}
	if err == nil && !t.write && t.s.hist != nil {
		// A commit is visible in SQL a moment before the history marks it
		// committed; a read stays at what the history has, so that no read
		// sees a revision a later read does not (the writer marks it
		// before it acknowledges the write).
		committed, _ := t.s.hist.revisions()
		current = min(current, committed)
		t.readRev = current
	}
	if err == nil && t.write {
		b := t.buf()
		b.revsKnown, b.rev, b.compacted = true, current, compacted
	}
	return current, compacted, err
}

// readRevisions reads the revisions; in a write transaction it first locks
// the revision row, and then reads the keys Prefetch was given.
func (t *txn) readRevisions(ctx context.Context) (current, compacted int64, err error) {
	scan := func(rows Rows) error {
		for rows.Next() {
			var name string
			var v int64
			if err := rows.Scan(&name, &v); err != nil {
				return err
			}
			switch name {
			case "revision":
				current = v
			case "compact_revision":
				compacted = v
			}
		}
		return rows.Err()
	}
	if t.pipe != nil {
		// One round trip: BEGIN, the lock, the revisions, the keys.
		stmts := []PipeStmt{{Query: t.s.q.lockRevision}, {Query: t.s.q.revisions, Scan: scan}}
		stmts = append(stmts, t.prefetchStmts()...)
		if err := t.send(ctx, stmts...); err != nil {
			return 0, 0, fmt.Errorf("sqlstore: read revisions: %w", err)
		}
		return current, compacted, nil
	}
	if t.write {
		// The first statement of a write transaction locks the revision row:
		// writers queue here, so commit order equals revision order.
		if err := t.queryRow(ctx, t.s.q.lockRevision).Scan(&current); err != nil {
			return 0, 0, fmt.Errorf("sqlstore: lock revision: %w", err)
		}
	}
	rows, err := t.query(ctx, t.s.q.revisions)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlstore: read revisions: %w", err)
	}
	err = scan(rows)
	rows.Close()
	if err != nil {
		return 0, 0, fmt.Errorf("sqlstore: read revisions: %w", err)
	}
	if t.write {
		if err := t.loadWanted(ctx); err != nil {
			return 0, 0, err
		}
	}
	return current, compacted, nil
}

func sqlLimit(limit int64) int64 {
	if limit <= 0 {
		return math.MaxInt64
	}
	return limit
}

func (t *txn) Range(ctx context.Context, r kv.Range, rev, limit int64, keysOnly bool) ([]*kv.KeyValue, error) {
	if r.Empty() {
		return nil, nil
	}
	if rev == 0 && r.IsSingleKey() {
		v, err := t.getLatest(ctx, r.Start)
		if v == nil || err != nil {
			return nil, err
		}
		return []*kv.KeyValue{v}, nil
	}
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	var err error
	if t.s.hist != nil {
		if rev == 0 {
			if rev, err = t.latestRev(ctx); err != nil {
				return nil, err
			}
		}
		return t.rangeAt(ctx, r, rev, limit)
	}
	var rows *sql.Rows
	switch {
	case rev == 0 && r.End == nil:
		rows, err = t.query(ctx, t.s.q.rangeLatest, r.Start, sqlLimit(limit))
	case rev == 0:
		rows, err = t.query(ctx, t.s.q.rangeLatestTo, r.Start, r.End, sqlLimit(limit))
	case r.End == nil:
		rows, err = t.query(ctx, t.s.q.rangeAt, r.Start, rev, rev, sqlLimit(limit))
	default:
		rows, err = t.query(ctx, t.s.q.rangeAtTo, r.Start, r.End, rev, rev, sqlLimit(limit))
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: range: %w", err)
	}
	return scanKVs(rows)
}

func scanKVs(rows *sql.Rows) ([]*kv.KeyValue, error) {
	defer rows.Close()
	return scanKVRows(rows)
}

func scanKVRows(rows Rows) ([]*kv.KeyValue, error) {
	var out []*kv.KeyValue
	for rows.Next() {
		v := &kv.KeyValue{}
		if err := rows.Scan(&v.Key, &v.Value, &v.CreateRevision, &v.ModRevision, &v.Version, &v.Lease); err != nil {
			return nil, fmt.Errorf("sqlstore: scan: %w", err)
		}
		out = append(out, normalize(v))
	}
	return out, rows.Err()
}

// normalize makes empty values nil, as etcd returns them.
func normalize(v *kv.KeyValue) *kv.KeyValue {
	if len(v.Value) == 0 {
		v.Value = nil
	}
	return v
}

func (t *txn) Count(ctx context.Context, r kv.Range, rev int64) (int64, error) {
	if r.Empty() {
		return 0, nil
	}
	if rev == 0 && r.IsSingleKey() {
		v, err := t.getLatest(ctx, r.Start)
		if v == nil || err != nil {
			return 0, err
		}
		return 1, nil
	}
	if err := t.flush(ctx); err != nil {
		return 0, err
	}
	var err error
	if t.s.hist != nil {
		if rev == 0 {
			if rev, err = t.latestRev(ctx); err != nil {
				return 0, err
			}
		}
		return t.countAt(r, rev)
	}
	var n int64
	switch {
	case rev == 0 && r.End == nil:
		err = t.queryRow(ctx, t.s.q.countLatest, r.Start).Scan(&n)
	case rev == 0:
		err = t.queryRow(ctx, t.s.q.countLatestTo, r.Start, r.End).Scan(&n)
	case r.End == nil:
		err = t.queryRow(ctx, t.s.q.countAt, r.Start, rev, rev).Scan(&n)
	default:
		err = t.queryRow(ctx, t.s.q.countAtTo, r.Start, r.End, rev, rev).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlstore: count: %w", err)
	}
	return n, nil
}

func (t *txn) Lease(ctx context.Context, id int64) (*kv.Lease, error) {
	var l kv.Lease
	err := t.queryRow(ctx, t.s.q.getLease, id).Scan(&l.ID, &l.TTL)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, kv.ErrLeaseNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: lease: %w", err)
	}
	return &l, nil
}

func (t *txn) Leases(ctx context.Context) ([]kv.Lease, error) {
	rows, err := t.query(ctx, t.s.q.listLeases)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: leases: %w", err)
	}
	defer rows.Close()
	var out []kv.Lease
	for rows.Next() {
		var l kv.Lease
		if err := rows.Scan(&l.ID, &l.TTL); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

func (t *txn) LeaseKeys(ctx context.Context, id int64) ([][]byte, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	if t.s.hist != nil {
		return t.leaseKeysAt(ctx, id)
	}
	rows, err := t.query(ctx, t.s.q.leaseKeys, id)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: lease keys: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var k []byte
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// leaseKeysAt is LeaseKeys through the history: the log's rows with the
// lease (its partial index on lease), kept where they are their key's live
// row.
func (t *txn) leaseKeysAt(ctx context.Context, id int64) ([][]byte, error) {
	rev, err := t.latestRev(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := t.query(ctx, t.s.q.leaseRows, id)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: lease keys: %w", err)
	}
	defer rows.Close()
	var keys [][]byte
	var refs []rowRef
	for rows.Next() {
		var k []byte
		var r rowRef
		if err := rows.Scan(&k, &r.rev, &r.sub); err != nil {
			return nil, err
		}
		keys, refs = append(keys, k), append(refs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out [][]byte
	for i, live := range t.s.hist.liveRows(keys, refs, rev) {
		if live {
			out = append(out, keys[i])
		}
	}
	slices.SortFunc(out, bytes.Compare)
	return out, nil
}

// Append buffers the changes; they reach the tables at the next read that
// needs them or before COMMIT (see writebuf.go).
func (t *txn) Append(ctx context.Context, rev int64, changes []kv.Change) error {
	t.bufferAppend(rev, changes)
	return nil
}

func (t *txn) setMeta(ctx context.Context, name string, v int64) error {
	if err := t.later(ctx, t.s.q.setMeta, v, name); err != nil {
		return fmt.Errorf("sqlstore: set %s: %w", name, err)
	}
	return nil
}

func (t *txn) SetRevision(ctx context.Context, rev int64) error {
	if t.wb != nil {
		t.wb.rev = rev
	}
	return t.setMeta(ctx, "revision", rev)
}

func (t *txn) SetCompacted(ctx context.Context, rev int64) error {
	if t.write {
		b := t.buf()
		b.compacted, b.compactSet = rev, true
	}
	return t.setMeta(ctx, "compact_revision", rev)
}

func (t *txn) PutLease(ctx context.Context, l kv.Lease) error {
	if _, err := t.exec(ctx, t.s.q.putLease, l.ID, l.TTL); err != nil {
		return fmt.Errorf("sqlstore: put lease: %w", err)
	}
	return nil
}

func (t *txn) DeleteLease(ctx context.Context, id int64) error {
	if _, err := t.exec(ctx, t.s.q.deleteLease, id); err != nil {
		return fmt.Errorf("sqlstore: delete lease: %w", err)
	}
	return nil
}
