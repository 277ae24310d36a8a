package diff

import (
	"fmt"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// txnSeed leaves t/a at version 1 (create=mod=2), t/b at version 2
// (create 3, mod 4) and t/c at version 1 (create=mod=5): revision 5.
var txnSeed = []Step{
	{Key: "t/a", Value: "1"},
	{Key: "t/b", Value: "2"},
	{Key: "t/b", Value: "22"},
	{Key: "t/c", Value: "3"},
}

// TestTxnCompare runs a read-only txn for every compare target × result,
// on a present and a missing key, with an operand equal to and one above
// the present key's field, and compares which branch ran.
func TestTxnCompare(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		p.Apply(t, txnSeed...)
		for _, c := range compareCases() {
			t.Run(c.Name, func(t *testing.T) { p.Check(t, c.Name, c.Call) })
		}
	})
}

func compareCases() []Op {
	// operands[target] = {equal to t/b's field, above it}
	operands := map[pb.Compare_CompareTarget][2]any{
		pb.Compare_VALUE:   {"22", "3"},
		pb.Compare_VERSION: {int64(2), int64(3)},
		pb.Compare_CREATE:  {int64(3), int64(4)},
		pb.Compare_MOD:     {int64(4), int64(5)},
		pb.Compare_LEASE:   {int64(0), int64(1)},
	}
	var ops []Op
	for target := pb.Compare_VERSION; target <= pb.Compare_LEASE; target++ {
		for result := pb.Compare_EQUAL; result <= pb.Compare_NOT_EQUAL; result++ {
			for _, key := range []string{"t/b", "t/missing"} {
				for i, v := range operands[target] {
					name := fmt.Sprintf("%s %s %s operand%d", key, target, result, i)
					ops = append(ops, TxnOp(name, &pb.TxnRequest{
						Compare: Cmps(Cmp(key, target, result, v)),
						Success: Ops(OpGet("t/a")),
						Failure: Ops(OpGet("t/c")),
					}))
				}
			}
		}
	}
	return append(ops, rangeCompareCases()...)
}

// rangeCompareCases compare over [key, range_end): all keys must match.
func rangeCompareCases() []Op {
	all := func(name string, c *pb.Compare) Op {
		return TxnOp(name, &pb.TxnRequest{Compare: Cmps(c), Success: Ops(OpGet("t/a")), Failure: Ops(OpGet("t/c"))})
	}
	return []Op{
		all("range version > 0", Cmp("t/", pb.Compare_VERSION, pb.Compare_GREATER, int64(0), "t0")),
		all("range version = 1 (t/b is 2)", Cmp("t/", pb.Compare_VERSION, pb.Compare_EQUAL, int64(1), "t0")),
		all("range mod < 5", Cmp("t/", pb.Compare_MOD, pb.Compare_LESS, int64(5), "t0")),
		all("range mod < 6", Cmp("t/", pb.Compare_MOD, pb.Compare_LESS, int64(6), "t0")),
		all("range value != x", Cmp("t/", pb.Compare_VALUE, pb.Compare_NOT_EQUAL, "x", "t0")),
		all("range create > 1", Cmp("t/", pb.Compare_CREATE, pb.Compare_GREATER, int64(1), "t0")),
		all("empty range version = 0", Cmp("u/", pb.Compare_VERSION, pb.Compare_EQUAL, int64(0), "u0")),
		all("empty range value = empty", Cmp("u/", pb.Compare_VALUE, pb.Compare_EQUAL, "", "u0")),
		all("empty range value != x", Cmp("u/", pb.Compare_VALUE, pb.Compare_NOT_EQUAL, "x", "u0")),
		all("from-key version > 0", Cmp("t/b", pb.Compare_VERSION, pb.Compare_GREATER, int64(0), "\x00")),
		all("range_end before key", Cmp("t/c", pb.Compare_VERSION, pb.Compare_EQUAL, int64(0), "t/a")),
		all("missing value = empty", Cmp("t/missing", pb.Compare_VALUE, pb.Compare_EQUAL, "")),
		all("empty compare key", Cmp("", pb.Compare_VERSION, pb.Compare_EQUAL, int64(0))),
	}
}

func TestTxnWrites(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		p.Apply(t, txnSeed...)
		p.RunOps(t, txnWriteCases())
	})
}

func txnWriteCases() []Op {
	yes := Cmps(Cmp("t/a", pb.Compare_VALUE, pb.Compare_EQUAL, "1"))
	no := Cmps(Cmp("t/a", pb.Compare_VALUE, pb.Compare_EQUAL, "nope"))
	return []Op{
		TxnOp("empty txn", &pb.TxnRequest{}),
		TxnOp("compare only", &pb.TxnRequest{Compare: yes}),
		TxnOp("read-only txn", &pb.TxnRequest{Compare: yes, Success: Ops(OpGet("t/", "t0"), OpGet("t/a"))}),
		TxnOp("success branch put then read", &pb.TxnRequest{Compare: yes,
			Success: Ops(OpPut("t/x", "x1"), OpGet("t/x"), OpGet("t/", "t0")),
			Failure: Ops(OpPut("t/y", "y1"))}),
		TxnOp("failure branch put then read", &pb.TxnRequest{Compare: no,
			Success: Ops(OpPut("t/x", "x2")),
			Failure: Ops(OpPut("t/y", "y1"), OpGet("t/y"), OpGet("t/x"))}),
		TxnOp("puts and deletes, one revision", &pb.TxnRequest{Compare: yes, Success: Ops(
			OpPutReq(&pb.PutRequest{Key: []byte("t/x"), Value: []byte("x3"), PrevKv: true}),
			OpPut("t/z", "z1"),
			OpDelete("t/y"),
			OpGet("t/", "t0"),
			OpDelete("t/nothing"),
			OpPut("t/w", "w1"),
			OpGet("t/w"))}),
		GetOp("after multi-write txn", "t/", "t0"),
		TxnOp("delete then read in txn", &pb.TxnRequest{Success: Ops(OpDelete("t/w"), OpGet("t/w"), OpGet("t/", "t0"))}),
		TxnOp("put ignore_value in txn", &pb.TxnRequest{Success: Ops(
			OpPutReq(&pb.PutRequest{Key: []byte("t/x"), IgnoreValue: true, PrevKv: true}), OpGet("t/x"))}),
		TxnOp("put ignore_value missing key", &pb.TxnRequest{Success: Ops(
			OpPut("t/ok", "1"), OpPutReq(&pb.PutRequest{Key: []byte("t/missing"), IgnoreValue: true}))}),
		TxnOp("put unknown lease", &pb.TxnRequest{Success: Ops(
			OpPut("t/ok", "1"), OpPutReq(&pb.PutRequest{Key: []byte("t/q"), Value: []byte("1"), Lease: 0x7777}))}),
		TxnOp("range future revision in txn", &pb.TxnRequest{Success: Ops(
			OpPut("t/ok", "1"), OpRangeReq(&pb.RangeRequest{Key: []byte("t/a"), Revision: 1000}))}),
		TxnOp("range at old revision in txn", &pb.TxnRequest{Success: Ops(
			OpRangeReq(&pb.RangeRequest{Key: []byte("t/"), RangeEnd: []byte("t0"), Revision: 3}))}),
		TxnOp("range with limit and sort in txn", &pb.TxnRequest{Success: Ops(
			OpRangeReq(&pb.RangeRequest{Key: []byte("t/"), RangeEnd: []byte("t0"), Limit: 2,
				SortTarget: pb.RangeRequest_MOD, SortOrder: pb.RangeRequest_DESCEND}))}),
		GetOp("nothing written by failed txns", "t/", "t0"),
		TxnOp("empty key in put", &pb.TxnRequest{Success: Ops(OpPut("", "1"))}),
		TxnOp("empty key in else range", &pb.TxnRequest{Failure: Ops(OpGet(""))}),
		TxnOp("invalid sort in txn range", &pb.TxnRequest{Success: Ops(
			OpRangeReq(&pb.RangeRequest{Key: []byte("t/a"), SortOrder: 99}))}),
		TxnOp("empty request op", &pb.TxnRequest{Success: Ops(&pb.RequestOp{})}),
	}
}
