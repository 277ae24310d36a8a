package watchpoll_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/watchpoll"
)

// BenchmarkHubFanout is the server's share of the watch fan-out, without
// gRPC: 1,000 watchers on one prefix over 100 streams, one put per
// iteration, every response taken from its stream and encoded as the Watch
// service would send it. Its allocations and instructions per put do not
// depend on the machine's load, unlike test/diff's BenchmarkWatchFanout.
func BenchmarkHubFanout(b *testing.B) {
	const watchers, streams = 1000, 100
	f := newFixture(b, 0)
	ss := make([]*watchpoll.Stream, streams)
	for i := range ss {
		ss[i] = f.hub.NewStream()
		for range watchers / streams {
			create(b, ss[i], &pb.WatchCreateRequest{Key: []byte("bench/"), RangeEnd: []byte("bench0")})
		}
	}
	ctx := context.Background()
	var bytes int
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		rev := f.put(b, fmt.Sprintf("bench/%d", i%100), "v")
		for _, s := range ss {
			for range watchers / streams {
				resp, _, err := s.Next(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if resp.Header.Revision != rev {
					b.Fatalf("got %v, want an event at %d", resp, rev)
				}
				resp.Header.ClusterId, resp.Header.MemberId, resp.Header.RaftTerm = 1, 2, 3
				// As gRPC's proto codec does for a small message.
				_ = proto.Size(resp)
				out, err := proto.Marshal(resp)
				if err != nil {
					b.Fatal(err)
				}
				bytes += len(out)
			}
		}
	}
	b.ReportMetric(float64(bytes)/float64(b.N), "wire-B/put")
}

// BenchmarkHubIdleMemory reports the hub's heap per idle watch, 10,000 of
// them on distinct keys, on one stream and on a stream each.
func BenchmarkHubIdleMemory(b *testing.B) {
	const watchers = 10000
	for _, shape := range []string{"one-stream", "stream-each"} {
		b.Run(shape, func(b *testing.B) {
			for range b.N {
				f := newFixture(b, 0)
				before := heapInUse()
				var s *watchpoll.Stream
				for i := range watchers {
					if shape == "stream-each" || i == 0 {
						s = f.hub.NewStream()
					}
					create(b, s, &pb.WatchCreateRequest{Key: fmt.Appendf(nil, "idle/%d", i)})
				}
				after := heapInUse()
				b.ReportMetric(float64(after-before)/watchers, "heap-B/watch")
				runtime.KeepAlive(s)
			}
		})
	}
}

func heapInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// BenchmarkHubCatchUp is the fan-out when the streams fall behind: 1,000
// watchers on one prefix over 10 streams whose queues hold 256 responses,
// 20 puts per iteration before anything is read, so most watchers go
// slow and catch up from the log. Every response is taken and encoded.
func BenchmarkHubCatchUp(b *testing.B) {
	const watchers, streams, puts = 1000, 10, 20
	f := newFixture(b, 256)
	ss := make([]*watchpoll.Stream, streams)
	for i := range ss {
		ss[i] = f.hub.NewStream()
		for range watchers / streams {
			create(b, ss[i], &pb.WatchCreateRequest{Key: []byte("bench/"), RangeEnd: []byte("bench0"), PrevKv: true})
		}
	}
	ctx := context.Background()
	codec := encoding.GetCodecV2(grpcproto.Name)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		var last int64
		for j := range puts {
			last = f.put(b, fmt.Sprintf("bench/%d", (i*puts+j)%100), "v")
		}
		for _, s := range ss {
			behind := watchers / streams
			for seen := map[int64]bool{}; behind > 0; {
				resp, _, err := s.Next(ctx)
				if err != nil {
					b.Fatal(err)
				}
				data, err := codec.Marshal(resp)
				if err != nil {
					b.Fatal(err)
				}
				var got pb.WatchResponse
				if err := codec.Unmarshal(data, &got); err != nil {
					b.Fatal(err)
				}
				if n := len(got.Events); n > 0 && got.Events[n-1].Kv.ModRevision == last && !seen[got.WatchId] {
					seen[got.WatchId] = true
					behind--
				}
			}
		}
	}
}
