package diff

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// Builders for Txn requests, so that cases read like etcdctl txn scripts.

// Cmp builds a Compare of target against the key (and range_end, if one is
// given) with the operand in v: a string for VALUE, an int64 for the rest.
func Cmp(key string, target pb.Compare_CompareTarget, result pb.Compare_CompareResult, v any, end ...string) *pb.Compare {
	c := &pb.Compare{Key: []byte(key), Target: target, Result: result}
	if len(end) > 0 {
		c.RangeEnd = []byte(end[0])
	}
	n, _ := v.(int64)
	switch target {
	case pb.Compare_VALUE:
		s, _ := v.(string)
		c.TargetUnion = &pb.Compare_Value{Value: []byte(s)}
	case pb.Compare_VERSION:
		c.TargetUnion = &pb.Compare_Version{Version: n}
	case pb.Compare_CREATE:
		c.TargetUnion = &pb.Compare_CreateRevision{CreateRevision: n}
	case pb.Compare_MOD:
		c.TargetUnion = &pb.Compare_ModRevision{ModRevision: n}
	case pb.Compare_LEASE:
		c.TargetUnion = &pb.Compare_Lease{Lease: n}
	}
	return c
}

// OpPut, OpDelete, OpRange and OpTxn wrap requests as Txn operations.
func OpPut(key, value string) *pb.RequestOp {
	return OpPutReq(&pb.PutRequest{Key: []byte(key), Value: []byte(value)})
}

func OpPutReq(r *pb.PutRequest) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: r}}
}

// OpDelete deletes key, or [key, end) when end is given, with prev_kv.
func OpDelete(key string, end ...string) *pb.RequestOp {
	r := &pb.DeleteRangeRequest{Key: []byte(key), PrevKv: true}
	if len(end) > 0 {
		r.RangeEnd = []byte(end[0])
	}
	return OpDeleteReq(r)
}

func OpDeleteReq(r *pb.DeleteRangeRequest) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: r}}
}

// OpGet ranges over key, or [key, end) when end is given.
func OpGet(key string, end ...string) *pb.RequestOp {
	r := &pb.RangeRequest{Key: []byte(key)}
	if len(end) > 0 {
		r.RangeEnd = []byte(end[0])
	}
	return OpRangeReq(r)
}

func OpRangeReq(r *pb.RangeRequest) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: r}}
}

func OpTxn(r *pb.TxnRequest) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestTxn{RequestTxn: r}}
}

// Cmps, Ops are shorthand for the slices a TxnRequest holds.
func Cmps(c ...*pb.Compare) []*pb.Compare    { return c }
func Ops(o ...*pb.RequestOp) []*pb.RequestOp { return o }
