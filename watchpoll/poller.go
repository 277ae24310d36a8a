package watchpoll

import (
	"context"
	"time"

	"github.com/strata-db/strata/pkg/kv"
)

// pollRetryDelay is the pause after a failed read of the log.
const pollRetryDelay = 100 * time.Millisecond

// pollLoop reads the log after h.last whenever a commit, a notification, a
// kick or the poll timer says there may be more, until it has read through
// the current revision.
func (h *Hub) pollLoop() {
	defer h.wg.Done()
	t := time.NewTicker(h.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-h.cfg.Commits:
		case <-h.notify:
		case <-h.kickPoll:
		case <-t.C:
		}
		for {
			more, err := h.pollOnce()
			if err != nil {
				h.log.Warn("watch poll failed; will retry", "err", err)
				select {
				case <-h.stop:
					return
				case <-time.After(pollRetryDelay):
				}
				continue
			}
			if !more {
				break
			}
		}
	}
}

// pollOnce reads one batch of log rows in (last, current] from one
// snapshot and fans it out. Rows of one revision commit together and
// revisions commit in order, so the snapshot has no holes below its
// current revision. more reports that the batch stopped short of it.
func (h *Hub) pollOnce() (more bool, err error) {
	start := time.Now()
	ctx := context.Background()
	h.mu.Lock()
	after := h.last
	idle := h.synced.n == 0
	h.mu.Unlock()
	var cur, compacted, through int64
	var rows []kv.Event
	known := false
	if idle && h.keeper != nil {
		// No watcher to read rows for: the revisions alone, from memory
		// where the backend keeps them (a poll follows every local
		// commit). If they tell nothing new, the database may know more
		// (another process's commits): read it, unless the backend is
		// its only writer. A poll often finds nothing new: the one before
		// it already saw the commit that woke it.
		var exact bool
		if cur, compacted, known, exact, err = h.keeper.KnownRevisions(ctx); err != nil {
			return false, err
		}
		known = known && (cur > after || exact)
		through = max(cur, after)
	}
	if !known && !idle && h.events != nil {
		// The rows of the latest commits from memory, when the backend
		// keeps them all (the only writer of its database).
		if rows, through, cur, compacted, known, err = h.events.RecentEvents(ctx, after, h.cfg.BatchRows); err != nil {
			return false, err
		}
		if known {
			h.m.memoryPolls.Inc()
		}
	}
	if !known {
		err = h.be.Read(ctx, func(tx kv.ReadTxn) error {
			if cur, compacted, err = tx.Revisions(ctx); err != nil || cur <= after || idle {
				through = max(cur, after)
				return err
			}
			// through is where the batch stopped: cur, or the last
			// revision read when it was cut at a revision boundary.
			rows, through, err = tx.Events(ctx, after, cur, h.cfg.BatchRows, true)
			return err
		})
		if err != nil {
			return false, err
		}
	}
	if idle && through > after {
		// No row was read: move past them, or, if a watcher came live
		// meanwhile, poll again and read them after all.
		return !h.skipIdle(after, through, compacted), nil
	}
	h.m.polls.Inc()
	h.deliver(after, through, compacted, toEvents(rows, compacted))
	h.m.pollDuration.Observe(time.Since(start).Seconds())
	return through < cur, nil
}

// skipIdle moves the poller past (after, through] without reading the
// rows when no watcher is live: a watcher registered later starts at or
// after through+1 live, or from the log through the catch-up loop. It
// reports false, moving nothing, if a watcher went live since the poll
// began.
func (h *Hub) skipIdle(after, through, compacted int64) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.synced.n != 0 || h.last != after {
		return false
	}
	if compacted > h.compacted {
		h.compacted = compacted
	}
	h.last = through
	h.m.pollRevision.Set(float64(through))
	h.answerProgressLocked()
	return true
}

// deliver fans out the revisions in (after, through], one lock hold per
// revision so that creates, cancels and the catch-up loop interleave.
func (h *Hub) deliver(after, through, compacted int64, evs []*event) {
	h.mu.Lock()
	if h.last != after {
		// Only the poller moves last; this cannot happen.
		h.mu.Unlock()
		h.log.Error("watch poller lost its place", "expected", after, "last", h.last)
		return
	}
	if compacted > h.compacted {
		h.compacted = compacted
	}
	if after+1 < compacted {
		// The poller fell behind a compaction: the log below it has holes.
		// Every synced watcher is now behind the compact revision and is
		// cancelled by the catch-up loop, as etcd cancels it.
		for _, w := range h.syncedList() {
			w.next = max(w.next, after+1)
			if w.next < compacted {
				h.demoteLocked(w)
			}
		}
	}
	h.mu.Unlock()
	for _, revEvs := range byRevision(evs) {
		h.mu.Lock()
		h.dispatchLocked(revEvs[0].rev, revEvs)
		h.last = revEvs[0].rev
		h.mu.Unlock()
	}
	h.mu.Lock()
	h.last = through
	h.m.pollRevision.Set(float64(through))
	h.answerProgressLocked()
	h.mu.Unlock()
}

// syncedList copies the synced watchers. Called with h.mu held.
func (h *Hub) syncedList() []*watcher {
	out := make([]*watcher, 0, h.synced.n)
	h.synced.each(func(w *watcher) { out = append(out, w) })
	return out
}
