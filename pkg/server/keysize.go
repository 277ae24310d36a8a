package server

import (
	"fmt"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// checkKeySize refuses a Put, or a Txn that could put (in either branch,
// nested Txns included), a key longer than the datastore stores. etcd has
// no such limit below the request size; a SQL index has one, and a clear
// InvalidArgument beats a storage error or a truncated key.
func (s *Server) checkKeySize(put *pb.PutRequest, txn *pb.TxnRequest) error {
	if s.cfg.MaxKeyBytes <= 0 {
		return nil
	}
	if put != nil && len(put.Key) > s.cfg.MaxKeyBytes {
		return s.keyTooLarge(len(put.Key))
	}
	if txn == nil {
		return nil
	}
	for _, ops := range [][]*pb.RequestOp{txn.Success, txn.Failure} {
		for _, op := range ops {
			if err := s.checkKeySize(op.GetRequestPut(), op.GetRequestTxn()); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Server) keyTooLarge(n int) error {
	return status.Error(codes.InvalidArgument, fmt.Sprintf(
		"etcdserver: key is too large: %d bytes; this datastore stores keys up to %d bytes", n, s.cfg.MaxKeyBytes))
}
