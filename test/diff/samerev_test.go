package diff

import (
	"context"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// TestKeyChangedTwiceInOneRevision: etcd lets one Txn put a key and then
// delete it with a from-key DeleteRange (its duplicate check does not cover
// from-key ranges), or delete a key and put it again. The key then changes
// twice at one revision: historical reads, watch events with prev_kv and
// compaction must all treat the later sub-revision as the key's state.
func TestKeyChangedTwiceInOneRevision(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		p.MustPut(t, "s/x", "old")
		p.MustPut(t, "s/y", "old")
		start := p.MustPut(t, "other", "1") + 1
		w := p.OpenWatch(t, false)
		w.Create(t, WatchReq("s/", "s0", start, WithPrevKV))
		w.Expect(t, "created", 1)
		put := func(k, v string) *pb.RequestOp {
			return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte(k), Value: []byte(v)}}}
		}
		delFrom := func(k string) *pb.RequestOp {
			return &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{Key: []byte(k), RangeEnd: []byte{0}, PrevKv: true}}}
		}
		txn := func(ops ...*pb.RequestOp) Call {
			return func(ctx context.Context, s *Side) (proto.Message, error) {
				return s.KV.Txn(ctx, &pb.TxnRequest{Success: ops})
			}
		}
		p.Check(t, "put then delete from-key", txn(put("s/x", "new"), delFrom("s/x")))
		p.Check(t, "delete from-key then put", txn(delFrom("s/y"), put("s/y", "again")))
		p.Check(t, "put a new key then delete it", txn(put("s/z", "brief"), delFrom("s/z")))
		w.ExpectAll(t, "events of both txns")
		p.MustPut(t, "after", "1")
		for rev := start - 1; rev <= start+3; rev++ {
			p.Check(t, "historical read", func(ctx context.Context, s *Side) (proto.Message, error) {
				return s.KV.Range(ctx, &pb.RangeRequest{Key: []byte("s/"), RangeEnd: []byte("s0"), Revision: rev})
			})
		}
		p.Check(t, "compact past both", func(ctx context.Context, s *Side) (proto.Message, error) {
			return s.KV.Compact(ctx, &pb.CompactionRequest{Revision: start + 2, Physical: true})
		})
		for rev := start + 2; rev <= start+3; rev++ {
			p.Check(t, "read after compaction", func(ctx context.Context, s *Side) (proto.Message, error) {
				return s.KV.Range(ctx, &pb.RangeRequest{Key: []byte("s/"), RangeEnd: []byte("s0"), Revision: rev})
			})
		}
		w2 := p.OpenWatch(t, false)
		w2.Create(t, WatchReq("s/", "s0", start+2, WithPrevKV))
		w2.ExpectAll(t, "replay from the compact revision")
	})
}
