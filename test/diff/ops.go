package diff

import (
	"context"
	"io"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// Op is a named request for table-driven sequences: tests list Ops and
// RunOps sends each one to both servers as its own subtest, in order.
type Op struct {
	Name string
	Call Call
}

// RunOps runs ops in order, one subtest each, on the same pair, so later
// ops see the state earlier ones left.
func (p *Pair) RunOps(t *testing.T, ops []Op) {
	t.Helper()
	for _, op := range ops {
		t.Run(op.Name, func(t *testing.T) { p.Check(t, op.Name, op.Call) })
	}
}

// RangeOp, PutOp, DeleteOp, TxnOp and CompactOp wrap one KV request.
func RangeOp(name string, r *pb.RangeRequest) Op {
	return Op{name, func(ctx context.Context, s *Side) (proto.Message, error) { return s.KV.Range(ctx, r) }}
}

func PutOp(name string, r *pb.PutRequest) Op {
	return Op{name, func(ctx context.Context, s *Side) (proto.Message, error) { return s.KV.Put(ctx, r) }}
}

func DeleteOp(name string, r *pb.DeleteRangeRequest) Op {
	return Op{name, func(ctx context.Context, s *Side) (proto.Message, error) { return s.KV.DeleteRange(ctx, r) }}
}

func TxnOp(name string, r *pb.TxnRequest) Op {
	return Op{name, func(ctx context.Context, s *Side) (proto.Message, error) { return s.KV.Txn(ctx, r) }}
}

func CompactOp(name string, r *pb.CompactionRequest) Op {
	return Op{name, func(ctx context.Context, s *Side) (proto.Message, error) { return s.KV.Compact(ctx, r) }}
}

// LeaseGrantOp grants a lease with a client-chosen ID, so both servers hold
// the same lease ID.
func LeaseGrantOp(name string, id, ttl int64) Op {
	r := &pb.LeaseGrantRequest{ID: id, TTL: ttl}
	return Op{name, func(ctx context.Context, s *Side) (proto.Message, error) { return s.Lease.LeaseGrant(ctx, r) }}
}

// GetOp ranges over one key, or [key, end) when end is given.
func GetOp(name, key string, end ...string) Op {
	r := &pb.RangeRequest{Key: []byte(key)}
	if len(end) > 0 {
		r.RangeEnd = []byte(end[0])
	}
	return RangeOp(name, r)
}

// AllOp ranges over the whole key space.
func AllOp(name string) Op {
	return GetOp(name, "\x00", "\x00")
}

// RangeStreamOp calls KV.RangeStream and merges the chunks with proto.Merge,
// which etcd documents as equal to the Range answer; how the result is cut
// into chunks is not compared.
func RangeStreamOp(name string, r *pb.RangeRequest) Op {
	return Op{name, func(ctx context.Context, s *Side) (proto.Message, error) {
		stream, err := s.KV.RangeStream(ctx, r)
		if err != nil {
			return nil, err
		}
		merged := &pb.RangeResponse{}
		for {
			chunk, err := stream.Recv()
			if err == io.EOF {
				return merged, nil
			}
			if err != nil {
				return nil, err
			}
			proto.Merge(merged, chunk.GetRangeResponse())
		}
	}}
}
