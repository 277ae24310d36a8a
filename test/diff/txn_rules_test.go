package diff

import (
	"fmt"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// TestTxnStructure covers nested txns and the request checks etcd makes
// before running a txn: duplicate keys, puts in deleted ranges, op limits.
func TestTxnStructure(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		p.Apply(t, txnSeed...)
		p.RunOps(t, nestedCases())
		p.RunOps(t, duplicateCases())
		p.RunOps(t, opLimitCases())
		p.RunOps(t, sameRevisionCases())
		p.RunOps(t, []Op{AllOp("final state")})
	})
}

func nestedCases() []Op {
	yes := Cmps(Cmp("t/a", pb.Compare_VERSION, pb.Compare_GREATER, int64(0)))
	no := Cmps(Cmp("t/a", pb.Compare_VERSION, pb.Compare_EQUAL, int64(0)))
	return []Op{
		TxnOp("nested txn success", &pb.TxnRequest{Compare: yes, Success: Ops(
			OpPut("n/outer", "1"),
			OpTxn(&pb.TxnRequest{Compare: yes, Success: Ops(OpPut("n/inner", "1"), OpGet("n/", "n0"))}),
			OpGet("n/", "n0"))}),
		TxnOp("nested txn failure branch", &pb.TxnRequest{Compare: yes, Success: Ops(
			OpTxn(&pb.TxnRequest{Compare: no, Success: Ops(OpPut("n/then", "1")), Failure: Ops(OpPut("n/else", "1"))}),
			OpGet("n/", "n0"))}),
		TxnOp("nested then and else same key", &pb.TxnRequest{Success: Ops(
			OpTxn(&pb.TxnRequest{Compare: yes, Success: Ops(OpPut("n/same", "then")), Failure: Ops(OpPut("n/same", "else"))}))}),
		TxnOp("two-level nesting", &pb.TxnRequest{Success: Ops(
			OpTxn(&pb.TxnRequest{Success: Ops(
				OpTxn(&pb.TxnRequest{Compare: no, Failure: Ops(OpPut("n/deep", "1"), OpGet("n/deep"))}),
				OpDelete("n/outer"))}))}),
		TxnOp("nested compare sees outer write", &pb.TxnRequest{Success: Ops(
			OpPut("n/seen", "v"),
			OpTxn(&pb.TxnRequest{Compare: Cmps(Cmp("n/seen", pb.Compare_VALUE, pb.Compare_EQUAL, "v")),
				Success: Ops(OpGet("n/seen")), Failure: Ops(OpGet("t/a"))}))}),
		GetOp("after nested", "n/", "n0"),
	}
}

func duplicateCases() []Op {
	return []Op{
		TxnOp("duplicate put keys", &pb.TxnRequest{Success: Ops(OpPut("d/1", "a"), OpPut("d/1", "b"))}),
		TxnOp("duplicate put keys in else", &pb.TxnRequest{Failure: Ops(OpPut("d/1", "a"), OpPut("d/1", "b"))}),
		TxnOp("same key in then and else", &pb.TxnRequest{Success: Ops(OpPut("d/1", "a")), Failure: Ops(OpPut("d/1", "b"))}),
		TxnOp("put inside deleted range", &pb.TxnRequest{Success: Ops(OpDelete("d/", "d0"), OpPut("d/2", "a"))}),
		TxnOp("put before delete of same key", &pb.TxnRequest{Success: Ops(OpPut("d/2", "a"), OpDelete("d/2"))}),
		TxnOp("put outside deleted range", &pb.TxnRequest{Success: Ops(OpDelete("d/", "d/5"), OpPut("d/5", "a"))}),
		TxnOp("overlapping deletes", &pb.TxnRequest{Success: Ops(OpDelete("d/", "d0"), OpDelete("d/5"))}),
		TxnOp("outer put and nested put same key", &pb.TxnRequest{Success: Ops(
			OpPut("d/3", "a"), OpTxn(&pb.TxnRequest{Success: Ops(OpPut("d/3", "b"))}))}),
		TxnOp("two nested txns put same key", &pb.TxnRequest{Success: Ops(
			OpTxn(&pb.TxnRequest{Success: Ops(OpPut("d/4", "a"))}),
			OpTxn(&pb.TxnRequest{Success: Ops(OpPut("d/4", "b"))}))}),
		TxnOp("nested put inside outer delete", &pb.TxnRequest{Success: Ops(
			OpDelete("d/", "d0"), OpTxn(&pb.TxnRequest{Failure: Ops(OpPut("d/6", "b"))}))}),
		TxnOp("outer put inside nested delete", &pb.TxnRequest{Success: Ops(
			OpTxn(&pb.TxnRequest{Success: Ops(OpDelete("d/7"))}), OpPut("d/7", "b"))}),
		TxnOp("nested else put, outer then put, same key", &pb.TxnRequest{Success: Ops(
			OpTxn(&pb.TxnRequest{Failure: Ops(OpPut("d/8", "a"))}), OpPut("d/8", "b"))}),
		TxnOp("same key in then and else of failing outer", &pb.TxnRequest{
			Compare: Cmps(Cmp("t/a", pb.Compare_VERSION, pb.Compare_EQUAL, int64(0))),
			Success: Ops(OpPut("d/9", "a"), OpGet("d/9")), Failure: Ops(OpPut("d/9", "b"), OpGet("d/9"))}),
		GetOp("after duplicate checks", "d/", "d0"),
	}
}

func opLimitCases() []Op {
	puts := func(n int) []*pb.RequestOp {
		ops := make([]*pb.RequestOp, n)
		for i := range ops {
			ops[i] = OpPut(fmt.Sprintf("m/%03d", i), "v")
		}
		return ops
	}
	cmps := func(n int) []*pb.Compare {
		cs := make([]*pb.Compare, n)
		for i := range cs {
			cs[i] = Cmp(fmt.Sprintf("m/%03d", i), pb.Compare_VERSION, pb.Compare_GREATER, int64(-1))
		}
		return cs
	}
	gets := func(n int) []*pb.RequestOp {
		ops := make([]*pb.RequestOp, n)
		for i := range ops {
			ops[i] = OpGet(fmt.Sprintf("m/%03d", i))
		}
		return ops
	}
	return []Op{
		TxnOp("128 puts", &pb.TxnRequest{Success: puts(128)}),
		TxnOp("129 puts", &pb.TxnRequest{Success: puts(129)}),
		TxnOp("129 ops in else", &pb.TxnRequest{Failure: gets(129)}),
		TxnOp("128 compares", &pb.TxnRequest{Compare: cmps(128), Success: gets(1)}),
		TxnOp("129 compares", &pb.TxnRequest{Compare: cmps(129)}),
		TxnOp("nested ops at the limit (128-1)", &pb.TxnRequest{Success: Ops(
			OpTxn(&pb.TxnRequest{Success: gets(127)}))}),
		TxnOp("nested ops over the limit (128-1)", &pb.TxnRequest{Success: Ops(
			OpTxn(&pb.TxnRequest{Success: gets(128)}))}),
		TxnOp("nested ops, outer has 2", &pb.TxnRequest{Success: Ops(OpGet("m/000"),
			OpTxn(&pb.TxnRequest{Success: gets(127)}))}),
		RangeOp("count after 128 puts", &pb.RangeRequest{Key: []byte("m/"), RangeEnd: []byte("m0"), CountOnly: true}),
	}
}

// sameRevisionCases write and delete one key in one txn. etcd's duplicate
// check does not cover from-key deletes (range_end "\x00"), so these are
// accepted and the later sub-revision wins, also in historical reads.
func sameRevisionCases() []Op {
	all := func(name string, rev int64) Op {
		return RangeOp(name, &pb.RangeRequest{Key: []byte("s/"), RangeEnd: []byte("s0"), Revision: rev})
	}
	// The txn state before these ops ends at revision 15.
	return []Op{
		TxnOp("put then from-key delete over it", &pb.TxnRequest{Success: Ops(OpPut("s/x", "1"), OpDelete("s/", "\x00"))}),
		all("after put-then-delete, latest", 0),
		TxnOp("from-key delete then put inside it", &pb.TxnRequest{Success: Ops(OpDelete("s/", "\x00"), OpPut("s/y", "1"))}),
		all("after delete-then-put, latest", 0),
		PutOp("unrelated write", &pb.PutRequest{Key: []byte("s/z"), Value: []byte("1")}),
		all("put-then-delete revision, historical", 16),
		all("delete-then-put revision, historical", 17),
		RangeOp("put-then-delete key, historical", &pb.RangeRequest{Key: []byte("s/x"), Revision: 16}),
		TxnOp("compare sees the later sub-revision", &pb.TxnRequest{
			Compare: Cmps(Cmp("s/x", pb.Compare_VERSION, pb.Compare_EQUAL, int64(0))), Success: Ops(OpGet("s/y"))}),
	}
}
