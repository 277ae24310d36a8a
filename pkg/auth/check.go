package auth

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// LeaseKeys returns the keys attached to a lease (none if it does not
// exist).
type LeaseKeys func(id int64) ([][]byte, error)

// CheckPut is etcd's checkPutAuth: write permission on the key, on every
// key already attached to the lease it attaches (a user who could not
// revoke the lease may not extend it), and read permission for prev_kv.
func (st *State) CheckPut(ai *Info, r *pb.PutRequest, leaseKeys LeaseKeys) error {
	if err := st.IsPutPermitted(ai, r.Key); err != nil {
		return err
	}
	if r.Lease != 0 {
		if err := st.CheckLease(ai, r.Lease, leaseKeys); err != nil {
			return err
		}
	}
	if r.PrevKv {
		return st.IsRangePermitted(ai, r.Key, nil)
	}
	return nil
}

// CheckLease is etcd's checkLeasePuts: a user with the root role, or write
// permission on every key attached to the lease.
func (st *State) CheckLease(ai *Info, id int64, leaseKeys LeaseKeys) error {
	if st.IsAdminPermitted(ai) == nil {
		return nil
	}
	keys, err := leaseKeys(id)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := st.IsPutPermitted(ai, k); err != nil {
			return err
		}
	}
	return nil
}

// CheckDeleteRange is etcd's check of a DeleteRange: write permission, and
// read permission for prev_kv.
func (st *State) CheckDeleteRange(ai *Info, r *pb.DeleteRangeRequest) error {
	if err := st.IsDeleteRangePermitted(ai, r.Key, r.RangeEnd); err != nil {
		return err
	}
	if r.PrevKv {
		return st.IsRangePermitted(ai, r.Key, r.RangeEnd)
	}
	return nil
}

// CheckTxn is etcd's checkTxnPermission: read permission on every compare,
// and the permission of every operation of both branches, nested Txns
// included.
func (st *State) CheckTxn(ai *Info, r *pb.TxnRequest, leaseKeys LeaseKeys) error {
	for _, c := range r.Compare {
		if err := st.IsRangePermitted(ai, c.Key, c.RangeEnd); err != nil {
			return err
		}
	}
	if err := st.checkOps(ai, r.Success, leaseKeys); err != nil {
		return err
	}
	return st.checkOps(ai, r.Failure, leaseKeys)
}

func (st *State) checkOps(ai *Info, ops []*pb.RequestOp, leaseKeys LeaseKeys) error {
	for _, u := range ops {
		var err error
		switch tv := u.Request.(type) {
		case *pb.RequestOp_RequestRange:
			if tv.RequestRange != nil {
				err = st.IsRangePermitted(ai, tv.RequestRange.Key, tv.RequestRange.RangeEnd)
			}
		case *pb.RequestOp_RequestPut:
			if tv.RequestPut != nil {
				err = st.CheckPut(ai, tv.RequestPut, leaseKeys)
			}
		case *pb.RequestOp_RequestDeleteRange:
			if d := tv.RequestDeleteRange; d != nil {
				if d.PrevKv {
					err = st.IsRangePermitted(ai, d.Key, d.RangeEnd)
				}
				if err == nil {
					err = st.IsDeleteRangePermitted(ai, d.Key, d.RangeEnd)
				}
			}
		case *pb.RequestOp_RequestTxn:
			if tv.RequestTxn != nil {
				err = st.CheckTxn(ai, tv.RequestTxn, leaseKeys)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// infoKey carries a request's Info in a context.
type infoKey struct{}

// WithInfo returns ctx carrying who the request comes from; the engine
// puts it in the header of the operation the request becomes, as etcd
// puts the user and auth revision in a raft request's header. A nil ai
// (or no WithInfo) marks an internal operation: lease expiry, automatic
// compaction, which no permission check applies to.
func WithInfo(ctx context.Context, ai *Info) context.Context {
	return context.WithValue(ctx, infoKey{}, ai)
}

// RequestHeader is the operation header for the Info ctx carries, or nil
// for an internal operation.
func RequestHeader(ctx context.Context) *pb.RequestHeader {
	ai, _ := ctx.Value(infoKey{}).(*Info)
	if ai == nil {
		return nil
	}
	return &pb.RequestHeader{Username: ai.Username, AuthRevision: ai.Revision}
}
