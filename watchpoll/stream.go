package watchpoll

import (
	"bytes"
	"context"
	"math/rand/v2"
	"sync"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/kv"
)

// ctrlSize is the queue size charged for a control response.
const ctrlSize = 64

// Stream is the server side of one etcd Watch stream: the watches it holds
// and the ordered queue of responses to send. Handle is called from one
// goroutine (the stream's receive loop), Next from one other (its send
// loop); Close from either.
type Stream struct {
	h *Hub
	q *queue

	// mu guards ids and nextID. Taken after Hub.mu when both are held.
	mu     sync.Mutex
	ids    map[int64]*watcher // every watch ID in use, compacted ones too
	nextID int64

	// Guarded by Hub.mu.
	closed       bool
	progressWant int       // progress requests not yet answered
	progressAt   int64     // revision their answer must reach
	nextTick     time.Time // next periodic progress notification
}

// NewStream opens a stream. On a closed hub the stream is closed already.
func (h *Hub) NewStream() *Stream {
	s := &Stream{h: h, ids: map[int64]*watcher{}}
	s.q = newQueue(h.cfg.QueueLen, h.cfg.QueueBytes, func() { kick(h.kickSync) },
		func(n int) { h.m.pending.Sub(float64(n)) })
	iv := h.cfg.ProgressNotifyInterval
	// etcd jitters each stream's progress period by up to a tenth.
	s.nextTick = time.Now().Add(iv + time.Duration(rand.Int64N(int64(iv)/10+1)))
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		s.closed = true
		s.q.close()
		return s
	}
	h.streams[s] = struct{}{}
	h.m.streams.Inc()
	return s
}

// Next waits for the next response to send. fragment reports that the
// watch asked for large responses to be split. Unless it did, the events
// of resp may be pre-encoded: resp.Events is empty and its unknown fields
// hold them, so that proto.Marshal(resp) gives the bytes etcd would send.
// Decode the marshalled response to read them.
func (s *Stream) Next(ctx context.Context) (resp *pb.WatchResponse, fragment bool, err error) {
	it, err := s.q.pop(ctx)
	if err != nil {
		return nil, false, err
	}
	if it.events > 0 {
		s.h.m.pending.Sub(float64(it.events))
	}
	return it.response(), it.fragment, nil
}

// Close cancels every watch of the stream and drops what is queued.
func (s *Stream) Close() {
	h := s.h
	h.mu.Lock()
	if s.closed {
		h.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Lock()
	for _, w := range s.ids {
		h.removeLocked(w)
	}
	s.mu.Unlock()
	delete(h.streams, s)
	delete(h.waiting, s)
	h.m.streams.Dec()
	h.mu.Unlock()
	s.q.close()
}

// Handle acts on one client request; its responses come out of Next. It
// returns an error only when the stream cannot go on.
func (s *Stream) Handle(ctx context.Context, r *pb.WatchRequest) error {
	switch u := r.RequestUnion.(type) {
	case *pb.WatchRequest_CreateRequest:
		if u.CreateRequest != nil {
			return s.create(ctx, u.CreateRequest)
		}
	case *pb.WatchRequest_CancelRequest:
		if u.CancelRequest != nil {
			return s.cancel(ctx, u.CancelRequest.WatchId)
		}
	case *pb.WatchRequest_ProgressRequest:
		if u.ProgressRequest != nil {
			return s.requestProgress(ctx)
		}
	}
	return nil // etcd ignores what it does not know
}

func (s *Stream) ctrl(ctx context.Context, resp *pb.WatchResponse) error {
	return s.q.pushCtrl(ctx, item{resp: resp, size: ctrlSize})
}

// create answers a WatchCreateRequest as etcd does: a created response
// (with watch ID -1 and a cancel reason when the request is refused), then
// the events.
func (s *Stream) create(ctx context.Context, r *pb.WatchCreateRequest) error {
	cur, _, err := s.h.revisions(ctx)
	if err != nil {
		return err
	}
	refuse := func(reason string) error {
		return s.ctrl(ctx, &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: cur},
			WatchId: -1, Created: true, Canceled: true, CancelReason: reason})
	}
	if r.StartRevision < 0 {
		return refuse(reasonCompacted)
	}
	w, ok := newWatcher(s, r)
	if !ok {
		return refuse(reasonEmptyRange)
	}
	if !s.assignID(w, r.WatchId) {
		return refuse(reasonDuplicateID)
	}
	err = s.ctrl(ctx, &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: cur}, WatchId: w.id, Created: true})
	if err != nil {
		return err
	}
	w.next = r.StartRevision
	if w.next == 0 {
		w.next = cur + 1
	}
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	w.quiet = true
	h.registerLocked(w)
	if s.progressWant > 0 {
		h.answerProgressLocked()
	}
	return nil
}

// newWatcher turns the request's key and range_end into a watcher as
// etcd's watch server does: an empty key is "\x00", an empty range_end a
// single key, "\x00" every key from key on. ok is false for an empty range.
func newWatcher(s *Stream, r *pb.WatchCreateRequest) (w *watcher, ok bool) {
	key := r.Key
	if len(key) == 0 {
		key = []byte{0}
	}
	w = &watcher{s: s, startRev: r.StartRevision, prevKV: r.PrevKv, fragment: r.Fragment, progress: r.ProgressNotify}
	switch {
	case len(r.RangeEnd) == 0:
		w.rng, w.single = kv.SingleKey(key), true
	case len(r.RangeEnd) == 1 && r.RangeEnd[0] == 0:
		w.rng = kv.Range{Start: key}
	default:
		if bytes.Compare(key, r.RangeEnd) >= 0 {
			return nil, false
		}
		w.rng = kv.Range{Start: key, End: r.RangeEnd}
	}
	for _, f := range r.Filters {
		switch f {
		case pb.WatchCreateRequest_NOPUT:
			w.noPut = true
		case pb.WatchCreateRequest_NODELETE:
			w.noDelete = true
		}
	}
	return w, true
}

// assignID gives w the client's ID, or the stream's next free one for 0
// (etcd's AutoWatchID). It fails if the client's ID is in use.
func (s *Stream) assignID(w *watcher, id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == 0 {
		for s.ids[s.nextID] != nil {
			s.nextID++
		}
		id = s.nextID
		s.nextID++
	} else if s.ids[id] != nil {
		return false
	}
	w.id = id
	s.ids[id] = w
	return true
}

// cancel removes a watch and confirms it; an unknown ID gets no answer, as
// in etcd.
func (s *Stream) cancel(ctx context.Context, id int64) error {
	s.mu.Lock()
	w, ok := s.ids[id]
	delete(s.ids, id)
	s.mu.Unlock()
	if !ok {
		return nil
	}
	s.h.mu.Lock()
	s.h.removeLocked(w)
	s.h.mu.Unlock()
	cur, _, err := s.h.revisions(ctx)
	if err != nil {
		return err
	}
	return s.ctrl(ctx, &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: cur}, WatchId: id, Canceled: true})
}

// requestProgress answers a WatchProgressRequest with watch ID -1 and a
// revision R once every event through R, R at least the current revision
// now, has been queued on this stream for all of its watches. etcd drops
// the request when a watch is not synced at that instant; Strata answers it
// as soon as they are. Like etcd, a stream without watches gets no answer.
func (s *Stream) requestProgress(ctx context.Context) error {
	cur, _, err := s.h.revisions(ctx)
	if err != nil {
		return err
	}
	h := s.h
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.closed || !s.hasLiveLocked() {
		return nil
	}
	s.progressWant++
	s.progressAt = max(s.progressAt, cur)
	h.waiting[s] = struct{}{}
	h.answerProgressLocked()
	if s.progressWant > 0 {
		kick(h.kickPoll)
	}
	return nil
}

// hasLiveLocked reports whether a watch of s is still delivering. Called
// with Hub.mu held.
func (s *Stream) hasLiveLocked() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.ids {
		if w.state != stateDone {
			return true
		}
	}
	return false
}
