package diff

import (
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// quiet is how long the watch tests listen for responses that must not
// come.
const quiet = 300 * time.Millisecond

func put(k, v string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte(k), Value: []byte(v)}}}
}

func del(k, end string) *pb.RequestOp {
	r := &pb.DeleteRangeRequest{Key: []byte(k)}
	if end != "" {
		r.RangeEnd = []byte(end)
	}
	return &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: r}}
}

func TestWatchCreateCancel(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		p.Apply(t, SampleData...)
		w := p.OpenWatch(t, false)
		w.Create(t, WatchReq("a", "", 0))
		w.Expect(t, "auto ID 0", 1)
		w.Create(t, WatchReq("a", "", 0, WithID(2)))
		w.Expect(t, "client ID 2", 1)
		w.Create(t, WatchReq("a", "", 0))
		w.Expect(t, "auto ID 1", 1)
		w.Create(t, WatchReq("a", "", 0))
		w.Expect(t, "auto ID skips 2", 1)
		w.Create(t, WatchReq("b", "", 0, WithID(2)))
		w.Expect(t, "duplicate client ID", 1)
		w.Create(t, WatchReq("b", "a", 0))
		w.Expect(t, "empty range", 1)
		w.Create(t, WatchReq("b", "b", 0))
		w.Expect(t, "key equal to range end", 1)
		w.Create(t, WatchReq("a", "", -1))
		w.Expect(t, "negative start revision", 1)
		w.Create(t, WatchReq("", "", 0))
		w.Expect(t, "empty key", 1)
		w.Cancel(t, 1)
		w.Expect(t, "cancel 1", 1)
		w.Cancel(t, 99)
		w.Cancel(t, 1)
		w.ExpectQuiet(t, "cancel unknown and twice", quiet)
		w.Create(t, WatchReq("a", "", 0))
		w.Expect(t, "auto ID after cancel", 1)
		p.MustPut(t, "a", "after")
		w.Expect(t, "one event per live watch on a", 4)
		w.Cancel(t, 2)
		w.Expect(t, "cancel client ID", 1)
		p.MustPut(t, "a", "again")
		w.Expect(t, "cancelled watch gets nothing", 3)
		w.ExpectQuiet(t, "end", quiet)
	})
}

func TestWatchLiveKinds(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		p.Apply(t, SampleData...)
		w := p.OpenWatch(t, false)
		creates := []*pb.WatchCreateRequest{
			WatchReq("foo", "", 0),                            // 0 key
			WatchReq("foo", "foo0", 0, WithPrevKV),            // 1 range: foo and foo/...
			WatchReq("foo/", "foo0", 0, WithPrevKV),           // 2 prefix foo/
			WatchReq("foo", "\x00", 0),                        // 3 from key
			WatchReq("\x00", "\x00", 0, WithPrevKV),           // 4 everything
			WatchReq("foo", "\x00", 0, WithNoPut, WithPrevKV), // 5 deletes only
			WatchReq("foo", "\x00", 0, WithNoDelete),          // 6 puts only
			WatchReq("", "\x00", 0, WithNoPut, WithNoDelete),  // 7 nothing
		}
		for _, c := range creates {
			w.Create(t, c)
		}
		w.Expect(t, "created", len(creates))
		steps := []struct {
			name string
			txn  *pb.TxnRequest
		}{
			{"put foo", &pb.TxnRequest{Success: []*pb.RequestOp{put("foo", "1")}}},
			{"put foo/3", &pb.TxnRequest{Success: []*pb.RequestOp{put("foo/3", "1")}}},
			{"put a (before foo)", &pb.TxnRequest{Success: []*pb.RequestOp{put("a", "1")}}},
			{"txn in reverse key order", &pb.TxnRequest{Success: []*pb.RequestOp{put("zz", "2"), put("foo/2", "2"), put("foo", "2"), put("b", "2")}}},
			{"delete range foo/..", &pb.TxnRequest{Success: []*pb.RequestOp{del("foo/", "foo0")}}},
			{"delete missing", &pb.TxnRequest{Success: []*pb.RequestOp{del("nope", "")}}},
			{"delete foo and put foo0", &pb.TxnRequest{Success: []*pb.RequestOp{del("foo", ""), put("foo0", "3")}}},
			{"recreate foo", &pb.TxnRequest{Success: []*pb.RequestOp{put("foo", "new")}}},
		}
		for _, s := range steps {
			p.Txn(t, s.txn)
			w.ExpectAll(t, s.name)
		}
		p.DeleteRange(t, &pb.DeleteRangeRequest{Key: []byte("\x00"), RangeEnd: []byte("\x00")})
		w.ExpectAll(t, "delete everything")
		w.ExpectQuiet(t, "end", quiet)
	})
}

func TestWatchHistory(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		rev := p.Apply(t, SampleData...)
		w := p.OpenWatch(t, false)
		w.Create(t, WatchReq("\x00", "\x00", 1, WithPrevKV))
		w.Expect(t, "all history: created, replay", 2)
		w.Create(t, WatchReq("a", "", 9, WithPrevKV))
		w.Expect(t, "key history from 9", 2)
		w.Create(t, WatchReq("c", "", rev))
		w.Expect(t, "start at current revision", 2)
		w.Create(t, WatchReq("foo", "foo0", 3, WithNoPut))
		w.Expect(t, "history filtered to nothing", 1)
		w.Create(t, WatchReq("a", "\x00", rev+1))
		w.Expect(t, "start at next revision", 1)
		w.Create(t, WatchReq("a", "\x00", rev+3, WithPrevKV))
		w.Expect(t, "future start", 1)
		for i := 0; i < 3; i++ {
			p.MustPut(t, "a", "later")
		}
		w.ExpectAll(t, "live after history")
		w.ExpectQuiet(t, "end", quiet)
	})
}

func TestWatchCompacted(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		rev := p.Apply(t, SampleData...)
		p.Compact(t, &pb.CompactionRequest{Revision: 10, Physical: true})
		w := p.OpenWatch(t, false)
		w.Create(t, WatchReq("a", "\x00", 5, WithPrevKV))
		w.Expect(t, "below compact revision: created, then cancelled", 2)
		w.Create(t, WatchReq("a", "\x00", 9))
		w.Expect(t, "just below compact revision", 2)
		w.Create(t, WatchReq("\x00", "\x00", 10, WithPrevKV))
		w.Expect(t, "at compact revision: replay without compacted prev_kv", 2)
		w.Create(t, WatchReq("a", "", 11, WithPrevKV))
		w.ExpectAll(t, "above compact revision")
		w.Cancel(t, 0)
		w.Expect(t, "cancel of a compacted watch is confirmed", 1)
		w.Create(t, WatchReq("a", "", 0, WithID(1)))
		w.Expect(t, "compacted watch ID stays taken", 1)
		w.Create(t, WatchReq("a", "", 0))
		w.Expect(t, "auto ID reuses the cancelled one", 1)
		p.MustPut(t, "a", "live")
		w.ExpectAll(t, "live events")
		w.ExpectQuiet(t, "end", quiet)
		_ = rev
	})
}

func TestWatchRequireLeader(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		w := p.OpenWatch(t, true)
		w.Create(t, WatchReq("k", "", 0, WithPrevKV))
		w.Expect(t, "created", 1)
		p.MustPut(t, "k", "1")
		p.MustPut(t, "k", "2")
		w.Expect(t, "events", 2)
	})
}
