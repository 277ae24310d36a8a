package watchpoll

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/strata-db/strata/pkg/kv"
)

// state is where a watcher is in the hub. All transitions happen under
// Hub.mu.
type state int

const (
	stateNew      state = iota // created, not yet registered
	stateSynced                // in Hub.synced: fed by the poller
	stateUnsynced              // in Hub.unsynced: fed by the catch-up loop
	stateDone                  // cancelled, closed or compacted
)

// watcher is one watch of one stream.
type watcher struct {
	id       int64
	s        *Stream
	rng      kv.Range
	single   bool // a single-key watch, indexed by key
	startRev int64
	prevKV   bool
	noPut    bool
	noDelete bool
	fragment bool
	progress bool // progress_notify was asked

	// Guarded by Hub.mu.
	state state
	// next is the first revision this watcher has not been given. A synced
	// watcher has been given everything through max(next-1, Hub.last).
	next int64
	// quiet is set when no events were queued since the last progress tick
	// (etcd elides the periodic notification after events).
	quiet bool
}

func (w *watcher) matches(key []byte) bool { return w.rng.Contains(key) }

// response builds the response carrying evs to this watcher, after its
// filters and prev_kv choice; ok is false when the filters leave nothing.
func (w *watcher) response(evs []*event, headerRev int64) (it item, n int, ok bool) {
	out := make([]*mvccpb.Event, 0, len(evs))
	size := 64
	for _, e := range evs {
		if (w.noPut && e.plain.Type == mvccpb.Event_PUT) || (w.noDelete && e.plain.Type == mvccpb.Event_DELETE) {
			continue
		}
		if w.prevKV {
			out = append(out, e.withPrev)
		} else {
			out = append(out, e.plain)
		}
		size += e.size
	}
	if len(out) == 0 {
		return item{}, 0, false
	}
	resp := &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: headerRev}, WatchId: w.id, Events: out}
	return item{resp: resp, fragment: w.fragment, size: size, events: len(out)}, len(out), true
}

// watcherSet indexes watchers by key for the fan-out.
type watcherSet struct {
	keys   map[string]map[*watcher]struct{}
	ranges map[*watcher]struct{}
	n      int
}

func newWatcherSet() *watcherSet {
	return &watcherSet{keys: map[string]map[*watcher]struct{}{}, ranges: map[*watcher]struct{}{}}
}

func (ws *watcherSet) add(w *watcher) {
	ws.n++
	if !w.single {
		ws.ranges[w] = struct{}{}
		return
	}
	k := string(w.rng.Start)
	m := ws.keys[k]
	if m == nil {
		m = map[*watcher]struct{}{}
		ws.keys[k] = m
	}
	m[w] = struct{}{}
}

func (ws *watcherSet) remove(w *watcher) {
	ws.n--
	if !w.single {
		delete(ws.ranges, w)
		return
	}
	k := string(w.rng.Start)
	delete(ws.keys[k], w)
	if len(ws.keys[k]) == 0 {
		delete(ws.keys, k)
	}
}

// each calls fn for every watcher whose range holds key.
func (ws *watcherSet) each(key []byte, fn func(*watcher)) {
	for w := range ws.keys[string(key)] {
		fn(w)
	}
	for w := range ws.ranges {
		if w.matches(key) {
			fn(w)
		}
	}
}
