package server

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/pkg/auth"
)

// kvService is etcd's KV service.
type kvService struct {
	pb.UnimplementedKVServer
	s *Server
}

// raftID stands for the request ID etcd adds to every proposal (a 64-bit ID
// led by the member ID's bits, so ten bytes on the wire): its size check
// counts the proposal, not the bare request.
const raftID = uint64(1) << 63

// checkSize refuses a write larger than --max-request-bytes, as etcd refuses
// a proposal that large (its header names the user, as etcd's does).
func (s *Server) checkSize(ir *pb.InternalRaftRequest) error {
	h := ir.Header
	sized := &pb.RequestHeader{ID: raftID}
	if h != nil {
		sized.Username, sized.AuthRevision = h.Username, h.AuthRevision
	}
	ir.Header = sized
	n := proto.Size(ir)
	ir.Header = h
	if n > s.cfg.MaxRequestBytes {
		return rpctypes.ErrGRPCRequestTooLarge
	}
	return nil
}

func (k *kvService) Range(ctx context.Context, r *pb.RangeRequest) (*pb.RangeResponse, error) {
	if err := checkRange(r); err != nil {
		return nil, err
	}
	var resp *pb.RangeResponse
	err := k.s.serialize(ctx, func(st *auth.State, ai *auth.Info) error {
		return st.IsRangePermitted(ai, r.Key, r.RangeEnd)
	}, func() (err error) {
		resp, err = k.s.store.Range(ctx, r)
		return toGRPC(err)
	})
	if err != nil {
		return nil, err
	}
	return resp, k.s.fill(ctx, resp.Header)
}

func (k *kvService) Put(ctx context.Context, r *pb.PutRequest) (*pb.PutResponse, error) {
	if err := k.s.checkQuota(ctx, costPut(r)); err != nil {
		return nil, err
	}
	if err := checkPut(r); err != nil {
		return nil, err
	}
	if err := k.s.checkKeySize(r, nil); err != nil {
		return nil, err
	}
	ctx, err := k.s.withAuth(ctx)
	if err != nil {
		return nil, err
	}
	if err := k.s.checkSize(&pb.InternalRaftRequest{Header: auth.RequestHeader(ctx), Put: r}); err != nil {
		return nil, err
	}
	if err := k.s.checkCapped(costPut(r)); err != nil {
		return nil, err
	}
	resp, err := k.s.store.Put(ctx, r)
	if err != nil {
		return nil, toGRPC(err)
	}
	return resp, k.s.fill(ctx, resp.Header)
}

func (k *kvService) DeleteRange(ctx context.Context, r *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	if err := checkDelete(r); err != nil {
		return nil, err
	}
	ctx, err := k.s.withAuth(ctx)
	if err != nil {
		return nil, err
	}
	if err := k.s.checkSize(&pb.InternalRaftRequest{Header: auth.RequestHeader(ctx), DeleteRange: r}); err != nil {
		return nil, err
	}
	resp, err := k.s.store.DeleteRange(ctx, r)
	if err != nil {
		return nil, toGRPC(err)
	}
	return resp, k.s.fill(ctx, resp.Header)
}

func (k *kvService) Txn(ctx context.Context, r *pb.TxnRequest) (*pb.TxnResponse, error) {
	if err := k.s.checkQuota(ctx, costTxn(r)); err != nil {
		return nil, err
	}
	if err := checkTxn(r, k.s.cfg.MaxTxnOps); err != nil {
		return nil, err
	}
	if _, _, err := checkIntervals(r.Success); err != nil {
		return nil, err
	}
	if _, _, err := checkIntervals(r.Failure); err != nil {
		return nil, err
	}
	if err := k.s.checkKeySize(nil, r); err != nil {
		return nil, err
	}
	if txnReadOnly(r) {
		return k.readTxn(ctx, r)
	}
	ctx, err := k.s.withAuth(ctx)
	if err != nil {
		return nil, err
	}
	if err := k.s.checkSize(&pb.InternalRaftRequest{Header: auth.RequestHeader(ctx), Txn: r}); err != nil {
		return nil, err
	}
	if err := k.s.checkCapped(costTxn(r)); err != nil {
		return nil, err
	}
	resp, err := k.s.store.Txn(ctx, r)
	if err != nil {
		return nil, toGRPC(err)
	}
	return resp, k.s.fill(ctx, resp.Header)
}

// readTxn serves a Txn of ranges only outside the writer, checked as etcd
// checks it (doSerialize with checkTxnPermission).
func (k *kvService) readTxn(ctx context.Context, r *pb.TxnRequest) (*pb.TxnResponse, error) {
	var resp *pb.TxnResponse
	err := k.s.serialize(ctx, func(st *auth.State, ai *auth.Info) error {
		return st.CheckTxn(ai, r, noLeaseKeys)
	}, func() (err error) {
		resp, err = k.s.store.Txn(ctx, r)
		return toGRPC(err)
	})
	if err != nil {
		return nil, err
	}
	return resp, k.s.fill(ctx, resp.Header)
}

// noLeaseKeys serves a check that never looks at a lease (a Txn of
// ranges only).
func noLeaseKeys(int64) ([][]byte, error) { return nil, nil }

// txnReadOnly is etcd's IsTxnReadonly: no operation of either branch
// writes (nested Txns count as writes, as in etcd).
func txnReadOnly(r *pb.TxnRequest) bool {
	for _, ops := range [][]*pb.RequestOp{r.Success, r.Failure} {
		for _, u := range ops {
			if u.GetRequestRange() == nil {
				return false
			}
		}
	}
	return true
}

func (k *kvService) Compact(ctx context.Context, r *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	if err := k.s.requireAdmin(ctx); err != nil {
		return nil, err
	}
	resp, err := k.s.store.Compact(ctx, r)
	if err != nil {
		return nil, toGRPC(err)
	}
	k.s.quota.forget()
	return resp, k.s.fill(ctx, resp.Header)
}
