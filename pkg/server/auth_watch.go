package server

import (
	"context"
	"errors"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/strata-db/strata/pkg/auth"
)

// watchRefusal is etcd's isWatchPermitted for a create request: read
// permission on the watched key or range. It returns the cancel reason
// etcd sends when the watch is refused, or "".
func (s *Server) watchRefusal(ctx context.Context, req *pb.WatchRequest) string {
	cr := req.GetCreateRequest()
	if cr == nil || cr.StartRevision < 0 {
		return "" // a negative start revision is refused as compacted
	}
	key := cr.Key
	if len(key) == 0 {
		key = []byte{0}
	}
	st, ai, err := s.authInfo(ctx)
	if err == nil {
		if ai == nil {
			ai = &auth.Info{}
		}
		err = st.IsRangePermitted(ai, key, cr.RangeEnd)
	}
	switch {
	case err == nil:
		return ""
	case errors.Is(err, auth.ErrInvalidAuthToken):
		return rpctypes.ErrGRPCInvalidAuthToken.Error()
	case errors.Is(err, auth.ErrAuthOldRevision):
		return rpctypes.ErrGRPCAuthOldRevision.Error()
	case errors.Is(err, auth.ErrUserEmpty):
		return rpctypes.ErrGRPCUserEmpty.Error()
	}
	if !errors.Is(err, auth.ErrPermissionDenied) {
		s.log.Error("watch: unexpected permission check error", "err", err)
	}
	return rpctypes.ErrGRPCPermissionDenied.Error()
}
