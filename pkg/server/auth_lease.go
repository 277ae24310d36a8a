package server

import (
	"context"
	"errors"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"

	"github.com/strata-db/strata/pkg/auth"
	"github.com/strata-db/strata/pkg/kv"
)

// leaseKeys reads the keys attached to a lease (none if it does not
// exist).
func (s *Server) leaseKeys(ctx context.Context) auth.LeaseKeys {
	return func(id int64) ([][]byte, error) {
		_, keys, _, err := s.store.Lease(ctx, id)
		if errors.Is(err, kv.ErrLeaseNotFound) {
			return nil, nil
		}
		return keys, err
	}
}

// leaseUser is the first half of etcd's lease checks: with auth enabled a
// user is required; a user with the root role may do anything.
func (s *Server) leaseUser(ctx context.Context) (st *auth.State, ai *auth.Info, admin bool, err error) {
	st, ai, err = s.authInfo(ctx)
	if err != nil {
		return nil, nil, false, toGRPC(err)
	}
	if !st.Enabled {
		return st, ai, true, nil
	}
	if ai == nil {
		return nil, nil, false, rpctypes.ErrGRPCUserEmpty
	}
	return st, ai, st.IsAdminPermitted(ai) == nil, nil
}

// checkLeaseRead is etcd's checkLeaseTimeToLive and checkLeaseLeases: read
// permission on every key attached to the leases. It returns the auth
// revision it checked at.
func (s *Server) checkLeaseRead(ctx context.Context, ids []int64) (uint64, error) {
	st, ai, admin, err := s.leaseUser(ctx)
	if err != nil || admin {
		if st != nil {
			return st.Revision, err
		}
		return 0, err
	}
	keysOf := s.leaseKeys(ctx)
	for _, id := range ids {
		keys, err := keysOf(id)
		if err != nil {
			return 0, toGRPC(err)
		}
		for _, k := range keys {
			if err := st.IsRangePermitted(ai, k, nil); err != nil {
				return 0, toGRPC(err)
			}
		}
	}
	return st.Revision, nil
}

// checkLeaseRenew is etcd's: write permission on every key attached to the
// lease renewed.
func (s *Server) checkLeaseRenew(ctx context.Context, id int64) error {
	st, ai, admin, err := s.leaseUser(ctx)
	if err != nil || admin {
		return err
	}
	if err := st.CheckLease(ai, id, s.leaseKeys(ctx)); err != nil {
		return toGRPC(err)
	}
	if s.auth.State().Revision != st.Revision {
		return rpctypes.ErrGRPCAuthOldRevision
	}
	return nil
}
