package watchpoll

import (
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
	// g and slot place a synced watcher in its group: g.ws[slot] == w.
	g    *group
	slot int
}

func (w *watcher) matches(key []byte) bool { return w.rng.Contains(key) }

// keeps reports whether w's filters let e through.
func (w *watcher) keeps(e *event) bool {
	return !(w.noPut && e.plain.Type == mvccpb.Event_PUT) && !(w.noDelete && e.plain.Type == mvccpb.Event_DELETE)
}

// shape says what w makes of a list of events: its filters and prev_kv.
// Watchers of one range with the same shape get the same payload.
func (w *watcher) shape() int {
	s := 0
	if w.prevKV {
		s |= 1
	}
	if w.noPut {
		s |= 2
	}
	if w.noDelete {
		s |= 4
	}
	return s
}

// shapes is the number of distinct watcher shapes.
const shapes = 8

// payload builds what w is sent of evs, after its filters and prev_kv
// choice; nil when the filters leave nothing. Called with Hub.mu held.
func (w *watcher) payload(evs []*event) *payload {
	if len(evs) == 1 {
		if !w.keeps(evs[0]) {
			return nil
		}
		return evs[0].payloadAlone(w.prevKV)
	}
	kept := evs
	if w.noPut || w.noDelete {
		kept = make([]*event, 0, len(evs))
		for _, e := range evs {
			if w.keeps(e) {
				kept = append(kept, e)
			}
		}
	}
	if len(kept) == 0 {
		return nil
	}
	return joinPayloads(kept, w.prevKV)
}

// item is w's response carrying p at header revision headerRev.
func (w *watcher) item(p *payload, headerRev int64) item {
	return item{watchID: w.id, rev: headerRev, p: p, fragment: w.fragment,
		size: respOverhead + p.size, events: len(p.events)}
}

// group is the synced watchers of one key range: an event matches all of
// them or none, so the fan-out tests each range once.
type group struct {
	rng kv.Range
	ws  []*watcher
}

// rangeID identifies a range watchers can share.
type rangeID struct {
	start, end string
	open       bool // no upper bound
}

// watcherSet indexes the synced watchers by range for the fan-out.
type watcherSet struct {
	keys   map[string]*group  // single-key watches, by key
	ranges map[rangeID]*group // the other watches, by range
	n      int
}

func newWatcherSet() *watcherSet {
	return &watcherSet{keys: map[string]*group{}, ranges: map[rangeID]*group{}}
}

func (ws *watcherSet) add(w *watcher) {
	ws.n++
	var g *group
	if w.single {
		k := string(w.rng.Start)
		if g = ws.keys[k]; g == nil {
			g = &group{rng: w.rng}
			ws.keys[k] = g
		}
	} else {
		id := w.rangeID()
		if g = ws.ranges[id]; g == nil {
			g = &group{rng: w.rng}
			ws.ranges[id] = g
		}
	}
	w.g, w.slot = g, len(g.ws)
	g.ws = append(g.ws, w)
}

// remove takes w out of its group by moving the group's last watcher into
// its slot: a walk of g.ws from the end may remove the watcher it is on.
func (ws *watcherSet) remove(w *watcher) {
	ws.n--
	g := w.g
	last := len(g.ws) - 1
	g.ws[w.slot] = g.ws[last]
	g.ws[w.slot].slot = w.slot
	g.ws[last] = nil
	g.ws = g.ws[:last]
	w.g = nil
	if len(g.ws) > 0 {
		return
	}
	if w.single {
		delete(ws.keys, string(w.rng.Start))
	} else {
		delete(ws.ranges, w.rangeID())
	}
}

func (w *watcher) rangeID() rangeID {
	return rangeID{start: string(w.rng.Start), end: string(w.rng.End), open: w.rng.End == nil}
}

// match appends to m, for every group holding some of evs, the events it
// holds, in their order.
func (ws *watcherSet) match(evs []*event, m map[*group][]*event) {
	for _, e := range evs {
		if g := ws.keys[string(e.key)]; g != nil {
			m[g] = append(m[g], e)
		}
	}
	for _, g := range ws.ranges {
		for _, e := range evs {
			if g.rng.Contains(e.key) {
				m[g] = append(m[g], e)
			}
		}
	}
}

// each calls fn for every watcher in the set.
func (ws *watcherSet) each(fn func(*watcher)) {
	for _, g := range ws.keys {
		for _, w := range g.ws {
			fn(w)
		}
	}
	for _, g := range ws.ranges {
		for _, w := range g.ws {
			fn(w)
		}
	}
}
