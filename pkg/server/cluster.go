package server

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// Membership is etcd's cluster membership (pkg/member).
type Membership interface {
	List(ctx context.Context) ([]*pb.Member, error)
	Add(ctx context.Context, peerURLs []string, learner bool) (*pb.Member, []*pb.Member, error)
	Remove(ctx context.Context, id uint64) ([]*pb.Member, error)
	Update(ctx context.Context, id uint64, peerURLs []string) ([]*pb.Member, error)
	Promote(ctx context.Context, id uint64) ([]*pb.Member, error)
}

// clusterService is etcd's Cluster service. Its headers carry no revision,
// as etcd's cluster service sends none.
type clusterService struct {
	pb.UnimplementedClusterServer
	s *Server
}

func (c *clusterService) header() *pb.ResponseHeader {
	return &pb.ResponseHeader{ClusterId: c.s.cfg.ClusterID, MemberId: c.s.cfg.MemberID, RaftTerm: raftTerm}
}

func (c *clusterService) MemberList(ctx context.Context, _ *pb.MemberListRequest) (*pb.MemberListResponse, error) {
	ms, err := c.s.members.List(ctx)
	if err != nil {
		return nil, toGRPC(err)
	}
	return &pb.MemberListResponse{Header: c.header(), Members: ms}, nil
}

func (c *clusterService) MemberAdd(ctx context.Context, r *pb.MemberAddRequest) (*pb.MemberAddResponse, error) {
	m, ms, err := c.s.members.Add(ctx, r.PeerURLs, r.IsLearner)
	if err != nil {
		return nil, toGRPC(err)
	}
	return &pb.MemberAddResponse{Header: c.header(), Member: m, Members: ms}, nil
}

func (c *clusterService) MemberRemove(ctx context.Context, r *pb.MemberRemoveRequest) (*pb.MemberRemoveResponse, error) {
	ms, err := c.s.members.Remove(ctx, r.ID)
	if err != nil {
		return nil, toGRPC(err)
	}
	return &pb.MemberRemoveResponse{Header: c.header(), Members: ms}, nil
}

func (c *clusterService) MemberUpdate(ctx context.Context, r *pb.MemberUpdateRequest) (*pb.MemberUpdateResponse, error) {
	ms, err := c.s.members.Update(ctx, r.ID, r.PeerURLs)
	if err != nil {
		return nil, toGRPC(err)
	}
	return &pb.MemberUpdateResponse{Header: c.header(), Members: ms}, nil
}

func (c *clusterService) MemberPromote(ctx context.Context, r *pb.MemberPromoteRequest) (*pb.MemberPromoteResponse, error) {
	ms, err := c.s.members.Promote(ctx, r.ID)
	if err != nil {
		return nil, toGRPC(err)
	}
	return &pb.MemberPromoteResponse{Header: c.header(), Members: ms}, nil
}
