package sqlstore

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/google/btree"

	"github.com/strata-db/strata/pkg/kv"
)

// history is the index of the log that an exclusive store keeps in memory
// instead of an index on strata_log's names and the table strata_kv, as
// etcd keeps its treeIndex: for every key, the (revision, sub) of each of
// its rows still in the log, oldest first, and the value of the newest if
// the value cache holds it (values.go). A read finds there which row of
// each key was live at its revision, and reads from the log by primary key
// the rows whose values are not cached.
//
// The database then needs neither: a Put appends to the log and writes
// nothing else, instead of also a leaf of each somewhere in the middle
// (under random Puts, a page written to the WAL and again by the
// checkpoint for every Put and each of the two).
//
// A write transaction adds its rows when it flushes them to SQL, before it
// commits, so that a later operation of the same batch reads them at their
// revision (every read through the history flushes first). A reader never
// sees such a row: it reads at a revision its snapshot has committed, and
// every row above it is ignored. A transaction that rolls back takes its
// rows out again (rollback).
type history struct {
	mu   sync.RWMutex
	keys keyIndex
	// committed is the revision of the last committed write transaction:
	// rows above it are pending.
	committed int64
	// compactRev is the compact revision as of committed.
	compactRev int64
	// values is the cache of the latest values (see values.go).
	values valueCache
	// compacted is the revision the tree was last pruned to: a row it
	// superseded at or below it may be gone, so a read below it fails.
	compacted int64
	// recent are the events of the latest revisions (recent.go).
	recent recentEvents
}

// keyRows is one key's rows, in (revision, sub) order.
type keyRows struct {
	name string
	rows []rowRef
	// latest is the newest row's value and metadata when the value cache
	// holds them (see values.go).
	latest cachedValue
}

// rowRef names one row of strata_log.
type rowRef struct {
	rev     int64
	sub     int32
	deleted bool
}

func lessKeyRows(a, b *keyRows) bool { return a.name < b.name }

// keyIndex holds the history's keys twice: in a B-tree, for reads of a
// range in key order, and in a map, for reads of one key. Under Puts to
// random keys a B-tree walk is a cache miss per level and per compared
// name, twice per Put: 8% of the server's CPU with 100k keys, where the
// map costs one or two misses.
type keyIndex struct {
	tree   *btree.BTreeG[*keyRows]
	byName map[string]*keyRows
}

func newKeyIndex() keyIndex {
	return keyIndex{tree: btree.NewG(32, lessKeyRows), byName: map[string]*keyRows{}}
}

// get returns name's rows, if the history has any.
func (x keyIndex) get(name []byte) (*keyRows, bool) {
	k, ok := x.byName[string(name)]
	return k, ok
}

func (x keyIndex) insert(k *keyRows) {
	x.tree.ReplaceOrInsert(k)
	x.byName[k.name] = k
}

func (x keyIndex) delete(k *keyRows) {
	x.tree.Delete(k)
	delete(x.byName, k.name)
}

func (x keyIndex) len() int { return len(x.byName) }

func newHistory(valueBytes int) *history {
	return &history{keys: newKeyIndex(), values: valueCache{max: valueBytes}}
}

// loadHistory reads the whole log into a new history; rows is how many
// rows it holds.
func loadHistory(ctx context.Context, t *txn) (h *history, rows int, err error) {
	h = newHistory(valueCacheBytes)
	if h.committed, h.compactRev, err = t.readRevisions(ctx); err != nil {
		return nil, 0, err
	}
	res, err := t.query(ctx, t.s.q.logRefs)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: load log index: %w", err)
	}
	defer res.Close()
	var name []byte
	for res.Next() {
		var r rowRef
		if err := res.Scan(&name, &r.rev, &r.sub, &r.deleted); err != nil {
			return nil, 0, fmt.Errorf("sqlstore: load log index: %w", err)
		}
		h.keyRows(string(name)).add(r)
		rows++
	}
	if err := res.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlstore: load log index: %w", err)
	}
	h.recent.from = h.committed
	// compacted stays 0: a compaction that a crash interrupted is finished
	// by the compactor, which prunes the index then.
	return h, rows, nil
}

// keyRows returns name's rows, added to the index if new. h.mu must be
// held for writing (or h not yet shared).
func (h *history) keyRows(name string) *keyRows {
	k, ok := h.keys.byName[name]
	if !ok {
		k = &keyRows{name: name}
		h.keys.insert(k)
	}
	return k
}

func (k *keyRows) add(r rowRef) { k.rows = append(k.rows, r) }

// add records the log rows a write transaction has written, in order, and
// returns names with their keys appended (for rollback).
func (h *history) add(rows []logRow, names []string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range rows {
		name := string(r.c.KV.Key)
		k := h.keyRows(name)
		h.recent.add(k, r)
		k.add(rowRef{rev: r.rev, sub: int32(r.c.Sub), deleted: r.c.Deleted})
		h.values.set(k, r)
		names = append(names, name)
	}
	return names
}

// commit marks every row up to rev as committed, and compacted as the
// compact revision then if the transaction knew it.
func (h *history) commit(rev, compacted int64, compactedKnown bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.committed = max(h.committed, rev)
	if compactedKnown {
		h.compactRev = max(h.compactRev, compacted)
	}
}

// rollback takes out the rows of a transaction that rolled back, given the
// keys add returned: each was the last row of its key when added, and is
// still (write transactions of an exclusive store are serial, and pruning
// keeps every row above the compact revision).
func (h *history) rollback(names []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recent.rollback(h.committed)
	for _, name := range slices.Backward(names) {
		k, ok := h.keys.byName[name]
		if !ok {
			continue
		}
		// Its value, if cached, goes too: a retry may write another
		// value at the same revision.
		h.values.drop(k)
		k.rows = k.rows[:len(k.rows)-1]
		if len(k.rows) == 0 {
			h.keys.delete(k)
		}
	}
}

// upTo is how many of k's rows are at or below rev.
func (k *keyRows) upTo(rev int64) int {
	return sort.Search(len(k.rows), func(i int) bool { return k.rows[i].rev > rev })
}

// latestRev is the revision a read of the latest values reads at: the
// newest row of each key, pending ones included, in a write transaction
// (which sees its own writes); in a read transaction, the revision its
// snapshot reads (Revisions).
func (t *txn) latestRev(ctx context.Context) (int64, error) {
	if t.write {
		return math.MaxInt64, nil
	}
	if t.readRev == 0 {
		if _, _, err := t.Revisions(ctx); err != nil {
			return 0, err
		}
	}
	return t.readRev, nil
}

// revisions returns the last committed revision and the compact revision
// as of it.
func (h *history) revisions() (committed, compacted int64) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.committed, h.compactRev
}

// latestCommitted returns the last committed revision and name's row live
// at it, if any, with its value if the cache holds it and then the compact
// revision.
func (h *history) latestCommitted(name []byte) (rev int64, row rowRef, ok bool, v *kv.KeyValue, compacted int64) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	row, v, ok = h.liveLocked(name, h.committed)
	return h.committed, row, ok, v, h.compactRev
}

// live returns name's row live at rev, if any, with its value if the
// cache holds it.
func (h *history) live(name []byte, rev int64) (row rowRef, v *kv.KeyValue, ok bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.liveLocked(name, rev)
}

// liveLocked is live with h.mu held.
func (h *history) liveLocked(name []byte, rev int64) (row rowRef, v *kv.KeyValue, ok bool) {
	k, found := h.keys.get(name)
	if !found {
		return rowRef{}, nil, false
	}
	if row, ok = k.liveAt(rev); ok {
		v = k.cached(row)
	}
	return row, v, ok
}

// liveRows reports, for each of rows (of the keys names), whether it is
// its key's row live at rev, under one hold of the lock.
func (h *history) liveRows(names [][]byte, rows []rowRef, rev int64) []bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]bool, len(rows))
	for i, r := range rows {
		k, found := h.keys.get(names[i])
		if !found {
			continue
		}
		live, ok := k.liveAt(rev)
		out[i] = ok && live == r
	}
	return out
}

// liveAt returns the row of k live at rev: its newest at or below rev,
// unless that is a tombstone.
func (k *keyRows) liveAt(rev int64) (rowRef, bool) {
	i := k.upTo(rev)
	if i == 0 || k.rows[i-1].deleted {
		return rowRef{}, false
	}
	return k.rows[i-1], true
}

// at calls fn with each key of r live at rev, in key order, and its row,
// until fn returns false. rev must not be above a revision the caller's
// snapshot has committed.
func (h *history) at(r kv.Range, rev int64, fn func(k *keyRows, row rowRef) bool) error {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if rev < h.compacted {
		// Pruned while the caller's snapshot was older than the compaction.
		return kv.ErrCompacted
	}
	h.keys.tree.AscendGreaterOrEqual(&keyRows{name: string(r.Start)}, func(k *keyRows) bool {
		if r.End != nil && bytes.Compare([]byte(k.name), r.End) >= 0 {
			return false
		}
		if row, ok := k.liveAt(rev); ok {
			return fn(k, row)
		}
		return true
	})
	return nil
}

// prune drops what compacting to rev removed from the log: the rows
// superseded by a row at or below rev, and tombstones below rev.
func (h *history) prune(rev int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rev <= h.compacted {
		return
	}
	h.compacted = rev
	var empty []*keyRows
	h.keys.tree.Ascend(func(k *keyRows) bool {
		i := k.upTo(rev)
		if i == 0 {
			return true
		}
		drop := i - 1
		if last := k.rows[i-1]; last.deleted && last.rev < rev {
			drop = i
		}
		if drop > 0 {
			k.rows = append(k.rows[:0:0], k.rows[drop:]...)
			if len(k.rows) == 0 {
				empty = append(empty, k)
			}
		}
		return true
	})
	for _, k := range empty {
		// Its newest row was a tombstone: no value is cached.
		h.keys.delete(k)
	}
}

// rangeAt reads the keys of r live at rev through the history: which
// rows and the values the cache holds from memory, the others by primary
// key.
func (t *txn) rangeAt(ctx context.Context, r kv.Range, rev, limit int64) ([]*kv.KeyValue, error) {
	var refs []rowRef
	var out []*kv.KeyValue
	err := t.s.hist.at(r, rev, func(k *keyRows, row rowRef) bool {
		refs, out = append(refs, row), append(out, k.cached(row))
		return limit <= 0 || int64(len(refs)) < limit
	})
	if err != nil {
		return nil, err
	}
	return t.rowValues(ctx, refs, out)
}

// rowValues completes got, the values of rows refs the cache held (nil
// where it did not), by reading the others from the log, and caches those.
func (t *txn) rowValues(ctx context.Context, refs []rowRef, got []*kv.KeyValue) ([]*kv.KeyValue, error) {
	var miss []rowRef
	for i, v := range got {
		if v == nil {
			miss = append(miss, refs[i])
		}
	}
	if len(miss) == 0 {
		return got, nil
	}
	read, err := t.readRows(ctx, miss)
	if err != nil {
		return nil, err
	}
	t.s.hist.fill(miss, read)
	for i := range got {
		if got[i] == nil {
			got[i], read = read[0], read[1:]
		}
	}
	return got, nil
}

// readRows reads the rows refs names from the log. It reads them in log
// order, where rows written together share pages, and puts them back in
// refs' order.
func (t *txn) readRows(ctx context.Context, refs []rowRef) ([]*kv.KeyValue, error) {
	order := make([]int, len(refs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return refs[a].cmp(refs[b]) })
	out := make([]*kv.KeyValue, len(refs))
	for len(order) > 0 {
		n := chunk(len(order))
		args := make([]any, 0, 2*n)
		for _, i := range order[:n] {
			args = append(args, refs[i].rev, refs[i].sub)
		}
		rows, err := t.query(ctx, t.s.bulk.getRows[sizeIndex(n)], args...)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: read log rows: %w", err)
		}
		got, err := scanKVs(rows)
		if err != nil {
			return nil, err
		}
		if len(got) != n {
			// Only compaction removes rows, and never one that a read at
			// or above the compact revision needs.
			return nil, fmt.Errorf("sqlstore: read log rows: %d of %d found", len(got), n)
		}
		for j, i := range order[:n] {
			if got[j].ModRevision != refs[i].rev {
				return nil, fmt.Errorf("sqlstore: read log rows: revision %d where %d was asked", got[j].ModRevision, refs[i].rev)
			}
			out[i] = got[j]
		}
		order = order[n:]
	}
	return out, nil
}

// cmp orders rows as the log does, by (revision, sub).
func (r rowRef) cmp(o rowRef) int {
	if c := cmp.Compare(r.rev, o.rev); c != 0 {
		return c
	}
	return cmp.Compare(r.sub, o.sub)
}

// countAt counts the keys of r live at a past revision, from memory.
func (t *txn) countAt(r kv.Range, rev int64) (int64, error) {
	var n int64
	err := t.s.hist.at(r, rev, func(*keyRows, rowRef) bool { n++; return true })
	return n, err
}
