package server

import (
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of the fields the event fast path writes. TestWatchCodecFields
// checks them, and that the messages have no other fields, against the
// generated descriptors.
const (
	fieldWatchHeader = 1 // WatchResponse.header
	fieldWatchID     = 2 // WatchResponse.watch_id
	fieldClusterID   = 1 // ResponseHeader.cluster_id
	fieldMemberID    = 2 // ResponseHeader.member_id
	fieldRevision    = 3 // ResponseHeader.revision
	fieldRaftTerm    = 4 // ResponseHeader.raft_term
)

// Codec returns the gRPC codec to build the server with
// (grpc.ForceServerCodecV2): gRPC's proto codec, with a fast path for the
// Watch service's event responses. The Watch service works without it,
// only slower.
func Codec() encoding.CodecV2 { return codec{encoding.GetCodecV2(grpcproto.Name)} }

// codec encodes a WatchResponse that carries only a header, a watch ID and
// events already encoded as its unknown fields (WatchStream.Next) directly,
// without protobuf reflection: with 1,000 watchers on one prefix that is
// 1,000 responses per write. The bytes are those proto.Marshal writes.
// Everything else goes to the proto codec.
type codec struct{ encoding.CodecV2 }

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	r, ok := v.(*pb.WatchResponse)
	if !ok || !eventsOnly(r) {
		return c.CodecV2.Marshal(v)
	}
	size := watchResponseSize(r)
	if mem.IsBelowBufferPoolingThreshold(size) {
		return mem.BufferSlice{mem.SliceBuffer(appendWatchResponse(make([]byte, 0, size), r))}, nil
	}
	pool := mem.DefaultBufferPool()
	buf := pool.Get(size)
	*buf = appendWatchResponse((*buf)[:0], r)
	return mem.BufferSlice{mem.NewBuffer(buf, pool)}, nil
}

// eventsOnly reports whether r is an event response with pre-encoded
// events and nothing the fast path does not write.
func eventsOnly(r *pb.WatchResponse) bool {
	h := r.Header
	return h != nil && len(r.Events) == 0 && !r.Created && !r.Canceled && r.CompactRevision == 0 &&
		r.CancelReason == "" && !r.Fragment && len(r.ProtoReflect().GetUnknown()) > 0 &&
		len(h.ProtoReflect().GetUnknown()) == 0
}

func headerSize(h *pb.ResponseHeader) int {
	return varintSize(fieldClusterID, h.ClusterId) + varintSize(fieldMemberID, h.MemberId) +
		varintSize(fieldRevision, uint64(h.Revision)) + varintSize(fieldRaftTerm, h.RaftTerm)
}

func watchResponseSize(r *pb.WatchResponse) int {
	hs := headerSize(r.Header)
	return protowire.SizeTag(fieldWatchHeader) + protowire.SizeBytes(hs) +
		varintSize(fieldWatchID, uint64(r.WatchId)) + len(r.ProtoReflect().GetUnknown())
}

// appendWatchResponse writes the fields in proto.Marshal's order: by field
// number, zero scalars left out, unknown fields last.
func appendWatchResponse(b []byte, r *pb.WatchResponse) []byte {
	h := r.Header
	b = protowire.AppendTag(b, fieldWatchHeader, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(headerSize(h)))
	b = appendVarint(b, fieldClusterID, h.ClusterId)
	b = appendVarint(b, fieldMemberID, h.MemberId)
	b = appendVarint(b, fieldRevision, uint64(h.Revision))
	b = appendVarint(b, fieldRaftTerm, h.RaftTerm)
	b = appendVarint(b, fieldWatchID, uint64(r.WatchId))
	return append(b, r.ProtoReflect().GetUnknown()...)
}

func varintSize(n protowire.Number, v uint64) int {
	if v == 0 {
		return 0
	}
	return protowire.SizeTag(n) + protowire.SizeVarint(v)
}

func appendVarint(b []byte, n protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	return protowire.AppendVarint(protowire.AppendTag(b, n, protowire.VarintType), v)
}
