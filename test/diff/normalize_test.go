package diff

import (
	"errors"
	"strings"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func hdr(cluster, member, term uint64, rev int64) *pb.ResponseHeader {
	return &pb.ResponseHeader{ClusterId: cluster, MemberId: member, RaftTerm: term, Revision: rev}
}

func nestedTxn(h *pb.ResponseHeader) *pb.TxnResponse {
	inner := &pb.TxnResponse{Header: h, Succeeded: true, Responses: []*pb.ResponseOp{
		{Response: &pb.ResponseOp_ResponseRange{ResponseRange: &pb.RangeResponse{
			Header: h, Kvs: []*mvccpb.KeyValue{{Key: []byte("k")}}, Count: 1}}},
	}}
	return &pb.TxnResponse{Header: h, Responses: []*pb.ResponseOp{
		{Response: &pb.ResponseOp_ResponseTxn{ResponseTxn: inner}},
	}}
}

func TestMismatch(t *testing.T) {
	cases := []struct {
		name      string
		etcd, str Result
		differ    bool
	}{
		{"cluster fields ignored",
			Result{Resp: &pb.PutResponse{Header: hdr(1, 2, 3, 5)}},
			Result{Resp: &pb.PutResponse{Header: hdr(7, 8, 9, 5)}}, false},
		{"revision compared",
			Result{Resp: &pb.PutResponse{Header: hdr(1, 2, 3, 5)}},
			Result{Resp: &pb.PutResponse{Header: hdr(1, 2, 3, 6)}}, true},
		{"nested headers normalised",
			Result{Resp: nestedTxn(hdr(1, 2, 3, 5))},
			Result{Resp: nestedTxn(hdr(4, 5, 6, 5))}, false},
		{"nested revision compared",
			Result{Resp: nestedTxn(hdr(1, 2, 3, 5))},
			Result{Resp: nestedTxn(hdr(1, 2, 3, 4))}, true},
		{"missing header differs",
			Result{Resp: &pb.RangeResponse{Header: hdr(1, 2, 3, 5)}},
			Result{Resp: &pb.RangeResponse{}}, true},
		{"same error",
			Result{Err: rpctypes.ErrGRPCEmptyKey},
			Result{Err: status.Error(codes.InvalidArgument, "etcdserver: key is not provided")}, false},
		{"error message differs",
			Result{Err: rpctypes.ErrGRPCEmptyKey},
			Result{Err: status.Error(codes.InvalidArgument, "key is not provided")}, true},
		{"error code differs",
			Result{Err: rpctypes.ErrGRPCEmptyKey},
			Result{Err: status.Error(codes.Unknown, "etcdserver: key is not provided")}, true},
		{"error vs response",
			Result{Err: errors.New("boom")},
			Result{Resp: &pb.PutResponse{}}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Mismatch(c.etcd, c.str)
			if (d != "") != c.differ {
				t.Fatalf("Mismatch = %q, want differ=%v", d, c.differ)
			}
		})
	}
}

func TestNormalizeKeepsInput(t *testing.T) {
	r := &pb.PutResponse{Header: hdr(1, 2, 3, 5)}
	Normalize(r)
	if r.Header.ClusterId != 1 {
		t.Fatal("Normalize changed its input")
	}
}

func TestMismatchIsReadable(t *testing.T) {
	d := Mismatch(Result{Resp: &pb.RangeResponse{Count: 2}}, Result{Resp: &pb.RangeResponse{Count: 3}})
	if !strings.Contains(d, "count") {
		t.Fatalf("diff does not name the field: %s", d)
	}
	t.Log(d)
}
