package diff

import (
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

func TestDeleteRange(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	ops := []Op{
		DeleteOp("nothing on empty store", &pb.DeleteRangeRequest{Key: b("a")}),
		PutOp("seed a", &pb.PutRequest{Key: b("a"), Value: b("1")}),
		PutOp("seed d/1", &pb.PutRequest{Key: b("d/1"), Value: b("1")}),
		PutOp("seed d/2", &pb.PutRequest{Key: b("d/2"), Value: b("2")}),
		PutOp("seed d/3", &pb.PutRequest{Key: b("d/3"), Value: b("3")}),
		PutOp("seed d/4", &pb.PutRequest{Key: b("d/4"), Value: b("4")}),
		PutOp("seed d/5", &pb.PutRequest{Key: b("d/5"), Value: b("5")}),
		PutOp("seed e", &pb.PutRequest{Key: b("e"), Value: b("e")}),
		PutOp("seed x", &pb.PutRequest{Key: b("x"), Value: b("x")}),
		PutOp("seed y", &pb.PutRequest{Key: b("y"), Value: b("y")}),
		PutOp("seed z", &pb.PutRequest{Key: b("z"), Value: b("z")}),
		DeleteOp("single key with prev_kv", &pb.DeleteRangeRequest{Key: b("a"), PrevKv: true}),
		DeleteOp("same key again (nothing)", &pb.DeleteRangeRequest{Key: b("a"), PrevKv: true}),
		GetOp("revision unchanged", "a"),
		DeleteOp("missing key", &pb.DeleteRangeRequest{Key: b("nope")}),
		DeleteOp("range d/2..d/4", &pb.DeleteRangeRequest{Key: b("d/2"), RangeEnd: b("d/4")}),
		GetOp("d/ after range delete", "d/", "d0"),
		DeleteOp("range_end before key", &pb.DeleteRangeRequest{Key: b("z"), RangeEnd: b("a")}),
		DeleteOp("empty interval", &pb.DeleteRangeRequest{Key: b("f"), RangeEnd: b("g"), PrevKv: true}),
		DeleteOp("prefix d/ with prev_kv", &pb.DeleteRangeRequest{Key: b("d/"), RangeEnd: b("d0"), PrevKv: true}),
		DeleteOp("from key y", &pb.DeleteRangeRequest{Key: b("y"), RangeEnd: b("\x00"), PrevKv: true}),
		AllOp("remaining"),
		DeleteOp("empty key", &pb.DeleteRangeRequest{}),
		DeleteOp("empty key with range_end", &pb.DeleteRangeRequest{RangeEnd: b("z")}),
		RangeOp("history sees deleted keys", &pb.RangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), Revision: 11}),
		DeleteOp("all keys", &pb.DeleteRangeRequest{Key: b("\x00"), RangeEnd: b("\x00"), PrevKv: true}),
		AllOp("empty"),
		DeleteOp("all keys again", &pb.DeleteRangeRequest{Key: b("\x00"), RangeEnd: b("\x00")}),
		PutOp("recreate after delete-all", &pb.PutRequest{Key: b("d/1"), Value: b("new"), PrevKv: true}),
		GetOp("recreated", "d/1"),
	}
	ForEachBackend(t, func(t *testing.T, p *Pair) { p.RunOps(t, ops) })
}
