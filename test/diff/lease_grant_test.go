package diff

import (
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

func TestLeaseGrant(t *testing.T) {
	const maxTTL = 9000000000
	ops := []Op{
		LeaseGrantOp("client ID", 0x1001, 60),
		LeaseGrantOp("client ID taken", 0x1001, 30),
		LeaseGrantOp("TTL 1 raised to the minimum", 0x1002, 1),
		LeaseGrantOp("TTL 0 raised to the minimum", 0x1003, 0),
		LeaseGrantOp("negative TTL raised to the minimum", 0x1004, -5),
		LeaseGrantOp("largest TTL", 0x1005, maxTTL),
		LeaseGrantOp("too large TTL", 0x1006, maxTTL+1),
		LeaseGrantOp("too large TTL and ID taken", 0x1001, maxTTL+1),
		LeaseGrantOp("negative client ID", -7, 60),
		LeaseGrantAnyOp("server-chosen ID", 60),
		LeaseGrantAnyOp("server-chosen ID, TTL 1", 1),
		LeaseGrantAnyOp("server-chosen ID, too large TTL", maxTTL+1),
		LeaseTTLOp("time to live", 0x1001, false),
		LeaseTTLOp("time to live of a minimum-TTL lease", 0x1002, true),
		LeaseTTLOp("time to live of the largest TTL", 0x1005, false),
		LeaseTTLOp("time to live of an unknown lease", 0x7777, true),
		LeaseTTLOp("time to live of lease 0", 0, false),
		KeepAliveOp("keepalive", 0x1001),
		KeepAliveOp("keepalive of a minimum-TTL lease", 0x1002),
		KeepAliveOp("keepalive of an unknown lease", 0x7777),
		KeepAliveOp("keepalive of lease 0", 0),
		LeaseRevokeOp("revoke without keys", 0x1003),
		LeaseRevokeOp("revoke twice", 0x1003),
		LeaseRevokeOp("revoke an unknown lease", 0x7777),
		LeaseRevokeOp("revoke lease 0", 0),
		LeaseRevokeOp("revoke negative ID", -7),
		LeaseGrantOp("grant a revoked ID again", 0x1003, 60),
		GetOp("no revision used by leases", "x"),
	}
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		p.RunOps(t, ops)
		// The server-chosen leases have different IDs; the rest must match.
		// The list is sorted by ID, so only its length is compared here.
		e, s := p.Run(LeaseLeasesOp("list").Call)
		if e.Err != nil || s.Err != nil {
			t.Fatalf("list: etcd %v, strata %v", e.Err, s.Err)
		}
		el, sl := e.Resp.(*pb.LeaseLeasesResponse).Leases, s.Resp.(*pb.LeaseLeasesResponse).Leases
		if len(el) != len(sl) {
			t.Errorf("list: etcd has %d leases, strata %d", len(el), len(sl))
		}
	})
}

func TestLeaseLeases(t *testing.T) {
	ops := []Op{
		LeaseLeasesOp("none"),
		LeaseGrantOp("grant a", 0x2001, 60),
		LeaseGrantOp("grant b", 0x2002, 30),
		LeaseGrantOp("grant c", 0x2003, 600),
		LeaseLeasesOp("three"),
		LeaseRevokeOp("revoke b", 0x2002),
		LeaseLeasesOp("two"),
	}
	ForEachBackend(t, func(t *testing.T, p *Pair) { p.RunOps(t, ops) })
}
