package diff

import (
	"strings"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// Request size limits, with etcd's defaults: --max-request-bytes 1.5 MiB,
// checked on the marshalled raft request, and the gRPC receive limit of
// max-request-bytes + 512 KiB.
const (
	maxRequestBytes = 1536 * 1024
	grpcOverhead    = 512 * 1024
	// largestPutValue is the largest value etcd accepts for key "k": the
	// raft request wrapping the put adds 25 bytes (measured on etcd 3.7.3).
	largestPutValue = maxRequestBytes - 25
)

func TestRequestTooLarge(t *testing.T) {
	put := func(name string, n int) Op {
		return PutOp(name, &pb.PutRequest{Key: []byte("k"), Value: []byte(strings.Repeat("x", n))})
	}
	half := strings.Repeat("y", maxRequestBytes/2)
	ops := []Op{
		put("largest accepted value", largestPutValue),
		put("one byte more", largestPutValue+1),
		put("exactly max-request-bytes value", maxRequestBytes),
		put("between request limit and gRPC limit", maxRequestBytes+grpcOverhead/2),
		put("just above the gRPC limit", maxRequestBytes+grpcOverhead+1),
		put("far above the gRPC limit", 4*1024*1024),
		TxnOp("txn of two half-limit puts", &pb.TxnRequest{Success: Ops(OpPut("t1", half), OpPut("t2", half))}),
		TxnOp("txn of two small puts", &pb.TxnRequest{Success: Ops(OpPut("t1", "a"), OpPut("t2", "b"))}),
		RangeOp("large value reads back", &pb.RangeRequest{Key: []byte("k"), KeysOnly: true}),
		RangeOp("large value count", &pb.RangeRequest{Key: []byte("\x00"), RangeEnd: []byte("\x00"), CountOnly: true}),
	}
	ForEachBackend(t, func(t *testing.T, p *Pair) { p.RunOps(t, ops) })
}
