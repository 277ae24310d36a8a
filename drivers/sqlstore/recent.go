package sqlstore

import (
	"bytes"
	"context"
	"sort"

	"github.com/strata-db/strata/pkg/kv"
)

var _ kv.EventKeeper = (*Store)(nil)

// The bounds of the recent events an exclusive store keeps: the watch
// poller reads right behind the writer, so a few thousand rows cover it;
// past them it reads the log.
const (
	recentMaxRows  = 4096
	recentMaxBytes = 4 << 20
)

// recentEvents are the log rows of the latest revisions, kept by the
// history of an exclusive store as its write transactions flush them, in a
// ring of recentMaxRows allocated once: a write adds no garbage, and the
// events are built only when the poller reads them. Every row with a
// revision in (from, the last row's] is held, pending ones included (those
// above history.committed). It lives under the history's lock.
type recentEvents struct {
	from  int64
	rows  []recentRow // the ring; nil until the first row
	head  int         // index of the oldest row
	n     int         // rows held
	bytes int         // bytes of keys and values referenced
	// lacking is the highest revision with a row whose previous value the
	// value cache did not hold: a read of it goes to the log.
	lacking int64
}

// recentRow is one log row and the value before it, as the poller reads
// them (Events with previous values), in the value cache's form. Slices
// are shared with the write that made them and the value cache, never
// changed.
type recentRow struct {
	key               []byte
	rev, sub, prevRev int64
	deleted           bool
	cur               cachedValue // the row's value, unless deleted
	prev              cachedValue // the value before it, if ok
	prevMod           int64       // the revision of prev
}

func (r *recentRow) size() int { return len(r.key) + len(r.cur.value) + len(r.prev.value) }

// at is the i-th oldest row held.
func (re *recentEvents) at(i int) *recentRow { return &re.rows[(re.head+i)%len(re.rows)] }

// event is the row as Events reads it from the log.
func (r *recentRow) event() kv.Event {
	e := kv.Event{Change: kv.Change{Sub: r.sub, Deleted: r.deleted, PrevRevision: r.prevRev}}
	if r.deleted {
		e.KV = &kv.KeyValue{Key: r.key, ModRevision: r.rev}
	} else {
		e.KV = r.cur.keyValue(r.key, r.rev)
	}
	if r.prev.ok {
		e.Prev = r.prev.keyValue(r.key, r.prevMod)
	}
	return e
}

// add records row lr of key k, before k's rows take it in: its previous
// value is the cached value of k's newest row, which lr supersedes.
func (re *recentEvents) add(k *keyRows, lr logRow) {
	c := lr.c
	r := recentRow{key: c.KV.Key, rev: lr.rev, sub: c.Sub, prevRev: c.PrevRevision, deleted: c.Deleted}
	if !c.Deleted {
		r.cur = cachedValue{value: c.KV.Value, create: c.KV.CreateRevision, version: c.KV.Version, lease: c.KV.Lease, ok: true}
	}
	switch p := c.PrevRevision; {
	case p == 0:
		// A new key: no previous value.
	case p == lr.rev:
		// Changed before in this revision: the previous value is the one
		// before the revision (etcd reads it at revision-1), that
		// change's. Were it lacking, this revision is lacking already.
		if !re.sameRevision(&r) {
			re.lacking = max(re.lacking, lr.rev)
		}
	default:
		if n := len(k.rows); k.latest.ok && n > 0 && k.rows[n-1].rev == p && !k.rows[n-1].deleted {
			r.prev, r.prevMod = k.latest, p
		} else {
			re.lacking = max(re.lacking, lr.rev)
		}
	}
	if re.rows == nil {
		re.rows = make([]recentRow, recentMaxRows)
	}
	if re.n == len(re.rows) || re.bytes+r.size() > recentMaxBytes {
		re.trim()
	}
	*re.at(re.n) = r
	re.n++
	re.bytes += r.size()
}

// sameRevision gives r the previous value of the latest change of r's key
// at r's revision before r, and reports whether that change is held.
func (re *recentEvents) sameRevision(r *recentRow) bool {
	for i := re.n - 1; i >= 0 && re.at(i).rev == r.rev; i-- {
		if o := re.at(i); bytes.Equal(o.key, r.key) {
			r.prev, r.prevMod = o.prev, o.prevMod
			return true
		}
	}
	return false
}

// trim drops the oldest revisions, a whole revision at a time, until at
// most half the ring and half the bytes are held.
func (re *recentEvents) trim() {
	for re.n > 0 && (re.n > len(re.rows)/2 || re.bytes > recentMaxBytes/2) {
		rev := re.at(0).rev
		for re.n > 0 && re.at(0).rev == rev {
			re.bytes -= re.at(0).size()
			*re.at(0) = recentRow{}
			re.head = (re.head + 1) % len(re.rows)
			re.n--
		}
		re.from = rev
	}
}

// rollback drops the rows above committed, those of a transaction that
// rolled back.
func (re *recentEvents) rollback(committed int64) {
	for re.n > 0 && re.at(re.n-1).rev > committed {
		re.bytes -= re.at(re.n - 1).size()
		*re.at(re.n - 1) = recentRow{}
		re.n--
	}
	if re.lacking > committed {
		// Where the lacking row was is unknown now; the log is read up
		// to committed.
		re.lacking = committed
	}
}

// after returns the events of the rows in (after, through], or ok false
// when some are not held (before from, or without a previous value the log
// has).
func (re *recentEvents) after(after, through int64) (evs []kv.Event, ok bool) {
	if after < re.from || after < re.lacking {
		return nil, false
	}
	i := sort.Search(re.n, func(i int) bool { return re.at(i).rev > after })
	j := i + sort.Search(re.n-i, func(j int) bool { return re.at(i+j).rev > through })
	evs = make([]kv.Event, 0, j-i)
	for ; i < j; i++ {
		evs = append(evs, re.at(i).event())
	}
	return evs, true
}

// RecentEvents is Events(after, current, limit, true) of a Read
// transaction at the current revision, answered from memory when the
// history holds every row it would read: the watch poller of an exclusive
// store then reads no SQL after a commit. ok is false otherwise (a store
// that is not exclusive, a poller behind what is kept or behind the compact
// revision); the caller then reads the log.
func (s *Store) RecentEvents(_ context.Context, after int64, limit int) (evs []kv.Event, through, current, compacted int64, ok bool, err error) {
	if s.hist == nil {
		return nil, 0, 0, 0, false, nil
	}
	h := s.hist
	h.mu.RLock()
	current, compacted = h.committed, h.compactRev
	if after >= compacted {
		evs, ok = h.recent.after(after, current)
	}
	h.mu.RUnlock()
	if !ok {
		return nil, 0, 0, 0, false, nil
	}
	if s.gate != nil {
		// As a Read: nothing is seen before it is durable.
		if err := s.gate.waitIssued(); err != nil {
			return nil, 0, 0, 0, false, err
		}
	}
	evs, through = cutEvents(evs, max(after, current), limit)
	return evs, through, current, compacted, true, nil
}

// cutEvents cuts revision-ordered events read through `through` to about
// limit at a revision boundary, never inside one revision, and returns the
// revision they cover up to. evs must hold every row of the revisions it
// reaches into (Events reads them again when one revision alone is larger
// than limit).
func cutEvents(evs []kv.Event, through int64, limit int) ([]kv.Event, int64) {
	if limit <= 0 {
		limit = defaultEventsLimit
	}
	if len(evs) <= limit {
		return evs, through
	}
	last := evs[limit].KV.ModRevision
	cut := limit
	for cut > 0 && evs[cut-1].KV.ModRevision == last {
		cut--
	}
	if cut > 0 {
		return evs[:cut], evs[cut-1].KV.ModRevision
	}
	// One revision alone is larger than the limit: all of it.
	for cut < len(evs) && evs[cut].KV.ModRevision == last {
		cut++
	}
	return evs[:cut], last
}
