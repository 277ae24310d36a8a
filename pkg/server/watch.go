package server

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
)

// WatchHub is what the Watch service needs from the watch poller's hub.
// (Placeholder until the watch service lands.)
type WatchHub interface{}

func (s *Server) registerWatch(g *grpc.Server) {
	pb.RegisterWatchServer(g, pb.UnimplementedWatchServer{})
}
