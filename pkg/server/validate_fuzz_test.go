package server

import (
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// FuzzValidate feeds arbitrary protobuf bytes to the request checks: they
// must never panic, and every refusal must be one of etcd's InvalidArgument
// errors.
func FuzzValidate(f *testing.F) {
	seed := &pb.TxnRequest{
		Compare: []*pb.Compare{{Key: []byte("a"), Target: pb.Compare_MOD, TargetUnion: &pb.Compare_ModRevision{ModRevision: 3}}},
		Success: []*pb.RequestOp{
			{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte("a"), Value: []byte("v")}}},
			{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{Key: []byte("b"), RangeEnd: []byte("c")}}},
			{Request: &pb.RequestOp_RequestTxn{RequestTxn: &pb.TxnRequest{Success: []*pb.RequestOp{
				{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte("bb")}}}}}}},
		},
		Failure: []*pb.RequestOp{{Request: &pb.RequestOp_RequestRange{RequestRange: &pb.RangeRequest{Key: []byte("a"), SortOrder: 7}}}},
	}
	b, _ := proto.Marshal(seed)
	f.Add(b)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var r pb.TxnRequest
		if proto.Unmarshal(data, &r) != nil {
			return
		}
		errs := []error{checkTxn(&r, 128)}
		if errs[0] == nil {
			_, _, e1 := checkIntervals(r.Success)
			_, _, e2 := checkIntervals(r.Failure)
			errs = append(errs, e1, e2)
		}
		var rr pb.RangeRequest
		if proto.Unmarshal(data, &rr) == nil {
			errs = append(errs, checkRange(&rr))
		}
		var pr pb.PutRequest
		if proto.Unmarshal(data, &pr) == nil {
			errs = append(errs, checkPut(&pr))
		}
		for _, err := range errs {
			if err != nil && status.Code(err) != codes.InvalidArgument {
				t.Fatalf("refusal %v is not InvalidArgument", err)
			}
		}
	})
}
