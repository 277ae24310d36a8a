package mvcc

import (
	"context"
	"errors"
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/pkg/auth"
	"github.com/strata-db/strata/pkg/kv"
)

// Op is one logical write: exactly one of Put, DeleteRange, Txn, Compaction,
// LeaseGrant, LeaseRevoke or an auth operation (AuthEnable, AuthUserAdd,
// ..., Authenticate) is set. It is what a replicated log would carry. The
// header, as in etcd, names the user and auth revision of a client's
// request; internal operations (lease expiry, automatic compaction) have
// none.
type Op = pb.InternalRaftRequest

// errNoOp marks an Op with no operation in it.
var errNoOp = errors.New("mvcc: empty operation")

// Apply applies op to tx at the revision after rev. It returns the
// response, the revision after the op (rev or rev+1) and the new compact
// revision. It is deterministic: the same state and op give the same result.
// A returned error means nothing was written by this op.
func Apply(ctx context.Context, tx kv.WriteTxn, rev, compacted int64, op *Op) (resp proto.Message, newRev, newCompacted int64, err error) {
	v := &view{ctx: ctx, tx: tx, w: tx, rev: rev, compacted: compacted}
	newCompacted = compacted
	if err := v.checkAuth(op); err != nil {
		return nil, rev, compacted, err
	}
	switch {
	case auth.IsOp(op):
		resp, err = v.authOp(op)
	case op.Put != nil:
		if err = v.checkPut(op.Put); err == nil {
			resp, err = v.putOp(op.Put)
		}
	case op.DeleteRange != nil:
		resp, err = v.deleteOp(op.DeleteRange)
	case op.Txn != nil:
		resp, err = v.txnOp(op.Txn)
	case op.Compaction != nil:
		resp, newCompacted, err = v.compactOp(op.Compaction)
	case op.LeaseGrant != nil:
		resp, err = v.leaseGrantOp(op.LeaseGrant)
	case op.LeaseRevoke != nil:
		resp, err = v.leaseRevokeOp(op.LeaseRevoke)
	default:
		err = errNoOp
	}
	if err != nil {
		return nil, rev, compacted, err
	}
	return resp, v.curRev(), newCompacted, nil
}

// compactOp records a new compact revision; history is removed afterwards,
// in the background, by the compactor.
func (v *view) compactOp(c *pb.CompactionRequest) (*pb.CompactionResponse, int64, error) {
	switch {
	case c.Revision <= v.compacted:
		return nil, 0, kv.ErrCompacted
	case c.Revision > v.rev:
		return nil, 0, kv.ErrFutureRev
	}
	if err := v.w.SetCompacted(v.ctx, c.Revision); err != nil {
		return nil, 0, err
	}
	return &pb.CompactionResponse{Header: header(v.rev)}, c.Revision, nil
}

func (v *view) leaseGrantOp(g *pb.LeaseGrantRequest) (*pb.LeaseGrantResponse, error) {
	if g.ID == 0 {
		return nil, fmt.Errorf("mvcc: lease grant without an ID")
	}
	ok, err := v.leaseExists(g.ID)
	if err != nil {
		return nil, err
	}
	if ok {
		return nil, kv.ErrLeaseExists
	}
	if err := v.w.PutLease(v.ctx, kv.Lease{ID: g.ID, TTL: g.TTL}); err != nil {
		return nil, err
	}
	return &pb.LeaseGrantResponse{Header: header(v.rev), ID: g.ID, TTL: g.TTL}, nil
}

// leaseRevokeOp deletes every key attached to the lease in one revision and
// removes the lease.
func (v *view) leaseRevokeOp(r *pb.LeaseRevokeRequest) (*pb.LeaseRevokeResponse, error) {
	ok, err := v.leaseExists(r.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, kv.ErrLeaseNotFound
	}
	keys, err := v.tx.LeaseKeys(v.ctx, r.ID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		prev, err := v.lookup(k, false)
		if err != nil {
			return nil, err
		}
		if prev != nil {
			if err := v.tombstone([]*kv.KeyValue{prev}); err != nil {
				return nil, err
			}
		}
	}
	if err := v.w.DeleteLease(v.ctx, r.ID); err != nil {
		return nil, err
	}
	return &pb.LeaseRevokeResponse{Header: header(v.curRev())}, nil
}
