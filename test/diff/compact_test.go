package diff

import (
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// compactSeed: c/a v1 (2), c/a v2 (3), c/b (4), delete c/b (5), c/a v3 (6),
// c/c (7).
var compactSeed = []Step{
	{Key: "c/a", Value: "1"},
	{Key: "c/a", Value: "2"},
	{Key: "c/b", Value: "b"},
	{Key: "c/b", Delete: true},
	{Key: "c/a", Value: "3"},
	{Key: "c/c", Value: "c"},
}

func TestCompact(t *testing.T) {
	at := func(name string, rev int64, key string, end ...string) Op {
		r := &pb.RangeRequest{Key: []byte(key), Revision: rev}
		if len(end) > 0 {
			r.RangeEnd = []byte(end[0])
		}
		return RangeOp(name, r)
	}
	compact := func(name string, rev int64, physical bool) Op {
		return CompactOp(name, &pb.CompactionRequest{Revision: rev, Physical: physical})
	}
	ops := []Op{
		compact("compact at revision 0", 0, false),
		compact("compact at revision 1", 1, false),
		at("read at 1 after compacting at 1", 1, "c/", "c0"),
		compact("compact in the middle", 4, false),
		at("below compact revision", 3, "c/a"),
		at("far below compact revision", 2, "c/", "c0"),
		at("exactly at compact revision", 4, "c/", "c0"),
		at("deleted key at compact revision", 4, "c/b"),
		at("above compact revision", 5, "c/", "c0"),
		at("latest", 0, "c/", "c0"),
		RangeOp("count_only below compact revision", &pb.RangeRequest{Key: []byte("c/"), RangeEnd: []byte("c0"), Revision: 3, CountOnly: true}),
		RangeOp("count_only at compact revision", &pb.RangeRequest{Key: []byte("c/"), RangeEnd: []byte("c0"), Revision: 4, CountOnly: true}),
		compact("same revision again", 4, false),
		compact("lower revision", 2, false),
		compact("future revision", 100, false),
		compact("next revision", 8, false),
		compact("negative revision", -1, false),
		TxnOp("txn range below compact revision", &pb.TxnRequest{Success: Ops(
			OpRangeReq(&pb.RangeRequest{Key: []byte("c/a"), Revision: 3}))}),
		TxnOp("txn range at compact revision", &pb.TxnRequest{Success: Ops(
			OpRangeReq(&pb.RangeRequest{Key: []byte("c/a"), Revision: 4}))}),
		compact("physical at current revision", 7, true),
		at("below physical compact", 6, "c/", "c0"),
		at("at physical compact", 7, "c/", "c0"),
		PutOp("write after compaction", &pb.PutRequest{Key: []byte("c/a"), Value: []byte("4"), PrevKv: true}),
		at("history after compaction", 7, "c/a"),
		at("latest after compaction", 0, "c/", "c0"),
		compact("physical at current again", 8, true),
		at("everything at current", 8, "\x00", "\x00"),
		DeleteOp("delete after compaction", &pb.DeleteRangeRequest{Key: []byte("c/"), RangeEnd: []byte("c0"), PrevKv: true}),
		at("deleted history still readable", 8, "c/", "c0"),
		compact("compact past the deletes", 9, false),
		at("nothing left", 9, "c/", "c0"),
		PutOp("recreate", &pb.PutRequest{Key: []byte("c/a"), Value: []byte("5"), PrevKv: true}),
		at("recreated key", 0, "c/a"),
	}
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		p.Apply(t, compactSeed...)
		p.RunOps(t, ops)
	})
}
