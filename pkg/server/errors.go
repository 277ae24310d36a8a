package server

import (
	"context"
	"errors"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/strata-db/strata/pkg/kv"
)

// toGRPC translates engine errors into the status etcd sends.
func toGRPC(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	if g, ok := authToGRPC(err); ok {
		return g
	}
	switch {
	case errors.Is(err, kv.ErrCompacted):
		return rpctypes.ErrGRPCCompacted
	case errors.Is(err, kv.ErrFutureRev):
		return rpctypes.ErrGRPCFutureRev
	case errors.Is(err, kv.ErrKeyNotFound):
		return rpctypes.ErrGRPCKeyNotFound
	case errors.Is(err, kv.ErrLeaseNotFound):
		return rpctypes.ErrGRPCLeaseNotFound
	case errors.Is(err, kv.ErrLeaseExists):
		return rpctypes.ErrGRPCLeaseExist
	case errors.Is(err, kv.ErrLeaseTTLTooLarge):
		return rpctypes.ErrGRPCLeaseTTLTooLarge
	case errors.Is(err, kv.ErrClosed):
		return rpctypes.ErrGRPCStopped
	case errors.Is(err, context.Canceled):
		return rpctypes.ErrGRPCCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return rpctypes.ErrGRPCDeadlineExceeded
	case errors.Is(err, kv.ErrUnavailable), errors.Is(err, kv.ErrConflict):
		return status.Error(codes.Unavailable, "etcdserver: "+err.Error())
	}
	return status.Error(codes.Unavailable, "etcdserver: "+err.Error())
}
