package watchpoll

import (
	"context"
	"log/slog"
	"sync"

	"github.com/strata-db/strata/pkg/kv"
)

// Hub is the process's one watch poller and fan-out. It runs three
// goroutines, all joined by Close: the poller, the catch-up loop and the
// progress ticker.
type Hub struct {
	cfg Config
	be  kv.Backend
	// keeper, if the backend is one, gives the revisions an idle poll
	// needs without a read of the database.
	keeper kv.RevisionKeeper
	// events, if the backend is one, gives the rows of the latest commits
	// without a read of the database.
	events kv.EventKeeper
	notify <-chan struct{} // the backend's kv.Notifier channel, or nil
	log    *slog.Logger
	m      *metrics

	kickPoll chan struct{} // wakes the poller
	kickSync chan struct{} // wakes the catch-up loop
	stop     chan struct{}
	wg       sync.WaitGroup

	// mu guards the fields below and every watcher's state, next and quiet.
	// Lock order: Hub.mu, then Stream.mu, then queue.mu. Nothing that
	// waits (a read, a blocking push) happens while holding it.
	mu sync.Mutex
	// last is the revision through which every event has been handed to
	// the synced watchers.
	last      int64
	compacted int64 // compact revision of the poller's latest snapshot
	synced    *watcherSet
	unsynced  map[*watcher]struct{}
	streams   map[*Stream]struct{}
	// waiting are the streams with a progress request not yet answered.
	waiting map[*Stream]struct{}
	// scratch is the poller's per-revision match table, reused.
	scratch map[*group][]*event
	closed  bool
}

// New reads the current revision, from which live delivery starts, and
// starts the hub.
func New(ctx context.Context, cfg Config) (*Hub, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	h := &Hub{
		cfg: cfg, be: cfg.Backend, log: cfg.Logger, m: m,
		kickPoll: make(chan struct{}, 1),
		kickSync: make(chan struct{}, 1),
		stop:     make(chan struct{}),
		synced:   newWatcherSet(),
		unsynced: map[*watcher]struct{}{},
		streams:  map[*Stream]struct{}{},
		waiting:  map[*Stream]struct{}{},
		scratch:  map[*group][]*event{},
	}
	if n, ok := cfg.Backend.(kv.Notifier); ok {
		h.notify = n.Notifications()
	}
	h.keeper, _ = cfg.Backend.(kv.RevisionKeeper)
	h.events, _ = cfg.Backend.(kv.EventKeeper)
	if h.last, h.compacted, err = h.revisions(ctx); err != nil {
		return nil, err
	}
	h.m.pollRevision.Set(float64(h.last))
	h.wg.Add(3)
	go h.pollLoop()
	go h.syncLoop()
	go h.progressLoop()
	return h, nil
}

// Close stops the goroutines, closes every stream and waits. It does not
// close the backend.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	streams := make([]*Stream, 0, len(h.streams))
	for s := range h.streams {
		streams = append(streams, s)
	}
	h.mu.Unlock()
	close(h.stop)
	h.wg.Wait()
	for _, s := range streams {
		s.Close()
	}
	return nil
}

// revisions reads the current and compact revision from one snapshot.
func (h *Hub) revisions(ctx context.Context) (cur, compacted int64, err error) {
	err = h.be.Read(ctx, func(tx kv.ReadTxn) error {
		cur, compacted, err = tx.Revisions(ctx)
		return err
	})
	return cur, compacted, err
}

func kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// register starts delivery to w from w.next: live when the poller has not
// passed it, from the log otherwise. Called with h.mu held.
func (h *Hub) registerLocked(w *watcher) {
	h.m.watchers.Inc()
	if w.next > h.last {
		w.state = stateSynced
		h.synced.add(w)
		return
	}
	h.demoteLocked(w)
}

// demoteLocked makes w a slow watcher, to be fed from the log from w.next.
func (h *Hub) demoteLocked(w *watcher) {
	if w.state == stateSynced {
		h.synced.remove(w)
	}
	w.state = stateUnsynced
	h.unsynced[w] = struct{}{}
	h.m.slowWatchers.Inc()
	kick(h.kickSync)
}

// promoteLocked moves a caught-up watcher back to the live fan-out.
func (h *Hub) promoteLocked(w *watcher) {
	delete(h.unsynced, w)
	h.m.slowWatchers.Dec()
	w.state = stateSynced
	h.synced.add(w)
}

// removeLocked stops all delivery to w.
func (h *Hub) removeLocked(w *watcher) {
	switch w.state {
	case stateSynced:
		h.synced.remove(w)
	case stateUnsynced:
		delete(h.unsynced, w)
		h.m.slowWatchers.Dec()
	default:
		w.state = stateDone
		return
	}
	w.state = stateDone
	h.m.watchers.Dec()
}

// dispatchLocked hands the events of revision rev to the synced watchers.
// A watcher whose queue is full is demoted; it will get rev from the log.
func (h *Hub) dispatchLocked(rev int64, evs []*event) {
	m := h.scratch
	h.synced.match(evs, m)
	var queued int
	for g, mine := range m {
		queued += h.sendGroupLocked(g, mine, rev)
	}
	clear(m)
	if queued > 0 {
		h.m.events.Add(float64(queued))
		h.m.pending.Add(float64(queued))
	}
}

// sendGroupLocked queues rev's events evs for the watchers of g, each
// payload built once per watcher shape. It returns the events queued.
func (h *Hub) sendGroupLocked(g *group, evs []*event, rev int64) (queued int) {
	var built [shapes]bool
	var payloads [shapes]*payload
	// From the end, as a demotion moves g's last watcher into its slot.
	for i := len(g.ws) - 1; i >= 0; i-- {
		w := g.ws[i]
		if rev < w.next {
			continue
		}
		sh := w.shape()
		if !built[sh] {
			payloads[sh], built[sh] = w.payload(evs), true
		}
		p := payloads[sh]
		if p == nil {
			w.next = rev + 1 // the filters leave nothing
			continue
		}
		if !w.s.q.tryPush(w.item(p, rev)) {
			w.next = rev
			h.demoteLocked(w)
			continue
		}
		w.next = rev + 1
		w.quiet = false
		queued += len(p.events)
	}
	return queued
}
