package watchpoll_test

import (
	"context"
	"fmt"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// TestReplayOfMultiKeyRevisionsLosesNothing replays a backlog of Txns that
// each change 10 keys through reads of 64 rows (the fixture's BatchRows): a
// read is cut at a revision boundary short of its limit, and the watcher
// must go on from where it was cut, not from the snapshot's revision.
func TestReplayOfMultiKeyRevisionsLosesNothing(t *testing.T) {
	f := newFixture(t, 1024)
	ctx := context.Background()
	const txns, keys = 40, 10
	start := f.put(t, "other", "x") + 1
	for i := range txns {
		var ops []*pb.RequestOp
		for k := range keys {
			ops = append(ops, &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{
				Key: fmt.Appendf(nil, "b/%02d", k), Value: fmt.Appendf(nil, "%d", i)}}})
		}
		if _, err := f.store.Txn(ctx, &pb.TxnRequest{Success: ops}); err != nil {
			t.Fatal(err)
		}
	}
	s := f.hub.NewStream()
	defer s.Close()
	create(t, s, &pb.WatchCreateRequest{Key: []byte("b/"), RangeEnd: []byte("b0"), StartRevision: start})
	want := start
	for want < start+txns {
		resp := next(t, s)
		for i, ev := range resp.Events {
			if rev := ev.Kv.ModRevision; rev != want+int64(i/keys) {
				t.Fatalf("event %d of a response: revision %d, want %d", i, rev, want+int64(i/keys))
			}
		}
		if len(resp.Events)%keys != 0 {
			t.Fatalf("a response split a revision: %d events", len(resp.Events))
		}
		want += int64(len(resp.Events) / keys)
	}
}
