package watchpoll

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// Refuse answers a create request the server turned down before it reached
// the stream (etcd's permission check): a created and cancelled response
// with watch ID -1 and reason, queued in order with the stream's other
// responses, at the current revision.
func (s *Stream) Refuse(ctx context.Context, reason string) error {
	cur, _, err := s.h.revisions(ctx)
	if err != nil {
		return err
	}
	return s.ctrl(ctx, &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: cur},
		WatchId: -1, Created: true, Canceled: true, CancelReason: reason})
}
