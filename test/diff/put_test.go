package diff

import (
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// testLease is the client-chosen lease ID the lease-dependent cases grant.
const testLease = 0x5eed

func TestPut(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	ops := []Op{
		PutOp("new key with prev_kv", &pb.PutRequest{Key: b("k"), Value: b("v1"), PrevKv: true}),
		PutOp("existing key with prev_kv", &pb.PutRequest{Key: b("k"), Value: b("v2"), PrevKv: true}),
		PutOp("existing key without prev_kv", &pb.PutRequest{Key: b("k"), Value: b("v3")}),
		GetOp("version 3", "k"),
		PutOp("same value again", &pb.PutRequest{Key: b("k"), Value: b("v3"), PrevKv: true}),
		PutOp("empty value", &pb.PutRequest{Key: b("empty"), PrevKv: true}),
		GetOp("empty value read", "empty"),
		PutOp("ignore_value existing", &pb.PutRequest{Key: b("k"), IgnoreValue: true, PrevKv: true}),
		GetOp("ignore_value kept value", "k"),
		PutOp("ignore_value missing key", &pb.PutRequest{Key: b("missing"), IgnoreValue: true}),
		PutOp("ignore_value with value", &pb.PutRequest{Key: b("k"), Value: b("x"), IgnoreValue: true}),
		PutOp("ignore_lease existing without lease", &pb.PutRequest{Key: b("k"), Value: b("v5"), IgnoreLease: true}),
		PutOp("ignore_lease missing key", &pb.PutRequest{Key: b("missing"), Value: b("x"), IgnoreLease: true}),
		PutOp("ignore_lease with lease", &pb.PutRequest{Key: b("k"), Value: b("x"), IgnoreLease: true, Lease: testLease}),
		PutOp("ignore_value and ignore_lease", &pb.PutRequest{Key: b("k"), IgnoreValue: true, IgnoreLease: true, PrevKv: true}),
		PutOp("unknown lease", &pb.PutRequest{Key: b("k"), Value: b("x"), Lease: 0x7777}),
		PutOp("empty key", &pb.PutRequest{Value: b("x")}),
		PutOp("binary key and value", &pb.PutRequest{Key: []byte{0, 0xff, 1}, Value: []byte{0xfe, 0}}),
		GetOp("binary key read", "\x00\xff\x01"),
		GetOp("after rejected puts", "k"),
	}
	ForEachBackend(t, func(t *testing.T, p *Pair) { p.RunOps(t, ops) })
}

func TestPutVersionLifecycle(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	ops := []Op{
		PutOp("create", &pb.PutRequest{Key: b("v"), Value: b("1")}),
		PutOp("other key", &pb.PutRequest{Key: b("w"), Value: b("1")}),
		PutOp("update", &pb.PutRequest{Key: b("v"), Value: b("2")}),
		GetOp("version 2", "v"),
		DeleteOp("delete", &pb.DeleteRangeRequest{Key: b("v"), PrevKv: true}),
		GetOp("gone", "v"),
		PutOp("recreate", &pb.PutRequest{Key: b("v"), Value: b("3"), PrevKv: true}),
		GetOp("version reset", "v"),
		PutOp("update again", &pb.PutRequest{Key: b("v"), Value: b("4"), PrevKv: true}),
		AllOp("all"),
		RangeOp("history before delete", &pb.RangeRequest{Key: b("v"), Revision: 4}),
		RangeOp("history at delete", &pb.RangeRequest{Key: b("v"), Revision: 5}),
	}
	ForEachBackend(t, func(t *testing.T, p *Pair) { p.RunOps(t, ops) })
}

func TestPutWithLease(t *testing.T) {
	b := func(s string) []byte { return []byte(s) }
	ops := []Op{
		LeaseGrantOp("grant", testLease, 600),
		PutOp("put with lease", &pb.PutRequest{Key: b("l"), Value: b("1"), Lease: testLease}),
		GetOp("lease visible", "l"),
		PutOp("ignore_lease keeps lease", &pb.PutRequest{Key: b("l"), Value: b("2"), IgnoreLease: true, PrevKv: true}),
		GetOp("lease still attached", "l"),
		PutOp("put without lease detaches", &pb.PutRequest{Key: b("l"), Value: b("3"), PrevKv: true}),
		GetOp("lease detached", "l"),
		PutOp("reattach", &pb.PutRequest{Key: b("l"), Value: b("4"), Lease: testLease}),
		PutOp("ignore_value keeps lease", &pb.PutRequest{Key: b("l"), IgnoreValue: true, IgnoreLease: true}),
		GetOp("after ignore_value", "l"),
		TxnOp("compare lease equal", &pb.TxnRequest{
			Compare: Cmps(Cmp("l", pb.Compare_LEASE, pb.Compare_EQUAL, int64(testLease))),
			Success: Ops(OpGet("l")), Failure: Ops(OpGet("l"))}),
		TxnOp("compare lease greater", &pb.TxnRequest{
			Compare: Cmps(Cmp("l", pb.Compare_LEASE, pb.Compare_GREATER, int64(testLease-1))),
			Success: Ops(OpGet("l"))}),
		TxnOp("txn put with lease", &pb.TxnRequest{Success: Ops(
			OpPutReq(&pb.PutRequest{Key: []byte("l2"), Value: []byte("1"), Lease: testLease, PrevKv: true}), OpGet("l2"))}),
	}
	ForEachBackend(t, func(t *testing.T, p *Pair) { p.RunOps(t, ops) })
}
