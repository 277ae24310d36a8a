package server

import (
	"context"
	"errors"
	"io"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"

	"github.com/strata-db/strata/pkg/auth"
	"github.com/strata-db/strata/pkg/kv"
)

// Lessor is what the Lease service needs (pkg/lease.Lessor). Its errors are
// the kv sentinels; a response header it returns carries the revision or 0.
type Lessor interface {
	Grant(ctx context.Context, id, ttl int64) (*pb.LeaseGrantResponse, error)
	Revoke(ctx context.Context, id int64) (*pb.LeaseRevokeResponse, error)
	// Renew returns the lease's TTL, or kv.ErrLeaseNotFound when it does not
	// exist or has expired.
	Renew(ctx context.Context, id int64) (ttl int64, err error)
	TimeToLive(ctx context.Context, id int64, keys bool) (*pb.LeaseTimeToLiveResponse, error)
	Leases(ctx context.Context) (*pb.LeaseLeasesResponse, error)
}

func (s *Server) registerLease(g *grpc.Server) {
	if s.leases == nil {
		pb.RegisterLeaseServer(g, pb.UnimplementedLeaseServer{})
		return
	}
	pb.RegisterLeaseServer(g, &leaseService{s: s, l: s.leases})
}

// leaseService is etcd's Lease service (etcd's v3rpc/lease.go).
type leaseService struct {
	pb.UnimplementedLeaseServer
	s *Server
	l Lessor
}

func (ls *leaseService) LeaseGrant(ctx context.Context, r *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error) {
	if err := ls.s.checkQuota(ctx, leaseOverhead); err != nil {
		return nil, err
	}
	if err := ls.s.requireAuthInfo(ctx); err != nil {
		return nil, err
	}
	if err := ls.s.checkCapped(leaseOverhead); err != nil {
		return nil, err
	}
	resp, err := ls.l.Grant(ctx, r.ID, r.TTL)
	if err != nil {
		return nil, toGRPC(err)
	}
	return resp, ls.s.fill(ctx, resp.Header)
}

func (ls *leaseService) LeaseRevoke(ctx context.Context, r *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error) {
	if err := ls.s.requireAuthInfo(ctx); err != nil {
		return nil, err
	}
	ctx, err := ls.s.withAuth(ctx)
	if err != nil {
		return nil, err
	}
	resp, err := ls.l.Revoke(ctx, r.ID)
	if err != nil {
		return nil, toGRPC(err)
	}
	return resp, ls.s.fill(ctx, resp.Header)
}

// LeaseTimeToLive answers an unknown lease with TTL -1, not an error, as
// etcd does.
func (ls *leaseService) LeaseTimeToLive(ctx context.Context, r *pb.LeaseTimeToLiveRequest) (*pb.LeaseTimeToLiveResponse, error) {
	if err := ls.s.requireAuthInfo(ctx); err != nil {
		return nil, err
	}
	var rev uint64
	if r.Keys {
		var err error
		if rev, err = ls.s.checkLeaseRead(ctx, []int64{r.ID}); err != nil {
			return nil, err
		}
	}
	resp, err := ls.l.TimeToLive(ctx, r.ID, r.Keys)
	if errors.Is(err, kv.ErrLeaseNotFound) {
		resp, err = &pb.LeaseTimeToLiveResponse{Header: &pb.ResponseHeader{}, ID: r.ID, TTL: -1}, nil
	}
	if err != nil {
		return nil, toGRPC(err)
	}
	if r.Keys {
		if st := ls.s.auth.State(); st.Enabled && st.Revision != rev {
			return nil, toGRPC(auth.ErrAuthOldRevision)
		}
	}
	return resp, ls.s.fill(ctx, resp.Header)
}

func (ls *leaseService) LeaseLeases(ctx context.Context, _ *pb.LeaseLeasesRequest) (*pb.LeaseLeasesResponse, error) {
	resp, err := ls.l.Leases(ctx)
	if err != nil {
		return nil, toGRPC(err)
	}
	ids := make([]int64, len(resp.Leases))
	for i, l := range resp.Leases {
		ids[i] = l.ID
	}
	rev, err := ls.s.checkLeaseRead(ctx, ids)
	if err != nil {
		return nil, err
	}
	if st := ls.s.auth.State(); st.Enabled && st.Revision != rev {
		return nil, toGRPC(auth.ErrAuthOldRevision)
	}
	return resp, ls.s.fill(ctx, resp.Header)
}

// LeaseKeepAlive renews the lease of each request on the stream and answers
// with its TTL, or TTL 0 for a lease that does not exist or has expired. The
// header is read before the renewal, as etcd does, so that its revision is
// never after a revocation the renewal might have raced.
func (ls *leaseService) LeaseKeepAlive(stream pb.Lease_LeaseKeepAliveServer) error {
	ctx := stream.Context()
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		h, err := ls.s.header(ctx)
		if err != nil {
			return err
		}
		if err := ls.s.checkLeaseRenew(ctx, req.ID); err != nil {
			return err
		}
		ttl, err := ls.l.Renew(ctx, req.ID)
		if errors.Is(err, kv.ErrLeaseNotFound) {
			ttl, err = 0, nil
		}
		if err != nil {
			return toGRPC(err)
		}
		if err := stream.Send(&pb.LeaseKeepAliveResponse{Header: h, ID: req.ID, TTL: ttl}); err != nil {
			return err
		}
	}
}
