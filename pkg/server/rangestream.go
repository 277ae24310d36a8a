package server

import (
	"bytes"
	"context"
	"math"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/pkg/auth"
)

// initialStreamChunk is the size of the first chunk of a RangeStream, as
// etcd's; later chunks grow or shrink to land near --max-request-bytes.
const initialStreamChunk = 10

// RangeStream sends a range in chunks, as etcd 3.7 does: every chunk reads
// at the revision of the first, only the last carries the header, "more"
// and the count.
func (k *kvService) RangeStream(r *pb.RangeRequest, rs pb.KV_RangeStreamServer) error {
	if err := checkRange(r); err != nil {
		return err
	}
	if !(r.SortOrder == pb.RangeRequest_NONE || (r.SortTarget == pb.RangeRequest_KEY && r.SortOrder == pb.RangeRequest_ASCEND)) {
		return status.Errorf(codes.Unimplemented, "RangeStream does not support custom sort orders")
	}
	if r.MinModRevision != 0 || r.MaxModRevision != 0 || r.MinCreateRevision != 0 || r.MaxCreateRevision != 0 {
		return status.Errorf(codes.Unimplemented, "RangeStream does not support revision filters")
	}
	ctx := rs.Context()
	r = proto.Clone(r).(*pb.RangeRequest)
	return k.s.serialize(ctx, func(st *auth.State, ai *auth.Info) error {
		return st.IsRangePermitted(ai, r.Key, r.RangeEnd)
	}, func() error { return k.rangeStream(ctx, r, rs) })
}

// rangeStream sends the chunks of r.
func (k *kvService) rangeStream(ctx context.Context, r *pb.RangeRequest, rs pb.KV_RangeStreamServer) error {
	send := func(out *pb.RangeResponse) error {
		if out.Header != nil {
			rev := out.Header.Revision
			if err := k.s.fill(ctx, out.Header); err != nil {
				return err
			}
			out.Header.Revision = rev
		}
		return rs.Send(&pb.RangeStreamResponse{RangeResponse: out})
	}
	if r.CountOnly {
		resp, err := k.s.store.Range(ctx, r)
		if err != nil {
			return toGRPC(err)
		}
		return send(&pb.RangeResponse{Header: &pb.ResponseHeader{Revision: resp.Header.Revision}, Count: resp.Count})
	}
	total := r.Limit
	if total == 0 {
		total = math.MaxInt64
	}
	r.Limit = min(initialStreamChunk, total)
	var count, headerRev int64
	for {
		resp, err := k.s.store.Range(ctx, r)
		if err != nil {
			return toGRPC(err)
		}
		if headerRev == 0 {
			headerRev = resp.Header.Revision
			if r.Revision == 0 {
				r.Revision = headerRev
			}
		}
		count += int64(len(resp.Kvs))
		var nextKey []byte
		if resp.More {
			nextKey = append(bytes.Clone(resp.Kvs[len(resp.Kvs)-1].Key), 0)
		}
		out := &pb.RangeResponse{Kvs: resp.Kvs}
		done := !resp.More || count == total
		if done {
			out.Header = &pb.ResponseHeader{Revision: headerRev}
			out.More = resp.More
			out.Count = count
			if resp.More {
				rest, err := k.s.store.Range(ctx, &pb.RangeRequest{Key: nextKey, RangeEnd: r.RangeEnd, Revision: r.Revision, CountOnly: true})
				if err != nil {
					return toGRPC(err)
				}
				out.Count += rest.Count
			}
		}
		if err := send(out); err != nil {
			return err
		}
		if done {
			return nil
		}
		r.Key = nextKey
		r.Limit = min(nextChunk(r.Limit, proto.Size(resp), k.s.cfg.MaxRequestBytes), total-count)
	}
}

// nextChunk doubles or halves the chunk limit when the last chunk was far
// from the target size, as etcd's adjustChunkLimit.
func nextChunk(last int64, size, target int) int64 {
	switch {
	case size < target/2:
		last *= 2
	case size > target*2:
		last /= 2
	}
	return max(last, 1)
}
