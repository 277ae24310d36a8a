package server

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
)

// Lessor is what the Lease service needs. (Placeholder until the lease
// service lands.)
type Lessor interface{}

func (s *Server) registerLease(g *grpc.Server) {
	pb.RegisterLeaseServer(g, pb.UnimplementedLeaseServer{})
}
