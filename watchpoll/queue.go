package watchpoll

import (
	"context"
	"sync"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// respOverhead approximates a response's encoded size without its events,
// for the queue's byte budget.
const respOverhead = 64

// item is one response waiting to be sent: a control response, or events
// built into a response only when it is taken, out of Hub.mu.
type item struct {
	resp *pb.WatchResponse // a control response; nil for events
	// The events' response: watch ID, header revision and payload.
	watchID, rev int64
	p            *payload
	fragment     bool // the watch asked for fragmented responses
	size         int
	events       int // events in the response, for the pending-events gauge
}

// response is the response to send. Events go pre-encoded, as the
// response's unknown fields, unless the watch may need them split: a
// response so sent has empty Events and the same wire bytes.
func (it item) response() *pb.WatchResponse {
	if it.resp != nil {
		return it.resp
	}
	r := &respAlloc{}
	r.resp.Header, r.resp.WatchId = &r.hdr, it.watchID
	r.hdr.Revision = it.rev
	if it.fragment || it.p.wire == nil {
		r.resp.Events = it.p.events
	} else {
		r.resp.ProtoReflect().SetUnknown(it.p.wire)
	}
	return &r.resp
}

// respAlloc puts a response and its header in one allocation.
type respAlloc struct {
	resp pb.WatchResponse
	hdr  pb.ResponseHeader
}

// queue is the bounded FIFO of one stream's outgoing responses. The hub
// pushes events without ever waiting (tryPush); control responses wait for
// room (pushCtrl). It has its own lock, taken after Hub.mu when both are
// held.
type queue struct {
	maxLen, maxBytes int
	onRoom           func()           // called, without locks, when a starved queue drains
	onDrop           func(events int) // called with the events dropped by close

	mu      sync.Mutex
	items   []item // guarded by mu; items[head:] are waiting
	head    int    // guarded by mu
	bytes   int    // guarded by mu
	closed  bool   // guarded by mu
	starved bool   // guarded by mu: a push failed since the last drain

	ready chan struct{} // signalled when an item is pushed
	room  chan struct{} // signalled when an item is popped
	done  chan struct{} // closed by close
}

func newQueue(maxLen, maxBytes int, onRoom func(), onDrop func(int)) *queue {
	return &queue{
		maxLen: maxLen, maxBytes: maxBytes, onRoom: onRoom, onDrop: onDrop,
		ready: make(chan struct{}, 1),
		room:  make(chan struct{}, 1),
		done:  make(chan struct{}),
	}
}

func (q *queue) lenLocked() int { return len(q.items) - q.head }

// hasRoom reports whether tryPush would accept a small item now.
func (q *queue) hasRoom() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return !q.closed && q.lenLocked() < q.maxLen && q.bytes < q.maxBytes
}

// tryPush appends it unless the queue is full; an empty queue takes any
// item, however large. A refused push marks the queue starved.
func (q *queue) tryPush(it item) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		if q.onDrop != nil {
			q.onDrop(it.events)
		}
		return true // nobody will read it; the stream is going away
	}
	n := q.lenLocked()
	if n > 0 && (n >= q.maxLen || q.bytes+it.size > q.maxBytes) {
		q.starved = true
		return false
	}
	q.appendLocked(it)
	return true
}

// pushCtrl appends a control response, waiting while the queue holds more
// than maxLen+ctrlReserve items.
func (q *queue) pushCtrl(ctx context.Context, it item) error {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return ErrClosed
		}
		if q.lenLocked() < q.maxLen+ctrlReserve {
			q.appendLocked(it)
			q.mu.Unlock()
			return nil
		}
		q.mu.Unlock()
		select {
		case <-q.room:
		case <-q.done:
			return ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (q *queue) appendLocked(it item) {
	q.items = append(q.items, it)
	q.bytes += it.size
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// pop waits for the next item.
func (q *queue) pop(ctx context.Context) (item, error) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return item{}, ErrClosed
		}
		if q.lenLocked() > 0 {
			it, kick := q.popLocked()
			q.mu.Unlock()
			select {
			case q.room <- struct{}{}:
			default:
			}
			if kick && q.onRoom != nil {
				q.onRoom()
			}
			return it, nil
		}
		q.mu.Unlock()
		select {
		case <-q.ready:
		case <-q.done:
			return item{}, ErrClosed
		case <-ctx.Done():
			return item{}, ctx.Err()
		}
	}
}

// popLocked removes the head; kick reports that a starved queue has
// drained to half and the slow watchers should be retried.
func (q *queue) popLocked() (it item, kick bool) {
	it = q.items[q.head]
	q.items[q.head] = item{}
	q.head++
	q.bytes -= it.size
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	} else if q.head > 1024 && q.head > len(q.items)/2 {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	if q.starved && q.lenLocked() <= q.maxLen/2 && q.bytes <= q.maxBytes/2 {
		q.starved = false
		kick = true
	}
	return it, kick
}

// close drops what is queued and wakes every waiter.
func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.closed = true
	dropped := 0
	for _, it := range q.items[q.head:] {
		dropped += it.events
	}
	if dropped > 0 && q.onDrop != nil {
		q.onDrop(dropped)
	}
	q.items, q.head, q.bytes = nil, 0, 0
	close(q.done)
}
