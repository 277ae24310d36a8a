package mvcc_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/kv"
)

var fuzzKeys = [][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("d")}

// txnFrom builds a small Txn from fuzz bytes: compares over a few keys with
// every target and result, and puts/deletes in both branches.
func txnFrom(data []byte) *pb.TxnRequest {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	r := &pb.TxnRequest{}
	for n := next() % 4; n > 0; n-- {
		c := &pb.Compare{Key: fuzzKeys[next()%4], Result: pb.Compare_CompareResult(next() % 4), Target: pb.Compare_CompareTarget(next() % 5)}
		if next()%3 == 0 {
			c.RangeEnd = []byte("e")
		}
		v := int64(next() % 8)
		switch c.Target {
		case pb.Compare_VERSION:
			c.TargetUnion = &pb.Compare_Version{Version: v}
		case pb.Compare_CREATE:
			c.TargetUnion = &pb.Compare_CreateRevision{CreateRevision: v}
		case pb.Compare_MOD:
			c.TargetUnion = &pb.Compare_ModRevision{ModRevision: v}
		case pb.Compare_VALUE:
			c.TargetUnion = &pb.Compare_Value{Value: []byte{'0' + byte(v)}}
		case pb.Compare_LEASE:
			c.TargetUnion = &pb.Compare_Lease{Lease: v}
		}
		r.Compare = append(r.Compare, c)
	}
	op := func(i int) *pb.RequestOp {
		k := fuzzKeys[i%4]
		switch next() % 3 {
		case 0:
			return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: k, Value: []byte{'0' + next()%8}}}}
		case 1:
			return &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{Key: k}}}
		default:
			return &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: k, RangeEnd: []byte("e")}}}
		}
	}
	r.Success = []*pb.RequestOp{op(0), op(1)}
	r.Failure = []*pb.RequestOp{op(2), op(3)}
	return r
}

// modelCompare evaluates compares from a plain read of the state, the way
// etcd documents them: every key of the range must satisfy the compare; a
// missing key compares as a zero KeyValue except for VALUE, which fails.
func modelCompare(state map[string]*kv.KeyValue, cmps []*pb.Compare) bool {
	for _, c := range cmps {
		var matched []*kv.KeyValue
		for _, k := range fuzzKeys {
			in := bytes.Equal(k, c.Key) || (len(c.RangeEnd) > 0 && bytes.Compare(k, c.Key) >= 0 && bytes.Compare(k, c.RangeEnd) < 0)
			if v := state[string(k)]; in && v != nil {
				matched = append(matched, v)
			}
		}
		if len(matched) == 0 {
			if c.Target == pb.Compare_VALUE {
				return false
			}
			matched = []*kv.KeyValue{{}}
		}
		for _, v := range matched {
			var a, b int64
			switch c.Target {
			case pb.Compare_VALUE:
				a, b = int64(bytes.Compare(v.Value, c.GetValue())), 0
			case pb.Compare_VERSION:
				a, b = v.Version, c.GetVersion()
			case pb.Compare_CREATE:
				a, b = v.CreateRevision, c.GetCreateRevision()
			case pb.Compare_MOD:
				a, b = v.ModRevision, c.GetModRevision()
			case pb.Compare_LEASE:
				a, b = v.Lease, c.GetLease()
			}
			ok := map[pb.Compare_CompareResult]bool{
				pb.Compare_EQUAL: a == b, pb.Compare_NOT_EQUAL: a != b, pb.Compare_GREATER: a > b, pb.Compare_LESS: a < b,
			}[c.Result]
			if !ok {
				return false
			}
		}
	}
	return true
}

// FuzzTxnCompare runs fuzzed Txns through the engine: no panic, no error,
// the branch taken agrees with the model, and a Txn that writes is one
// revision.
func FuzzTxnCompare(f *testing.F) {
	f.Add([]byte{3, 0, 0, 2, 1, 0, 1, 1, 1, 0, 2, 1, 1, 4, 0, 5, 1, 2})
	f.Add([]byte{1, 2, 1, 0, 0, 3, 0, 1, 0, 2})
	s, _ := newStore(f)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		r := txnFrom(data)
		before, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte("e")})
		if err != nil {
			t.Fatal(err)
		}
		state := map[string]*kv.KeyValue{}
		for _, v := range before.Kvs {
			state[string(v.Key)] = v
		}
		resp, err := s.Txn(ctx, r)
		if err != nil {
			if errors.Is(err, kv.ErrUnavailable) {
				t.Fatal(err)
			}
			return // duplicate-key shapes are refused by the gRPC layer, not here
		}
		if want := modelCompare(state, r.Compare); resp.Succeeded != want {
			t.Fatalf("txn %v: succeeded=%v, model says %v (state %v)", r, resp.Succeeded, want, before.Kvs)
		}
		if resp.Header.Revision != before.Header.Revision && resp.Header.Revision != before.Header.Revision+1 {
			t.Fatalf("txn moved the revision from %d to %d", before.Header.Revision, resp.Header.Revision)
		}
	})
}
