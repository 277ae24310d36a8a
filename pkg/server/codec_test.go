package server

import (
	"bytes"
	"fmt"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// TestWatchCodecFields pins the fast path to the generated messages: if
// etcd's API gains a field, the fast path must learn to write it.
func TestWatchCodecFields(t *testing.T) {
	for _, tc := range []struct {
		msg  proto.Message
		want map[string]protowire.Number
	}{
		{&pb.WatchResponse{}, map[string]protowire.Number{
			"header": fieldWatchHeader, "watch_id": fieldWatchID, "created": 3, "canceled": 4,
			"compact_revision": 5, "cancel_reason": 6, "fragment": 7, "events": 11}},
		{&pb.ResponseHeader{}, map[string]protowire.Number{
			"cluster_id": fieldClusterID, "member_id": fieldMemberID, "revision": fieldRevision, "raft_term": fieldRaftTerm}},
	} {
		fields := tc.msg.ProtoReflect().Descriptor().Fields()
		got := map[string]protowire.Number{}
		for i := range fields.Len() {
			got[string(fields.Get(i).Name())] = fields.Get(i).Number()
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%T fields %v, the fast path knows %v", tc.msg, got, tc.want)
		}
	}
}

// TestWatchCodecBytes checks that the fast path writes exactly what
// proto.Marshal writes, and that a client decodes the events.
func TestWatchCodecBytes(t *testing.T) {
	evs := []*mvccpb.Event{
		{Type: mvccpb.PUT, Kv: &mvccpb.KeyValue{Key: []byte("a"), Value: []byte("1"), CreateRevision: 5, ModRevision: 7, Version: 2},
			PrevKv: &mvccpb.KeyValue{Key: []byte("a"), Value: []byte("0"), CreateRevision: 5, ModRevision: 5, Version: 1}},
		{Type: mvccpb.DELETE, Kv: &mvccpb.KeyValue{Key: []byte("b"), ModRevision: 7}},
		{Type: mvccpb.PUT, Kv: &mvccpb.KeyValue{Key: []byte("c"), Value: bytes.Repeat([]byte("v"), 4096), ModRevision: 7, Lease: 99}},
	}
	headers := []*pb.ResponseHeader{
		{},
		{Revision: 7},
		{ClusterId: 1<<64 - 1, MemberId: 12345678901234, Revision: 1 << 40, RaftTerm: 2},
		{Revision: -1},
	}
	c := Codec()
	for hi, h := range headers {
		for _, id := range []int64{0, 1, 300, -1, 1 << 62} {
			for n := 1; n <= len(evs); n++ {
				want := &pb.WatchResponse{Header: h, WatchId: id, Events: evs[:n]}
				enc := &pb.WatchResponse{Header: h, WatchId: id}
				enc.ProtoReflect().SetUnknown(encodeEvents(t, evs[:n]))
				wantBytes, err := proto.Marshal(want)
				if err != nil {
					t.Fatal(err)
				}
				if !eventsOnly(enc) {
					t.Fatalf("header %d id %d: not taken by the fast path", hi, id)
				}
				data, err := c.Marshal(enc)
				if err != nil {
					t.Fatal(err)
				}
				got := data.Materialize()
				data.Free()
				if !bytes.Equal(got, wantBytes) {
					t.Fatalf("header %d id %d events %d:\n got %x\nwant %x", hi, id, n, got, wantBytes)
				}
				var dec pb.WatchResponse
				if err := proto.Unmarshal(got, &dec); err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(&dec, want) {
					t.Fatalf("decoded %v, want %v", &dec, want)
				}
			}
		}
	}
}

// TestWatchCodecOthers checks that every other message goes to the proto
// codec.
func TestWatchCodecOthers(t *testing.T) {
	ev := &mvccpb.Event{Kv: &mvccpb.KeyValue{Key: []byte("k")}}
	for _, m := range []proto.Message{
		&pb.WatchResponse{Header: &pb.ResponseHeader{Revision: 3}, WatchId: 1, Events: []*mvccpb.Event{ev}},
		&pb.WatchResponse{Header: &pb.ResponseHeader{Revision: 3}, WatchId: 1, Created: true},
		&pb.WatchResponse{Header: &pb.ResponseHeader{}, WatchId: 1, Canceled: true, CompactRevision: 4},
		&pb.WatchResponse{WatchId: 1},
		&pb.PutResponse{Header: &pb.ResponseHeader{Revision: 3}},
	} {
		if r, ok := m.(*pb.WatchResponse); ok && eventsOnly(r) {
			t.Fatalf("%v taken by the fast path", m)
		}
		want, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		data, err := Codec().Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := data.Materialize(); !bytes.Equal(got, want) {
			t.Fatalf("%v: got %x, want %x", m, got, want)
		}
	}
}

// encodeEvents encodes evs as WatchResponse.events fields, as the watch
// hub does.
func encodeEvents(t testing.TB, evs []*mvccpb.Event) protoreflect.RawFields {
	t.Helper()
	var b []byte
	for _, ev := range evs {
		m, err := proto.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		b = protowire.AppendTag(b, 11, protowire.BytesType)
		b = protowire.AppendBytes(b, m)
	}
	return b
}

// BenchmarkWatchCodec encodes one event response as the gRPC server does
// for each watcher: through gRPC's proto codec, and through the fast path
// with the event pre-encoded.
func BenchmarkWatchCodec(b *testing.B) {
	for _, size := range []int{16, 1024} {
		ev := &mvccpb.Event{Kv: &mvccpb.KeyValue{Key: []byte("/registry/pods/default/pod-1"),
			Value: bytes.Repeat([]byte("v"), size), CreateRevision: 100, ModRevision: 1000, Version: 9}}
		hdr := func() *pb.ResponseHeader {
			return &pb.ResponseHeader{ClusterId: 1 << 60, MemberId: 1 << 61, Revision: 1000, RaftTerm: 2}
		}
		raw := encodeEvents(b, []*mvccpb.Event{ev})
		for _, path := range []string{"proto", "fast"} {
			b.Run(fmt.Sprintf("%s/value-%d", path, size), func(b *testing.B) {
				c := Codec()
				b.ReportAllocs()
				for range b.N {
					r := &pb.WatchResponse{Header: hdr(), WatchId: 7}
					if path == "proto" {
						r.Events = []*mvccpb.Event{ev}
					} else {
						r.ProtoReflect().SetUnknown(raw)
					}
					data, err := c.Marshal(r)
					if err != nil {
						b.Fatal(err)
					}
					data.Free()
				}
			})
		}
	}
}
