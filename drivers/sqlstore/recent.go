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

// recentEvents are the log rows of the latest revisions as the watch
// poller reads them (Events with previous values), kept by the history of
// an exclusive store as its write transactions flush them. Every row with
// a revision in (from, the last row's] is in evs, pending ones included
// (those above history.committed). It lives under the history's lock.
type recentEvents struct {
	from  int64
	evs   []kv.Event // in (revision, sub) order
	bytes int
	// lacking is the highest revision with a row whose previous value the
	// value cache did not hold: a read of it goes to the log.
	lacking int64
}

// eventBytes approximates what an event holds in memory.
func eventBytes(e *kv.Event) int {
	n := 96 + len(e.KV.Key) + len(e.KV.Value)
	if e.Prev != nil {
		n += 64 + len(e.Prev.Value)
	}
	return n
}

// add records row r of key k, before k's rows take it in: its previous
// value is the cached value of k's newest row, which r supersedes.
func (re *recentEvents) add(k *keyRows, r logRow) {
	e := kv.Event{Change: r.c}
	e.KV = &kv.KeyValue{Key: r.c.KV.Key, ModRevision: r.rev}
	if !r.c.Deleted {
		c := r.c.KV
		e.KV = normalize(&kv.KeyValue{Key: c.Key, Value: c.Value, CreateRevision: c.CreateRevision,
			ModRevision: r.rev, Version: c.Version, Lease: c.Lease})
	}
	switch p := r.c.PrevRevision; {
	case p == 0:
		// A new key: no previous value.
	case p == r.rev:
		// Changed before in this revision: the previous value is the one
		// before the revision (etcd reads it at revision-1), that
		// change's. Were it lacking, this revision is lacking already.
		if prev, ok := re.sameRevision(r); ok {
			e.Prev = prev
		} else {
			re.lacking = max(re.lacking, r.rev)
		}
	default:
		if n := len(k.rows); n > 0 && k.rows[n-1].rev == p && !k.rows[n-1].deleted {
			e.Prev = k.cached(k.rows[n-1])
		}
		if e.Prev == nil {
			re.lacking = max(re.lacking, r.rev)
		}
	}
	re.evs = append(re.evs, e)
	re.bytes += eventBytes(&e)
	if len(re.evs) > recentMaxRows || re.bytes > recentMaxBytes {
		re.trim()
	}
}

// sameRevision returns the previous value of the latest change of r's key
// at r's revision before r.
func (re *recentEvents) sameRevision(r logRow) (*kv.KeyValue, bool) {
	for i := len(re.evs) - 1; i >= 0 && re.evs[i].KV.ModRevision == r.rev; i-- {
		if bytes.Equal(re.evs[i].KV.Key, r.c.KV.Key) {
			return re.evs[i].Prev, true
		}
	}
	return nil, false
}

// trim drops the oldest revisions until the bounds hold again, a whole
// revision at a time.
func (re *recentEvents) trim() {
	i := 0
	for i < len(re.evs) && (len(re.evs)-i > recentMaxRows/2 || re.bytes > recentMaxBytes/2) {
		rev := re.evs[i].KV.ModRevision
		for i < len(re.evs) && re.evs[i].KV.ModRevision == rev {
			re.bytes -= eventBytes(&re.evs[i])
			i++
		}
		re.from = rev
	}
	clear(re.evs[:i])
	re.evs = re.evs[i:]
}

// rollback drops the rows above committed, those of a transaction that
// rolled back.
func (re *recentEvents) rollback(committed int64) {
	i := len(re.evs)
	for i > 0 && re.evs[i-1].KV.ModRevision > committed {
		i--
		re.bytes -= eventBytes(&re.evs[i])
	}
	clear(re.evs[i:])
	re.evs = re.evs[:i]
	if re.lacking > committed {
		// Where the lacking row was is unknown now; the log is read up
		// to committed.
		re.lacking = committed
	}
}

// after returns the rows in (after, through], or ok false when some are
// not held (before from, or without a previous value the log has).
func (re *recentEvents) after(after, through int64) (evs []kv.Event, ok bool) {
	if after < re.from || after < re.lacking {
		return nil, false
	}
	i := sort.Search(len(re.evs), func(i int) bool { return re.evs[i].KV.ModRevision > after })
	j := i + sort.Search(len(re.evs)-i, func(j int) bool { return re.evs[i+j].KV.ModRevision > through })
	return append([]kv.Event(nil), re.evs[i:j]...), true
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
// revision they cover up to.
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
