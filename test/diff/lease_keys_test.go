package diff

import (
	"context"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/proto"
)

// Attach, detach, time to live with keys, compare on LEASE, revoke.
func TestLeaseKeys(t *testing.T) {
	const l1, l2 = 0x3001, 0x3002
	b := func(s string) []byte { return []byte(s) }
	put := func(name, key string, lease int64) Op {
		return PutOp(name, &pb.PutRequest{Key: b(key), Value: b("v"), Lease: lease, PrevKv: true})
	}
	cmpLease := func(name, key string, lease int64) Op {
		return TxnOp(name, &pb.TxnRequest{
			Compare: []*pb.Compare{{Key: b(key), Target: pb.Compare_LEASE, Result: pb.Compare_EQUAL,
				TargetUnion: &pb.Compare_Lease{Lease: lease}}},
			Success: Ops(OpRangeReq(&pb.RangeRequest{Key: b(key)})),
			Failure: Ops(OpRangeReq(&pb.RangeRequest{Key: b("l/"), RangeEnd: b("l0")})),
		})
	}
	ops := []Op{
		LeaseGrantOp("grant l1", l1, 600),
		LeaseGrantOp("grant l2", l2, 600),
		put("attach a to l1", "l/a", l1),
		put("attach b to l1", "l/b", l1),
		put("attach c to l2", "l/c", l2),
		put("d without lease", "l/d", 0),
		put("unknown lease", "l/e", 0x7777),
		GetOp("keys with leases", "l/", "l0"),
		LeaseTTLOp("l1 with keys", l1, true),
		LeaseTTLOp("l1 without keys", l1, false),
		LeaseTTLOp("l2 with keys", l2, true),
		cmpLease("compare lease equal", "l/a", l1),
		cmpLease("compare lease differs", "l/a", l2),
		TxnOp("compare lease greater", &pb.TxnRequest{
			Compare: []*pb.Compare{{Key: b("l/c"), Target: pb.Compare_LEASE, Result: pb.Compare_GREATER,
				TargetUnion: &pb.Compare_Lease{Lease: l1}}},
			Success: Ops(OpPutReq(&pb.PutRequest{Key: b("l/c"), Value: b("w"), Lease: l1})),
		}),
		LeaseTTLOp("txn moved c to l1", l1, true),
		put("detach a", "l/a", 0),
		cmpLease("compare lease of a detached key", "l/a", 0),
		cmpLease("compare lease of a missing key", "l/zz", 0),
		LeaseTTLOp("l1 after detach", l1, true),
		put("move d to l2", "l/d", l2),
		LeaseRevokeOp("revoke l1", l1),
		GetOp("l1's keys are gone", "l/", "l0"),
		LeaseTTLOp("l1 is gone", l1, true),
		LeaseRevokeOp("revoke l1 again", l1),
		KeepAliveOp("keepalive of revoked l1", l1),
		put("put with revoked lease", "l/f", l1),
		TxnOp("txn put with revoked lease", &pb.TxnRequest{Success: Ops(OpPutReq(&pb.PutRequest{Key: b("l/f"), Lease: l1}))}),
		KeepAliveOp("keepalive of l2", l2),
		LeaseTTLOp("l2 keeps its keys", l2, true),
		DeleteOp("delete one of l2's keys", &pb.DeleteRangeRequest{Key: b("l/d")}),
		LeaseTTLOp("a deleted key leaves the lease", l2, true),
		LeaseRevokeOp("revoke l2", l2),
		GetOp("all gone but a", "l/", "l0"),
		LeaseLeasesOp("no leases"),
	}
	ForEachBackend(t, func(t *testing.T, p *Pair) { p.RunOps(t, ops) })
}

// A revoke deletes all of the lease's keys in one revision, and watchers see
// a delete event for each.
func TestLeaseRevokeEvents(t *testing.T) {
	const id = 0x3100
	b := func(s string) []byte { return []byte(s) }
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		p.RunOps(t, []Op{
			LeaseGrantOp("grant", id, 600),
			PutOp("put x", &pb.PutRequest{Key: b("r/x"), Value: b("1"), Lease: id}),
			PutOp("put y", &pb.PutRequest{Key: b("r/y"), Value: b("2"), Lease: id}),
			PutOp("put z", &pb.PutRequest{Key: b("r/z"), Value: b("3"), Lease: id}),
		})
		ew := watchEvents(t, p.Etcd, "r/", "r0", 5)
		sw := watchEvents(t, p.Strata, "r/", "r0", 5)
		p.RunOps(t, []Op{LeaseRevokeOp("revoke", id), GetOp("gone", "r/", "r0")})
		if sw == nil {
			return
		}
		e, s := ew(3), sw(3)
		if d := Mismatch(Result{Resp: events(e)}, Result{Resp: events(s)}); d != "" {
			t.Errorf("revoke events: %s", d)
		}
		for _, ev := range e {
			if ev.Type != mvccpb.DELETE || ev.Kv.ModRevision != 5 {
				t.Errorf("etcd: revoke event %v, want a delete at revision 5", ev)
			}
		}
	})
}

// events wraps watch events in a message so that Mismatch compares them.
func events(evs []*mvccpb.Event) proto.Message {
	return &pb.WatchResponse{Events: evs}
}

var _ = context.Background
