package diff

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// WatchWait bounds how long a watch test waits for one expected response.
const WatchWait = 10 * time.Second

// WatchSettle is how long ExpectAll waits for etcd's next response before
// taking its answer as complete. etcd replays history every 100 ms.
const WatchSettle = 250 * time.Millisecond

// watchSide is one open Watch stream and the responses read from it.
type watchSide struct {
	name   string
	stream pb.Watch_WatchClient
	resps  chan *pb.WatchResponse
	errc   chan error
}

// WatchPair is one Watch stream on each server, driven in lockstep.
type WatchPair struct {
	Etcd, Strata *watchSide
}

// OpenWatch opens a Watch stream on both servers, with etcd's
// require-leader metadata when requireLeader is set. The streams close at
// the end of the test.
func (p *Pair) OpenWatch(t testing.TB, requireLeader bool) *WatchPair {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if requireLeader {
		ctx = metadata.AppendToOutgoingContext(ctx, rpctypes.MetadataRequireLeaderKey, rpctypes.MetadataHasLeader)
	}
	open := func(s *Side) *watchSide {
		st, err := s.Watch.Watch(ctx)
		if err != nil {
			t.Fatalf("%s: open watch stream: %v", s.Name, err)
		}
		ws := &watchSide{name: s.Name, stream: st, resps: make(chan *pb.WatchResponse, 1<<16), errc: make(chan error, 1)}
		go func() {
			for {
				r, err := st.Recv()
				if err != nil {
					ws.errc <- err
					return
				}
				ws.resps <- r
			}
		}()
		return ws
	}
	return &WatchPair{Etcd: open(p.Etcd), Strata: open(p.Strata)}
}

// Send sends r on both streams.
func (w *WatchPair) Send(t testing.TB, r *pb.WatchRequest) {
	t.Helper()
	for _, s := range []*watchSide{w.Etcd, w.Strata} {
		if err := s.stream.Send(r); err != nil {
			t.Fatalf("%s: send %v: %v", s.name, r, err)
		}
	}
}

// Create, Cancel and Progress send one request of that kind on both sides.
func (w *WatchPair) Create(t testing.TB, r *pb.WatchCreateRequest) {
	t.Helper()
	w.Send(t, &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: r}})
}

func (w *WatchPair) Cancel(t testing.TB, id int64) {
	t.Helper()
	w.Send(t, &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CancelRequest{CancelRequest: &pb.WatchCancelRequest{WatchId: id}}})
}

func (w *WatchPair) Progress(t testing.TB) {
	t.Helper()
	w.Send(t, &pb.WatchRequest{RequestUnion: &pb.WatchRequest_ProgressRequest{ProgressRequest: &pb.WatchProgressRequest{}}})
}

// recv reads n responses from s.
func (s *watchSide) recv(t testing.TB, what string, n int) []*pb.WatchResponse {
	t.Helper()
	out := make([]*pb.WatchResponse, 0, n)
	timeout := time.NewTimer(WatchWait)
	defer timeout.Stop()
	for len(out) < n {
		select {
		case r := <-s.resps:
			out = append(out, r)
		case err := <-s.errc:
			t.Fatalf("%s: %s: stream ended after %d of %d responses: %v", s.name, what, len(out), n, err)
		case <-timeout.C:
			t.Fatalf("%s: %s: got %d of %d responses in %v: %v", s.name, what, len(out), n, WatchWait, out)
		}
	}
	return out
}

// Expect reads n responses from each side and reports any difference.
// Responses of different watches on one stream may interleave in any
// order (etcd fans out in map order), so each side's responses are
// compared per watch ID, in the order they arrived. It returns etcd's.
func (w *WatchPair) Expect(t testing.TB, what string, n int) []*pb.WatchResponse {
	t.Helper()
	e := w.Etcd.recv(t, what, n)
	s := w.Strata.recv(t, what, n)
	w.compare(t, what, e, s)
	return e
}

func (w *WatchPair) compare(t testing.TB, what string, e, s []*pb.WatchResponse) {
	t.Helper()
	n := len(e)
	byID := func(rs []*pb.WatchResponse) []*pb.WatchResponse {
		out := slices.Clone(rs)
		slices.SortStableFunc(out, func(a, b *pb.WatchResponse) int { return int(a.WatchId - b.WatchId) })
		return out
	}
	es, ss := byID(e), byID(s)
	for i := range es {
		if proto.Size(es[i]) > bigResponse || proto.Size(ss[i]) > bigResponse {
			// cmp.Diff of megabytes of values takes minutes: summarise.
			if !proto.Equal(Normalize(es[i]), Normalize(ss[i])) {
				t.Errorf("%s: response %d of %d: %s vs %s: large responses differ:\n  etcd:   %s\n  strata: %s",
					what, i+1, n, w.Etcd.name, w.Strata.name, summarize(es[i]), summarize(ss[i]))
			}
			continue
		}
		if d := Mismatch(Result{Resp: es[i]}, Result{Resp: ss[i]}); d != "" {
			t.Errorf("%s: response %d of %d: %s vs %s: %s", what, i+1, n, w.Etcd.name, w.Strata.name, d)
		}
	}
}

// ExpectAll reads etcd's responses until it is quiet for WatchSettle, then
// as many from Strata, and compares them as Expect does.
func (w *WatchPair) ExpectAll(t testing.TB, what string) []*pb.WatchResponse {
	t.Helper()
	var e []*pb.WatchResponse
	for {
		select {
		case r := <-w.Etcd.resps:
			e = append(e, r)
			continue
		case err := <-w.Etcd.errc:
			t.Fatalf("%s: %s: stream ended: %v", w.Etcd.name, what, err)
		case <-time.After(WatchSettle):
		}
		break
	}
	s := w.Strata.recv(t, what, len(e))
	w.compare(t, what, e, s)
	return e
}

// ExpectQuiet checks that neither side sends anything within d. It can
// only catch a response that comes early enough; use it after the
// operations whose answers are awaited.
func (w *WatchPair) ExpectQuiet(t testing.TB, what string, d time.Duration) {
	t.Helper()
	time.Sleep(d)
	for _, s := range []*watchSide{w.Etcd, w.Strata} {
		select {
		case r := <-s.resps:
			t.Errorf("%s: %s sent an unexpected response: %v", what, s.name, r)
		default:
		}
	}
}

// WatchReq is shorthand for a create request.
func WatchReq(key, end string, start int64, opts ...func(*pb.WatchCreateRequest)) *pb.WatchCreateRequest {
	r := &pb.WatchCreateRequest{Key: []byte(key), StartRevision: start}
	if end != "" {
		r.RangeEnd = []byte(end)
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Watch options for WatchReq.
func WithID(id int64) func(*pb.WatchCreateRequest) {
	return func(r *pb.WatchCreateRequest) { r.WatchId = id }
}

func WithPrevKV(r *pb.WatchCreateRequest)   { r.PrevKv = true }
func WithFragment(r *pb.WatchCreateRequest) { r.Fragment = true }
func WithProgress(r *pb.WatchCreateRequest) { r.ProgressNotify = true }
func WithNoPut(r *pb.WatchCreateRequest)    { r.Filters = append(r.Filters, pb.WatchCreateRequest_NOPUT) }
func WithNoDelete(r *pb.WatchCreateRequest) {
	r.Filters = append(r.Filters, pb.WatchCreateRequest_NODELETE)
}

// String describes a watch side for messages.
func (s *watchSide) String() string { return fmt.Sprintf("watch stream on %s", s.name) }

// bigResponse is the size above which a mismatch is summarised.
const bigResponse = 64 << 10

// summarize describes a watch response without its values.
func summarize(r *pb.WatchResponse) string {
	out := fmt.Sprintf("watch_id=%d rev=%d created=%v canceled=%v compact=%d fragment=%v reason=%q events=[",
		r.WatchId, r.GetHeader().GetRevision(), r.Created, r.Canceled, r.CompactRevision, r.Fragment, r.CancelReason)
	for _, e := range r.Events {
		out += fmt.Sprintf(" %s %q@%d len=%d prev=%v", e.Type, e.Kv.Key, e.Kv.ModRevision, len(e.Kv.Value), e.PrevKv != nil)
	}
	return out + " ]"
}
