package diff

import (
	"context"
	"strings"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/server/v3/embed"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/endpoint"
	"github.com/strata-db/strata/test/testserver"
)

// tinyQuota is small enough for one large Put to exceed it on both
// servers, and large enough for both fresh databases to fit in it.
const tinyQuota = 512 * 1024

// newQuotaPair starts etcd and Strata, both with tinyQuota.
func newQuotaPair(t *testing.T, backend string) *Pair {
	e := testserver.StartEtcdWith(t, func(c *embed.Config) { c.QuotaBackendBytes = tinyQuota })
	if backend == "etcd" {
		s := testserver.StartEtcdWith(t, func(c *embed.Config) { c.QuotaBackendBytes = tinyQuota })
		return NewPair(t, e.Name, e.Endpoint, "etcd-selfcheck", s.Endpoint)
	}
	s := testserver.StartStrata(t, testserver.Options{Backend: backend,
		Configure: func(c *endpoint.Config) { c.QuotaBackendBytes = tinyQuota }})
	return NewPair(t, e.Name, e.Endpoint, s.Name, s.Endpoint)
}

// memberID is the member ID of side s.
func memberID(ctx context.Context, s *Side) (uint64, error) {
	st, err := s.Maintenance.Status(ctx, &pb.StatusRequest{})
	if err != nil {
		return 0, err
	}
	return st.Header.MemberId, nil
}

// alarm sends an Alarm request for the side's own member (member 0 in r
// stands for it) and answers with member IDs cleared, as the two clusters'
// IDs differ.
func alarm(action pb.AlarmRequest_AlarmAction, t pb.AlarmType) Call {
	return func(ctx context.Context, s *Side) (proto.Message, error) {
		id, err := memberID(ctx, s)
		if err != nil {
			return nil, err
		}
		resp, err := s.Maintenance.Alarm(ctx, &pb.AlarmRequest{Action: action, MemberID: id, Alarm: t})
		if err != nil {
			return nil, err
		}
		for _, a := range resp.Alarms {
			if a.MemberID != id {
				return nil, nil // shown as a mismatch
			}
			a.MemberID = 0
		}
		return resp, nil
	}
}

// statusErrors answers with Status.Errors reduced to the alarm types
// (etcd's text names the member, which differs).
func statusErrors(ctx context.Context, s *Side) (proto.Message, error) {
	st, err := s.Maintenance.Status(ctx, &pb.StatusRequest{})
	if err != nil {
		return nil, err
	}
	out := &pb.StatusResponse{}
	for _, e := range st.Errors {
		for _, name := range pb.AlarmType_name {
			if name != "NONE" && strings.Contains(e, name) {
				out.Errors = append(out.Errors, name)
			}
		}
	}
	return out, nil
}

func putReq(key string, size int) *pb.PutRequest {
	return &pb.PutRequest{Key: []byte(key), Value: []byte(strings.Repeat("v", size))}
}

// TestQuotaAndAlarms: past --quota-backend-bytes both servers refuse the
// write with "database space exceeded" and raise NOSPACE; while it is
// raised Put, a Txn that puts and LeaseGrant fail, reads, deletes,
// compaction and defragmentation work; disarming it lets writes in again.
//
// It runs on SQLite (and etcd for the self-check) only: on PostgreSQL and
// MySQL the size a quota is held against is what the database server
// reports for the whole database, which is larger than tinyQuota when fresh
// and grows with the server's own page and compression rules, so no single
// quota can be compared byte for byte with etcd's.
func TestQuotaAndAlarms(t *testing.T) {
	for _, b := range Backends() {
		if b == "postgres" || b == "mysql" {
			continue
		}
		t.Run(b, func(t *testing.T) {
			testserver.RequireBackend(t, b)
			p := newQuotaPair(t, b)
			p.MustPut(t, "a", "small")
			p.Check(t, "no alarm yet", alarm(pb.AlarmRequest_GET, pb.AlarmType_NONE))
			p.Put(t, putReq("big", 600*1024))
			p.Check(t, "NOSPACE raised", alarm(pb.AlarmRequest_GET, pb.AlarmType_NONE))
			p.Check(t, "NOSPACE listed by type", alarm(pb.AlarmRequest_GET, pb.AlarmType_NOSPACE))
			p.Check(t, "status errors", statusErrors)
			p.Put(t, putReq("b", 10))
			p.Put(t, &pb.PutRequest{}) // the quota is checked before the request
			p.Txn(t, &pb.TxnRequest{Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestPut{RequestPut: putReq("c", 10)}}}})
			p.Txn(t, &pb.TxnRequest{Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte("a")}}}}})
			p.Range(t, &pb.RangeRequest{Key: []byte("a")})
			p.Check(t, "lease grant", func(ctx context.Context, s *Side) (proto.Message, error) {
				return s.Lease.LeaseGrant(ctx, &pb.LeaseGrantRequest{ID: 7, TTL: 60})
			})
			p.DeleteRange(t, &pb.DeleteRangeRequest{Key: []byte("a")})
			p.Txn(t, &pb.TxnRequest{Success: []*pb.RequestOp{{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{Key: []byte("zz")}}}}})
			p.Compact(t, &pb.CompactionRequest{Revision: 2, Physical: true})
			p.Check(t, "defragment", func(ctx context.Context, s *Side) (proto.Message, error) {
				return s.Maintenance.Defragment(ctx, &pb.DefragmentRequest{})
			})
			p.Put(t, putReq("b", 10)) // still capped until disarmed
			p.Check(t, "disarm", alarm(pb.AlarmRequest_DEACTIVATE, pb.AlarmType_NOSPACE))
			p.Check(t, "disarm again", alarm(pb.AlarmRequest_DEACTIVATE, pb.AlarmType_NOSPACE))
			p.Check(t, "no alarm after disarm", alarm(pb.AlarmRequest_GET, pb.AlarmType_NONE))
			p.Check(t, "status errors after disarm", statusErrors)
			p.Put(t, putReq("b", 10))
			p.Check(t, "activate NONE", alarm(pb.AlarmRequest_ACTIVATE, pb.AlarmType_NONE))
			p.Check(t, "activate NOSPACE by hand", alarm(pb.AlarmRequest_ACTIVATE, pb.AlarmType_NOSPACE))
			p.Check(t, "activate NOSPACE twice", alarm(pb.AlarmRequest_ACTIVATE, pb.AlarmType_NOSPACE))
			p.Put(t, putReq("b", 10))
			p.Check(t, "disarm by hand", alarm(pb.AlarmRequest_DEACTIVATE, pb.AlarmType_NOSPACE))
			p.Put(t, putReq("b", 20))
		})
	}
}
