package watchpoll

import (
	"context"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/kv"
)

// syncLoop feeds slow watchers from the log until they rejoin the live
// fan-out. It never waits on a stream: a watcher whose queue is still full
// is skipped and retried when its queue drains (or at the next tick).
func (h *Hub) syncLoop() {
	defer h.wg.Done()
	t := time.NewTicker(syncInterval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-h.kickSync:
		case <-t.C:
		}
		for {
			progressed, err := h.syncOnce()
			if err != nil {
				h.log.Warn("watch catch-up read failed; will retry", "err", err)
				break
			}
			if !progressed {
				break
			}
			select {
			case <-h.stop:
				return
			default:
			}
		}
	}
}

// syncOnce serves up to maxSyncWatchers slow watchers with room in their
// queues from one read of the log. progressed reports whether any of them
// moved on.
func (h *Hub) syncOnce() (progressed bool, err error) {
	cands, nexts := h.syncCandidates()
	if len(cands) == 0 {
		return false, nil
	}
	ctx := context.Background()
	var cur, compacted, through int64
	var rows []kv.Event
	err = h.be.Read(ctx, func(tx kv.ReadTxn) error {
		if cur, compacted, err = tx.Revisions(ctx); err != nil {
			return err
		}
		from := int64(-1)
		for _, next := range nexts {
			if next >= compacted && (from < 0 || next < from) {
				from = next
			}
		}
		if from < 0 || from > cur {
			through = cur
			return nil
		}
		// through is where the batch stopped: cur, or the last revision
		// read when it was cut at a revision boundary.
		rows, through, err = tx.Events(ctx, from-1, cur, h.cfg.BatchRows, true)
		return err
	})
	if err != nil {
		return false, err
	}
	h.m.catchUpReads.Inc()
	c := &catchUp{evs: toEvents(rows, compacted), cur: cur, compacted: compacted, through: through,
		picked: map[pickKey]picked{}}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range cands {
		if h.catchUpLocked(w, c) {
			progressed = true
		}
	}
	h.answerProgressLocked()
	return progressed, nil
}

// syncCandidates picks the slow watchers whose stream has room, with their
// next revisions. Only the catch-up loop changes next or promotes a watcher
// while it is unsynced, so both stay valid until it takes h.mu again.
func (h *Hub) syncCandidates() (ws []*watcher, nexts []int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.unsynced {
		if w.s.q.hasRoom() {
			ws = append(ws, w)
			nexts = append(nexts, w.next)
			if len(ws) == maxSyncWatchers {
				break
			}
		}
	}
	return ws, nexts
}

// catchUp is one read of the log for the slow watchers: its events, read
// through the revision through in a snapshot at revision cur, and the
// payloads already built from them. Slow watchers usually fall behind
// together (a stream's watchers when its queue fills), so those at the same
// revision with the same range and shape share one payload.
type catchUp struct {
	evs                     []*event
	cur, compacted, through int64
	picked                  map[pickKey]picked
}

type pickKey struct {
	next  int64
	rng   rangeID
	shape int
}

type picked struct {
	p    *payload // nil when nothing is left after the filters
	next int64
}

// catchUpLocked gives w its events from c and promotes it if it is level
// with the poller. It reports whether w moved on.
func (h *Hub) catchUpLocked(w *watcher, c *catchUp) bool {
	if w.state != stateUnsynced {
		return false // cancelled meanwhile
	}
	if w.next < c.compacted {
		return h.cancelCompactedLocked(w, c.compacted)
	}
	if w.next <= c.through {
		k := pickKey{next: w.next, rng: w.rangeID(), shape: w.shape()}
		pk, ok := c.picked[k]
		if !ok {
			mine, next := w.pick(c.evs, c.through)
			pk = picked{p: w.payload(mine), next: next}
			c.picked[k] = pk
		}
		if p := pk.p; p != nil {
			if !w.s.q.tryPush(w.item(p, c.cur)) {
				return false
			}
			w.quiet = false
			h.m.events.Add(float64(len(p.events)))
			h.m.pending.Add(float64(len(p.events)))
		}
		w.next = pk.next
	}
	if w.next > h.last {
		h.promoteLocked(w)
	}
	return true
}

// pick returns w's events from evs at or after w.next, at most
// maxBatchRevs revisions of them, and the revision to continue from.
func (w *watcher) pick(evs []*event, through int64) (mine []*event, next int64) {
	revs := 0
	var lastRev int64
	for _, e := range evs {
		if e.rev < w.next || !w.matches(e.key) {
			continue
		}
		if e.rev != lastRev {
			if revs == maxBatchRevs {
				return mine, e.rev
			}
			revs++
			lastRev = e.rev
		}
		mine = append(mine, e)
	}
	return mine, through + 1
}

// cancelCompactedLocked sends etcd's compaction cancel (header revision 0,
// compact_revision set, no reason) and retires w. The watch ID stays taken
// on its stream until the client cancels it, as in etcd.
func (h *Hub) cancelCompactedLocked(w *watcher, compacted int64) bool {
	resp := &pb.WatchResponse{Header: &pb.ResponseHeader{}, WatchId: w.id, Canceled: true, CompactRevision: compacted}
	if !w.s.q.tryPush(item{resp: resp, fragment: w.fragment, size: 64}) {
		return false
	}
	h.removeLocked(w)
	h.m.compacted.Inc()
	return true
}
