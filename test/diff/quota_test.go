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

// newQuotaPair starts etcd and Strata, both with the quota given.
func newQuotaPair(t *testing.T, backend string, quota int64) *Pair {
	e := testserver.StartEtcdWith(t, func(c *embed.Config) { c.QuotaBackendBytes = quota })
	if backend == "etcd" {
		s := testserver.StartEtcdWith(t, func(c *embed.Config) { c.QuotaBackendBytes = quota })
		return NewPair(t, e.Name, e.Endpoint, "etcd-selfcheck", s.Endpoint)
	}
	s := testserver.StartStrata(t, testserver.Options{Backend: backend,
		Configure: func(c *endpoint.Config) { c.QuotaBackendBytes = quota }})
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
func TestQuotaAndAlarms(t *testing.T) {
	for _, b := range Backends() {
		t.Run(b, func(t *testing.T) {
			testserver.RequireBackend(t, b)
			p := newQuotaPair(t, b, tinyQuota)
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

// fillUntilRefused puts value under key until the server refuses, and
// answers with the refusal: how many Puts fit differs (etcd counts its
// file's pages, and sees them grow only when its backend commits, every
// 100ms; Strata counts the bytes of the log), the refusal must not.
func fillUntilRefused(key string, size, most int) Call {
	return func(ctx context.Context, s *Side) (proto.Message, error) {
		for range most {
			if _, err := s.KV.Put(ctx, putReq(key, size)); err != nil {
				return nil, err
			}
		}
		return &pb.PutResponse{}, nil // never refused: shown as a mismatch
	}
}

// withoutRevision answers as call with the header's revision cleared: after
// fillUntilRefused the two servers are at different revisions.
func withoutRevision(call Call) Call {
	return func(ctx context.Context, s *Side) (proto.Message, error) {
		m, err := call(ctx, s)
		if err != nil || m == nil {
			return m, err
		}
		r := m.ProtoReflect()
		if fd := r.Descriptor().Fields().ByName("header"); fd != nil && r.Has(fd) {
			h := r.Mutable(fd).Message()
			h.Clear(h.Descriptor().Fields().ByName("revision"))
		}
		return m, nil
	}
}

func putCall(key string, size int) Call {
	return func(ctx context.Context, s *Side) (proto.Message, error) {
		return s.KV.Put(ctx, putReq(key, size))
	}
}

// compactNow compacts physically at the current revision.
func compactNow(ctx context.Context, s *Side) (proto.Message, error) {
	st, err := s.Maintenance.Status(ctx, &pb.StatusRequest{})
	if err != nil {
		return nil, err
	}
	return s.KV.Compact(ctx, &pb.CompactionRequest{Revision: st.Header.Revision, Physical: true})
}

// TestQuotaFillAndRecover is etcd's TestAlarm (tests/common) with 4 KiB
// pages: at a quota of 13 pages a fresh server takes a small Put, refuses
// with NOSPACE once rewriting one key with a page-sized value has filled
// it, and takes a small Put again after compaction, defragmentation and
// disarming. The quota is held against what users stored, so the fresh
// databases of PostgreSQL and MySQL (far larger than 13 pages) do not
// count, and compaction gives the space back on every backend.
func TestQuotaFillAndRecover(t *testing.T) {
	const page = 4096
	for _, b := range Backends() {
		t.Run(b, func(t *testing.T) {
			testserver.RequireBackend(t, b)
			p := newQuotaPair(t, b, 13*page)
			p.Put(t, putReq("1st", 64))
			p.Check(t, "fill", fillUntilRefused("2nd", page, 5000))
			p.Check(t, "NOSPACE raised", withoutRevision(alarm(pb.AlarmRequest_GET, pb.AlarmType_NONE)))
			p.Check(t, "small put refused", withoutRevision(putCall("3rd", 64)))
			p.Check(t, "compact", withoutRevision(compactNow))
			p.Check(t, "defragment", func(ctx context.Context, s *Side) (proto.Message, error) {
				return s.Maintenance.Defragment(ctx, &pb.DefragmentRequest{})
			})
			p.Check(t, "still capped", withoutRevision(putCall("4th", 64)))
			p.Check(t, "disarm", withoutRevision(alarm(pb.AlarmRequest_DEACTIVATE, pb.AlarmType_NOSPACE)))
			p.Check(t, "small put after disarm", withoutRevision(putCall("4th", 64)))
			p.Check(t, "page put after disarm", withoutRevision(putCall("5th", page)))
		})
	}
}
