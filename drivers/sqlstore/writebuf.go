package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/strata-db/strata/pkg/kv"
)

// A write transaction keeps the keys it has read or written in memory and
// buffers its writes, then writes them with a few multi-row statements: a
// batch of N Puts costs a handful of statements instead of 3N (one round
// trip each on PostgreSQL and MySQL).
//
//   - Single-key reads of the latest value are answered from the buffer when
//     the key was prefetched, read or written before in the transaction.
//   - Every other read (ranges, counts, history, lease keys, events) flushes
//     the buffer first, so SQL sees the transaction's own writes.
//   - The buffer is flushed before COMMIT.
//
// On a store that owns its database (Config.Exclusive: SQLite), the
// revisions and the keys come from the history and its value cache: a Put
// or a compare on mod_revision then reads no SQL at all.

// bulkMaxRows is the largest number of rows of one multi-row statement;
// statements for every power of two up to it are prepared at open.
const bulkMaxRows = 64

// bulkMaxBytes ends a multi-row statement early once its values reach it,
// to stay well under MySQL's max_allowed_packet with large values.
const bulkMaxBytes = 1 << 20

// bulkSizes are the row counts of the prepared multi-row statements.
var bulkSizes = func() []int {
	var out []int
	for n := 1; n <= bulkMaxRows; n *= 2 {
		out = append(out, n)
	}
	return out
}()

// bulkStatements are the multi-row statements, one per size in bulkSizes.
type bulkStatements struct {
	insertLog []string
	// upsertKV writes whole rows; updateKV leaves the lease column alone,
	// for keys whose row exists with the same lease, so an index on lease
	// is not rewritten.
	upsertKV []string
	updateKV []string
	// getKeys reads n keys as n single-key lookups joined by UNION ALL, not
	// as "name IN (...)": PostgreSQL may plan a cached IN-list statement as
	// a sequential scan when its table was small at planning time, while
	// a lookup of one primary key is an index scan in every plan.
	getKeys []string
	// getRows reads n log rows by primary key (revision, sub), in log
	// order. One statement with a list of keys, not n lookups joined by
	// UNION ALL: SQLite opens cursors for each of those, which cost more
	// than the lookups.
	getRows []string
}

func newBulkStatements(d Dialect) bulkStatements {
	var b bulkStatements
	for _, n := range bulkSizes {
		b.insertLog = append(b.insertLog, d.Rebind(`INSERT INTO strata_log (revision, sub, name, value, create_revision, version, lease, deleted, prev_revision) VALUES `+
			placeholders(n, 9)))
		kvRows := `INSERT INTO strata_kv (name, value, create_revision, mod_revision, version, lease) VALUES ` + placeholders(n, 6)
		b.upsertKV = append(b.upsertKV, d.Rebind(kvRows+d.UpsertKV(true)))
		b.updateKV = append(b.updateKV, d.Rebind(kvRows+d.UpsertKV(false)))
		b.getKeys = append(b.getKeys, d.Rebind(strings.TrimSuffix(strings.Repeat("SELECT "+kvCols+" FROM strata_kv WHERE name = ? UNION ALL ", n), " UNION ALL ")))
		b.getRows = append(b.getRows, d.Rebind("SELECT "+logCols+" FROM strata_log l WHERE (l.revision, l.sub) IN (VALUES "+
			placeholders(n, 2)+") ORDER BY l.revision, l.sub"))
	}
	return b
}

// all lists every statement, for preparing.
func (b bulkStatements) all() []string {
	return slices.Concat(b.insertLog, b.upsertKV, b.updateKV, b.getKeys)
}

// placeholders is "(?, ?), (?, ?)" for rows rows of cols columns.
func placeholders(rows, cols int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", rows), ", ")
}

// dbState is what the strata_kv table holds for a key, as far as the
// transaction knows.
type dbState uint8

const (
	dbUnknown dbState = iota // written without being read: the row may exist
	dbAbsent
	dbPresent // with lease dbLease
)

// bufKey is one key the write transaction knows.
type bufKey struct {
	kv      *kv.KeyValue // latest value as the transaction sees it; nil: not live
	db      dbState
	dbLease int64
	dirty   bool // kv is not yet in strata_kv
}

// logRow is one buffered strata_log row.
type logRow struct {
	rev int64
	c   kv.Change
}

// writeBuf is the buffer of one write transaction.
type writeBuf struct {
	keys map[string]*bufKey
	log  []logRow
	// dirty lists the keys with dirty set, in the order they were written.
	dirty []string
	// revsKnown: rev and compacted are the store's revision and compact
	// revision as the transaction has read or set them.
	revsKnown      bool
	rev, compacted int64
	// compactSet: the transaction set the compact revision (compacted),
	// whether or not it read the revisions.
	compactSet bool
	// histNames are the keys of the rows this transaction added to the
	// store's history, in order (taken out again if it rolls back).
	histNames []string
	// histRev is the newest revision of those rows, committed with the
	// transaction.
	histRev int64
}

func (t *txn) buf() *writeBuf {
	if t.wb == nil {
		t.wb = &writeBuf{keys: map[string]*bufKey{}}
	}
	return t.wb
}

// set records k as what the transaction knows of name.
func (b *writeBuf) set(name string, k *bufKey) {
	b.keys[name] = k
}

// cached returns the latest value of key when the transaction knows it.
func (t *txn) cached(key []byte) (kv *kv.KeyValue, ok bool) {
	if t.wb == nil {
		return nil, false
	}
	k, ok := t.wb.keys[string(key)]
	if !ok || k.kv == nil {
		return nil, ok
	}
	// A copy: the caller may change its fields (keys_only drops the value).
	return shallowCopy(k.kv), true
}

// shallowCopy copies v's fields; the byte slices are shared, never changed.
func shallowCopy(v *kv.KeyValue) *kv.KeyValue {
	return &kv.KeyValue{Key: v.Key, Value: v.Value, CreateRevision: v.CreateRevision,
		ModRevision: v.ModRevision, Version: v.Version, Lease: v.Lease}
}

// remember records the latest value of key as read from strata_kv.
func (t *txn) remember(key []byte, v *kv.KeyValue) {
	k := &bufKey{kv: v, db: dbAbsent}
	if v != nil {
		k.db, k.dbLease = dbPresent, v.Lease
	}
	t.buf().set(string(key), k)
}

// Prefetch reads the latest values of keys not known yet, in as few
// statements as the sizes allow, so the operations of a batch find them in
// the buffer. On a store without a history, keys given before the revision
// lock is taken are read once it is (readRevisions), in the same round
// trip when the transaction is pipelined.
func (t *txn) Prefetch(ctx context.Context, keys [][]byte) error {
	if !t.write {
		return nil
	}
	if t.s.hist != nil {
		return t.prefetchFromLog(ctx, t.unknown(keys))
	}
	t.want = append(t.want, keys...)
	if t.wb == nil || !t.wb.revsKnown {
		return nil
	}
	return t.loadWanted(ctx)
}

// unknown returns keys the transaction does not know yet, once each.
func (t *txn) unknown(keys [][]byte) [][]byte {
	var out [][]byte
	seen := map[string]bool{}
	for _, k := range keys {
		if _, ok := t.cached(k); ok || seen[string(k)] {
			continue
		}
		seen[string(k)] = true
		out = append(out, k)
	}
	return out
}

// loadWanted reads the keys Prefetch was given.
func (t *txn) loadWanted(ctx context.Context) error {
	for _, st := range t.prefetchStmts() {
		rows, err := t.query(ctx, st.Query, st.Args...)
		if err != nil {
			return fmt.Errorf("sqlstore: prefetch: %w", err)
		}
		err = st.Scan(rows)
		rows.Close()
		if err != nil {
			return fmt.Errorf("sqlstore: prefetch: %w", err)
		}
	}
	return nil
}

// prefetchStmts takes the keys Prefetch was given that the transaction
// does not know yet, and returns the statements that read them into the
// buffer.
func (t *txn) prefetchStmts() []PipeStmt {
	want := t.unknown(t.want)
	t.want = nil
	var stmts []PipeStmt
	for len(want) > 0 {
		n := chunk(len(want))
		args := make([]any, n)
		for i, k := range want[:n] {
			args[i] = k
		}
		keys := want[:n]
		stmts = append(stmts, PipeStmt{Query: t.s.bulk.getKeys[sizeIndex(n)], Args: args, Scan: func(rows Rows) error {
			found, err := scanKVRows(rows)
			if err != nil {
				return err
			}
			for _, k := range keys {
				t.remember(k, nil)
			}
			for _, v := range found {
				t.remember(v.Key, v)
			}
			return nil
		}})
		want = want[n:]
	}
	return stmts
}

// prefetchFromLog is Prefetch through the history.
func (t *txn) prefetchFromLog(ctx context.Context, keys [][]byte) error {
	vals, err := t.liveValues(ctx, keys, math.MaxInt64)
	if err != nil {
		return fmt.Errorf("sqlstore: prefetch: %w", err)
	}
	for i, v := range vals {
		t.remember(keys[i], v)
	}
	return nil
}

// liveValues returns the values of keys live at rev through the history
// (nil for a key not live): from the value cache, the others read from the
// log by primary key in as few statements as the sizes allow.
func (t *txn) liveValues(ctx context.Context, keys [][]byte, rev int64) ([]*kv.KeyValue, error) {
	out := make([]*kv.KeyValue, len(keys))
	var refs []rowRef
	var got []*kv.KeyValue
	var at []int // the index in keys of each of refs
	for i, k := range keys {
		if row, v, ok := t.s.hist.live(k, rev); ok {
			refs, got, at = append(refs, row), append(got, v), append(at, i)
		}
	}
	kvs, err := t.rowValues(ctx, refs, got)
	if err != nil {
		return nil, err
	}
	for j, v := range kvs {
		out[at[j]] = v
	}
	return out, nil
}

// chunk is the largest prepared size not above n.
func chunk(n int) int {
	size := 1
	for size*2 <= n && size*2 <= bulkMaxRows {
		size *= 2
	}
	return size
}

func sizeIndex(n int) int {
	i := 0
	for 1<<i < n {
		i++
	}
	return i
}

// bufferAppend records the changes of revision rev in the buffer.
func (t *txn) bufferAppend(rev int64, changes []kv.Change) {
	b := t.buf()
	for _, c := range changes {
		b.log = append(b.log, logRow{rev: rev, c: c})
		name := string(c.KV.Key)
		k, ok := b.keys[name]
		if !ok {
			k = &bufKey{db: dbUnknown}
		}
		b.set(name, k)
		if c.Deleted {
			k.kv = nil
		} else {
			v := shallowCopy(c.KV)
			v.ModRevision = rev
			k.kv = normalize(v)
		}
		// An owner (t.s.hist) keeps no strata_kv: nothing to bring up to
		// date there.
		if !k.dirty && t.s.hist == nil {
			k.dirty = true
			b.dirty = append(b.dirty, name)
		}
	}
}

// flush writes the buffer: the log rows in order, then the final state of
// every key written.
func (t *txn) flush(ctx context.Context) error {
	b := t.wb
	if b == nil || (len(b.log) == 0 && len(b.dirty) == 0) {
		return nil
	}
	if err := t.flushLog(ctx, b.log); err != nil {
		return err
	}
	if h := t.s.hist; h != nil && len(b.log) > 0 {
		// Every read through the history flushes first: it learns the
		// rows when SQL does, all of a flush under one lock.
		b.histNames = h.add(b.log, b.histNames)
		b.histRev = b.log[len(b.log)-1].rev
	}
	b.log = b.log[:0]
	if len(b.dirty) == 0 {
		return nil
	}
	var upserts, updates []*kv.KeyValue
	var deletes [][]byte
	names := b.dirty
	slices.Sort(names) // a deterministic statement order
	for _, name := range names {
		k := b.keys[name]
		switch {
		case k.kv == nil && k.db != dbAbsent:
			deletes = append(deletes, []byte(name))
			k.db = dbAbsent
		case k.kv == nil:
		case k.db == dbPresent && k.dbLease == k.kv.Lease:
			updates = append(updates, k.kv)
		default:
			upserts = append(upserts, k.kv)
			k.db, k.dbLease = dbPresent, k.kv.Lease
		}
		k.dirty = false
	}
	b.dirty = b.dirty[:0]
	if err := t.flushKV(ctx, t.s.bulk.updateKV, updates); err != nil {
		return err
	}
	if err := t.flushKV(ctx, t.s.bulk.upsertKV, upserts); err != nil {
		return err
	}
	return t.flushDeletes(ctx, deletes)
}

// rowsFit returns how many of the first n rows fit one statement: at most
// bulkMaxRows, and values under bulkMaxBytes unless it is the first row.
func rowsFit(n int, size func(i int) int) int {
	total := 0
	for i := range min(n, bulkMaxRows) {
		total += size(i)
		if i > 0 && total > bulkMaxBytes {
			return i
		}
	}
	return min(n, bulkMaxRows)
}

func (t *txn) flushLog(ctx context.Context, rows []logRow) error {
	for len(rows) > 0 {
		n := chunk(rowsFit(len(rows), func(i int) int { return len(rows[i].c.KV.Value) + len(rows[i].c.KV.Key) }))
		args := make([]any, 0, n*9)
		for _, r := range rows[:n] {
			deleted, value := 0, r.c.KV.Value
			if r.c.Deleted {
				deleted = 1
			}
			if value == nil {
				value = []byte{}
			}
			args = append(args, r.rev, r.c.Sub, r.c.KV.Key, value, r.c.KV.CreateRevision, r.c.KV.Version, r.c.KV.Lease, deleted, r.c.PrevRevision)
		}
		if err := t.later(ctx, t.s.bulk.insertLog[sizeIndex(n)], args...); err != nil {
			return fmt.Errorf("sqlstore: append log: %w", err)
		}
		rows = rows[n:]
	}
	return nil
}

func (t *txn) flushKV(ctx context.Context, stmts []string, kvs []*kv.KeyValue) error {
	for len(kvs) > 0 {
		n := chunk(rowsFit(len(kvs), func(i int) int { return len(kvs[i].Value) + len(kvs[i].Key) }))
		args := make([]any, 0, n*6)
		for _, v := range kvs[:n] {
			value := v.Value
			if value == nil {
				value = []byte{}
			}
			args = append(args, v.Key, value, v.CreateRevision, v.ModRevision, v.Version, v.Lease)
		}
		if err := t.later(ctx, stmts[sizeIndex(n)], args...); err != nil {
			return fmt.Errorf("sqlstore: update latest: %w", err)
		}
		kvs = kvs[n:]
	}
	return nil
}

// flushDeletes removes keys from strata_kv one statement each (deletes
// are rarer than puts; see getKeys for why not "name IN (...)").
func (t *txn) flushDeletes(ctx context.Context, keys [][]byte) error {
	for _, k := range keys {
		if err := t.later(ctx, t.s.q.deleteKV, k); err != nil {
			return fmt.Errorf("sqlstore: delete latest: %w", err)
		}
	}
	return nil
}

// getLatest answers a read of key's latest value in a write transaction
// from the buffer, or reads and remembers it.
func (t *txn) getLatest(ctx context.Context, key []byte) (*kv.KeyValue, error) {
	if v, ok := t.cached(key); ok {
		return v, nil
	}
	if t.s.hist != nil {
		return t.getLatestFromLog(ctx, key)
	}
	var v kv.KeyValue
	err := t.queryRow(ctx, t.s.q.getKey, key).Scan(&v.Key, &v.Value, &v.CreateRevision, &v.ModRevision, &v.Version, &v.Lease)
	if errors.Is(err, sql.ErrNoRows) {
		if t.write {
			t.remember(key, nil)
		}
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get: %w", err)
	}
	got := normalize(&v)
	if t.write {
		t.remember(key, got)
	}
	return got, nil
}

// getLatestFromLog is getLatest through the history.
func (t *txn) getLatestFromLog(ctx context.Context, key []byte) (*kv.KeyValue, error) {
	rev, err := t.latestRev(ctx)
	if err != nil {
		return nil, err
	}
	vals, err := t.liveValues(ctx, [][]byte{key}, rev)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: get: %w", err)
	}
	if t.write {
		t.remember(key, vals[0])
	}
	return vals[0], nil
}
