package diff

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

func (g *Generator) rangeReq() *pb.RangeRequest {
	k, e := g.interval()
	r := &pb.RangeRequest{Key: k, RangeEnd: e}
	if g.chance(50) {
		r.Limit = g.r.Int64N(8)
	}
	if g.chance(60) {
		r.SortTarget = pb.RangeRequest_SortTarget(g.r.IntN(5))
		r.SortOrder = pb.RangeRequest_SortOrder(g.r.IntN(3))
	}
	if g.chance(30) {
		r.Revision = g.revision()
	}
	r.KeysOnly = g.chance(10)
	r.CountOnly = g.chance(10)
	r.Serializable = g.chance(20)
	if g.chance(10) {
		r.MinModRevision = g.r.Int64N(g.rev + 1)
	}
	if g.chance(10) {
		r.MaxModRevision = g.r.Int64N(g.rev + 1)
	}
	if g.chance(10) {
		r.MinCreateRevision = g.r.Int64N(g.rev + 1)
	}
	if g.chance(10) {
		r.MaxCreateRevision = g.r.Int64N(g.rev + 1)
	}
	return r
}

// maxTxnDepth bounds nesting in generated txns.
const maxTxnDepth = 2

func (g *Generator) txn() *pb.TxnRequest {
	g.depth++
	defer func() { g.depth-- }()
	r := &pb.TxnRequest{}
	for range g.r.IntN(4) {
		r.Compare = append(r.Compare, g.compare())
	}
	r.Success = g.txnOps()
	r.Failure = g.txnOps()
	return r
}

func (g *Generator) txnOps() []*pb.RequestOp {
	var ops []*pb.RequestOp
	for range g.r.IntN(5) {
		switch n := g.r.IntN(100); {
		case n < 40:
			ops = append(ops, OpPutReq(g.put()))
		case n < 60:
			ops = append(ops, OpDeleteReq(g.deleteReq()))
		case n < 95 || g.depth >= maxTxnDepth:
			ops = append(ops, OpRangeReq(g.rangeReq()))
		default:
			ops = append(ops, OpTxn(g.txn()))
		}
	}
	return ops
}

func (g *Generator) compare() *pb.Compare {
	key := string(g.key())
	var end []string
	if g.chance(10) {
		end = append(end, string(g.key()))
	}
	result := pb.Compare_CompareResult(g.r.IntN(4))
	switch n := g.r.IntN(100); {
	case n < 30:
		return Cmp(key, pb.Compare_VALUE, result, string(g.value()), end...)
	case n < 55:
		return Cmp(key, pb.Compare_VERSION, result, g.r.Int64N(5), end...)
	case n < 75:
		return Cmp(key, pb.Compare_CREATE, result, g.r.Int64N(g.rev+2), end...)
	case n < 95:
		return Cmp(key, pb.Compare_MOD, result, g.r.Int64N(g.rev+2), end...)
	default:
		return Cmp(key, pb.Compare_LEASE, result, g.r.Int64N(2), end...)
	}
}
