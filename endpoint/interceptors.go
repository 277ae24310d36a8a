package endpoint

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// maxLoggedKey is how much of a key a slow-request line shows.
const maxLoggedKey = 64

// slowRequests logs one line per unary request slower than threshold, as
// etcd's "apply request took too long" warning (--warning-apply-duration).
func slowRequests(log *slog.Logger, threshold time.Duration) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := handler(ctx, req)
		if took := time.Since(start); threshold >= 0 && took > threshold {
			log.Warn("request took too long", "method", info.FullMethod, "took", took,
				"expected-duration", threshold, "request", summary(req), "code", status.Code(err).String())
		}
		return resp, err
	}
}

// summary describes a request briefly, without values.
func summary(req any) string {
	switch r := req.(type) {
	case *pb.RangeRequest:
		return fmt.Sprintf("range key:%q range_end:%q limit:%d revision:%d count_only:%t", short(r.Key), short(r.RangeEnd), r.Limit, r.Revision, r.CountOnly)
	case *pb.PutRequest:
		return fmt.Sprintf("put key:%q value_size:%d lease:%d", short(r.Key), len(r.Value), r.Lease)
	case *pb.DeleteRangeRequest:
		return fmt.Sprintf("delete_range key:%q range_end:%q", short(r.Key), short(r.RangeEnd))
	case *pb.TxnRequest:
		return fmt.Sprintf("txn compare:%d success:%d failure:%d", len(r.Compare), len(r.Success), len(r.Failure))
	case *pb.CompactionRequest:
		return fmt.Sprintf("compaction revision:%d physical:%t", r.Revision, r.Physical)
	}
	return fmt.Sprintf("%T", req)
}

func short(b []byte) []byte {
	if len(b) > maxLoggedKey {
		return b[:maxLoggedKey]
	}
	return b
}
