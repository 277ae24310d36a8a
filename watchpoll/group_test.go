package watchpoll_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/watchpoll"
)

// TestSharedPayloadsMatchPerWatcher runs watchers of one range with every
// shape (prev_kv, NOPUT, NODELETE) on two streams: one read as the writes
// happen, one stalled behind a queue of 4 so its watchers go slow and catch
// up from the log, sharing payloads. Both streams must give each shape the
// same events, every revision once and in order, filtered as asked.
func TestSharedPayloadsMatchPerWatcher(t *testing.T) {
	f := newFixture(t, 4)
	ctx := context.Background()
	var shapes []*pb.WatchCreateRequest
	for s := range 8 {
		r := &pb.WatchCreateRequest{Key: []byte("k/"), RangeEnd: []byte("k0"), PrevKv: s&1 != 0}
		if s&2 != 0 {
			r.Filters = append(r.Filters, pb.WatchCreateRequest_NOPUT)
		}
		if s&4 != 0 {
			r.Filters = append(r.Filters, pb.WatchCreateRequest_NODELETE)
		}
		shapes = append(shapes, r)
	}
	live, stalled := f.hub.NewStream(), f.hub.NewStream()
	ids := map[*pb.WatchCreateRequest][2]int64{}
	for _, r := range shapes {
		ids[r] = [2]int64{create(t, live, r).WatchId, create(t, stalled, r).WatchId}
	}
	first := f.put(t, "other", "x") + 1
	const steps = 40
	want := func(side int) map[int64][]string {
		w := map[int64][]string{}
		for _, r := range shapes {
			w[ids[r][side]] = expected(first, steps, r)
		}
		return w
	}
	type result struct {
		got map[int64][]string
		err error
	}
	liveGot := make(chan result, 1)
	go func() {
		got, err := read(live, want(0))
		liveGot <- result{got, err}
	}()
	for i := range steps {
		ops := []*pb.RequestOp{
			{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: fmt.Appendf(nil, "k/%d", i%3), Value: fmt.Appendf(nil, "%d", i)}}},
			{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: fmt.Appendf(nil, "k/x%d", i), Value: []byte("v")}}},
		}
		if i%4 == 3 {
			ops = append(ops, &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{
				Key: fmt.Appendf(nil, "k/x%d", i-1)}}})
		}
		if _, err := f.store.Txn(ctx, &pb.TxnRequest{Success: ops}); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(waitFor); f.gauge(t, "etcd_debugging_mvcc_slow_watcher_total") == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the stalled stream's watchers never went slow")
		}
		time.Sleep(10 * time.Millisecond)
	}
	lr := <-liveGot
	if lr.err != nil {
		t.Fatal("live stream:", lr.err)
	}
	sg, err := read(stalled, want(1))
	if err != nil {
		t.Fatal("stalled stream:", err)
	}
	got := [2]map[int64][]string{lr.got, sg}
	for side := range got {
		for si, r := range shapes {
			id := ids[r][side]
			if w := expected(first, steps, r); fmt.Sprint(got[side][id]) != fmt.Sprint(w) {
				t.Errorf("stream %d, shape %d: got\n%v\nwant\n%v", side, si, got[side][id], w)
			}
		}
	}
}

// expected is what a watch of shape r gets from the test's writes.
func expected(first int64, steps int, r *pb.WatchCreateRequest) []string {
	noPut, noDel := false, false
	for _, f := range r.Filters {
		noPut = noPut || f == pb.WatchCreateRequest_NOPUT
		noDel = noDel || f == pb.WatchCreateRequest_NODELETE
	}
	var out []string
	ev := func(rev int64, typ mvccpb.Event_EventType, key, prev string) {
		if (typ == mvccpb.PUT && noPut) || (typ == mvccpb.DELETE && noDel) {
			return
		}
		if !r.PrevKv {
			prev = "-"
		}
		out = append(out, fmt.Sprintf("%d %s %s %s", rev, typ, key, prev))
	}
	for i := range steps {
		rev := first + int64(i)
		prev := "-"
		if i >= 3 {
			prev = fmt.Sprint(i - 3)
		}
		ev(rev, mvccpb.PUT, fmt.Sprintf("k/%d", i%3), prev)
		ev(rev, mvccpb.PUT, fmt.Sprintf("k/x%d", i), "-")
		if i%4 == 3 {
			ev(rev, mvccpb.DELETE, fmt.Sprintf("k/x%d", i-1), "v")
		}
	}
	return out
}

// read collects each watch's events as "rev type key prev" until each has
// as many as want says. It may run on any goroutine.
func read(s *watchpoll.Stream, want map[int64][]string) (map[int64][]string, error) {
	out := map[int64][]string{}
	short := func() bool {
		for id, w := range want {
			if len(out[id]) < len(w) {
				return true
			}
		}
		return false
	}
	for short() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		r, _, err := s.Next(ctx)
		cancel()
		if err != nil {
			return out, fmt.Errorf("after %v: %w", out, err)
		}
		var resp pb.WatchResponse // as a client decodes it
		b, err := proto.Marshal(r)
		if err == nil {
			err = proto.Unmarshal(b, &resp)
		}
		if err != nil {
			return out, err
		}
		for _, e := range resp.Events {
			prev := "-"
			if e.PrevKv != nil {
				prev = string(e.PrevKv.Value)
			}
			out[resp.WatchId] = append(out[resp.WatchId], fmt.Sprintf("%d %s %s %s", e.Kv.ModRevision, e.Type, e.Kv.Key, prev))
		}
	}
	return out, nil
}
