package mvcc

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/kv"
)

// txnOp runs a Txn in v: compares, then the checks of the branch taken, then
// its operations in order, each seeing the writes before it.
func (v *view) txnOp(rt *pb.TxnRequest) (*pb.TxnResponse, error) {
	path, err := v.txnPath(rt)
	if err != nil {
		return nil, err
	}
	if _, err := v.checkTxn(rt, path); err != nil {
		return nil, err
	}
	resp := &pb.TxnResponse{Header: &pb.ResponseHeader{}}
	if _, err := v.execTxn(rt, path, resp); err != nil {
		return nil, err
	}
	resp.Header.Revision = v.curRev()
	return resp, nil
}

// checkTxn validates the branch path selects before anything is written and
// returns how many nested Txns it consumed.
func (v *view) checkTxn(rt *pb.TxnRequest, path []bool) (int, error) {
	reqs := branch(rt, path[0])
	n := 0
	for _, req := range reqs {
		var err error
		switch tv := req.Request.(type) {
		case *pb.RequestOp_RequestRange:
			err = v.checkRev(tv.RequestRange.Revision)
		case *pb.RequestOp_RequestPut:
			err = v.checkPut(tv.RequestPut)
		case *pb.RequestOp_RequestTxn:
			var sub int
			sub, err = v.checkTxn(tv.RequestTxn, path[1+n:])
			n += sub + 1
		}
		if err != nil {
			return 0, err
		}
	}
	return n, nil
}

func branch(rt *pb.TxnRequest, ok bool) []*pb.RequestOp {
	if ok {
		return rt.Success
	}
	return rt.Failure
}

func (v *view) execTxn(rt *pb.TxnRequest, path []bool, resp *pb.TxnResponse) (int, error) {
	resp.Succeeded = path[0]
	reqs := branch(rt, path[0])
	resp.Responses = make([]*pb.ResponseOp, len(reqs))
	n := 0
	for i, req := range reqs {
		switch tv := req.Request.(type) {
		case *pb.RequestOp_RequestRange:
			r, err := v.rangeOp(tv.RequestRange)
			if err != nil {
				return 0, err
			}
			resp.Responses[i] = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseRange{ResponseRange: r}}
		case *pb.RequestOp_RequestPut:
			r, err := v.putOp(tv.RequestPut)
			if err != nil {
				return 0, err
			}
			resp.Responses[i] = &pb.ResponseOp{Response: &pb.ResponseOp_ResponsePut{ResponsePut: r}}
		case *pb.RequestOp_RequestDeleteRange:
			r, err := v.deleteOp(tv.RequestDeleteRange)
			if err != nil {
				return 0, err
			}
			resp.Responses[i] = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseDeleteRange{ResponseDeleteRange: r}}
		case *pb.RequestOp_RequestTxn:
			// A nested Txn's header carries no revision, as in etcd.
			sub := &pb.TxnResponse{Header: &pb.ResponseHeader{}}
			used, err := v.execTxn(tv.RequestTxn, path[1+n:], sub)
			if err != nil {
				return 0, err
			}
			n += used + 1
			resp.Responses[i] = &pb.ResponseOp{Response: &pb.ResponseOp_ResponseTxn{ResponseTxn: sub}}
		default:
			resp.Responses[i] = &pb.ResponseOp{}
		}
	}
	return n, nil
}

// checkPut is etcd's checkPut: the lease must exist, and ignore_value or
// ignore_lease need the key to exist.
func (v *view) checkPut(p *pb.PutRequest) error {
	if p.Lease != 0 {
		ok, err := v.leaseExists(p.Lease)
		if err != nil {
			return err
		}
		if !ok {
			return kv.ErrLeaseNotFound
		}
	}
	if !p.IgnoreValue && !p.IgnoreLease {
		return nil
	}
	prev, err := v.lookup(p.Key, false)
	if err != nil {
		return err
	}
	if prev == nil {
		return kv.ErrKeyNotFound
	}
	return nil
}

// putOp writes one key at the operation's revision.
func (v *view) putOp(p *pb.PutRequest) (*pb.PutResponse, error) {
	prev, err := v.lookup(p.Key, p.PrevKv || p.IgnoreValue)
	if err != nil {
		return nil, err
	}
	rev := v.rev + 1
	next := &kv.KeyValue{Key: p.Key, Value: p.Value, CreateRevision: rev, ModRevision: rev, Version: 1, Lease: p.Lease}
	var prevRev int64
	if prev != nil {
		next.CreateRevision = prev.CreateRevision
		next.Version = prev.Version + 1
		prevRev = prev.ModRevision
		if p.IgnoreValue {
			next.Value = prev.Value
		}
		if p.IgnoreLease {
			next.Lease = prev.Lease
		}
	}
	if err := v.write(kv.Change{KV: next, PrevRevision: prevRev}); err != nil {
		return nil, err
	}
	resp := &pb.PutResponse{Header: header(rev)}
	if p.PrevKv && prev != nil {
		resp.PrevKv = prev
	}
	return resp, nil
}

// deleteOp removes every live key of the range at the operation's revision.
func (v *view) deleteOp(d *pb.DeleteRangeRequest) (*pb.DeleteRangeResponse, error) {
	kvs, err := v.rangeLatest(kv.FromEtcd(d.Key, d.RangeEnd), d.PrevKv)
	if err != nil {
		return nil, err
	}
	if err := v.tombstone(kvs); err != nil {
		return nil, err
	}
	resp := &pb.DeleteRangeResponse{Header: header(v.curRev()), Deleted: int64(len(kvs))}
	if d.PrevKv {
		resp.PrevKvs = kvs
	}
	return resp, nil
}

func (v *view) tombstone(kvs []*kv.KeyValue) error {
	rev := v.rev + 1
	for _, prev := range kvs {
		c := kv.Change{Deleted: true, KV: &kv.KeyValue{Key: prev.Key, ModRevision: rev}, PrevRevision: prev.ModRevision}
		if err := v.write(c); err != nil {
			return err
		}
	}
	return nil
}
