package diff

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/test/testserver"
)

// Fan-out benchmark shape: benchWatchers watches on one prefix, spread
// over benchStreams streams on benchConns connections, one writer.
const (
	benchWatchers = 1000
	benchStreams  = 100
	benchConns    = 4
	benchIdle     = 10000
)

func benchServers() map[string]func(testing.TB) *testserver.Server {
	return map[string]func(testing.TB) *testserver.Server{
		"etcd":          func(t testing.TB) *testserver.Server { return testserver.StartEtcd(t) },
		"strata-sqlite": func(t testing.TB) *testserver.Server { return testserver.StartStrata(t, testserver.Options{}) },
	}
}

// BenchmarkWatchFanout puts b.N keys under the prefix, one at a time, each
// put once every watcher got the previous one (closed loop, so the latency
// is not queueing behind an overload), and reports the put-to-event
// latency over every delivered event (p50, p99), the events delivered per
// second and the CPU time of the process (server and client) per put.
func BenchmarkWatchFanout(b *testing.B) {
	for _, name := range []string{"etcd", "strata-sqlite"} {
		b.Run(name, func(b *testing.B) {
			srv := benchServers()[name](b)
			sides := make([]*Side, benchConns)
			for i := range sides {
				sides[i] = Dial(b, srv.Name, srv.Endpoint)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			perStream := benchWatchers / benchStreams
			var ready, done sync.WaitGroup
			var mu sync.Mutex
			var recvs []recvAt
			// Times are offsets from base, so that the million recorded
			// receipts hold no pointers for the GC to scan.
			base := time.Now()
			var delivered, want atomic.Int64
			// got is signalled when delivered reaches want.
			got := make(chan struct{}, 1)
			n := b.N
			for i := range benchStreams {
				ws, err := sides[i%benchConns].Watch.Watch(ctx)
				if err != nil {
					b.Fatal(err)
				}
				for range perStream {
					ws.Send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{
						CreateRequest: WatchReq("bench/", "bench0", 0)}})
				}
				ready.Add(1)
				done.Add(1)
				go func() {
					defer done.Done()
					local := make([]recvAt, 0, n*perStream)
					for created := 0; created < perStream; created++ {
						if _, err := ws.Recv(); err != nil {
							b.Error(err)
							return
						}
					}
					ready.Done()
					for len(local) < n*perStream {
						r, err := ws.Recv()
						if err != nil {
							b.Error(err)
							return
						}
						now := time.Since(base)
						for _, e := range r.Events {
							local = append(local, recvAt{e.Kv.ModRevision, now})
						}
						if delivered.Add(int64(len(r.Events))) >= want.Load() {
							select {
							case got <- struct{}{}:
							default:
							}
						}
					}
					mu.Lock()
					recvs = append(recvs, local...)
					mu.Unlock()
				}()
			}
			ready.Wait()
			sent := map[int64]time.Duration{}
			puts := make([]time.Duration, 0, n)
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime(b)
			for i := range n {
				want.Store(int64((i + 1) * benchWatchers))
				t0 := time.Now()
				r, err := sides[0].KV.Put(ctx, &pb.PutRequest{Key: []byte(fmt.Sprintf("bench/%d", i%100)), Value: []byte("v")})
				if err != nil {
					b.Fatal(err)
				}
				puts = append(puts, time.Since(t0))
				sent[r.Header.Revision] = t0.Sub(base)
				// Wait without spinning: a busy loop would take one of
				// the machine's cores from the server under test.
				for delivered.Load() < want.Load() {
					<-got
				}
			}
			done.Wait()
			elapsed, cpu := time.Since(start), cpuTime(b)-cpu0
			b.StopTimer()
			lat := make([]time.Duration, 0, len(recvs))
			for _, r := range recvs {
				lat = append(lat, r.at-sent[r.rev])
			}
			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			}
			slices.Sort(puts)
			if len(puts) > 0 {
				b.ReportMetric(float64(puts[len(puts)/2].Microseconds())/1000, "put-p50-ms")
			}
			b.ReportMetric(float64(len(recvs))/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(n), "cpu-ms/put")
		})
	}
}

type recvAt struct {
	rev int64
	at  time.Duration // since the benchmark's base time
}

// BenchmarkWatchIdleMemory creates benchIdle idle watches, on one stream
// and on one stream each, and reports the heap growth per watch. Client
// and server share the process, so the per-stream figure includes the
// client's side of each stream.
func BenchmarkWatchIdleMemory(b *testing.B) {
	for _, name := range []string{"etcd", "strata-sqlite"} {
		for _, shape := range []string{"one-stream", "stream-each"} {
			b.Run(name+"/"+shape, func(b *testing.B) {
				for range b.N {
					srv := benchServers()[name](b)
					side := Dial(b, srv.Name, srv.Endpoint)
					ctx, cancel := context.WithCancel(context.Background())
					before := heapLive()
					var streams []pb.Watch_WatchClient
					for i := range benchIdle {
						if shape == "stream-each" || i == 0 {
							ws, err := side.Watch.Watch(ctx)
							if err != nil {
								b.Fatal(err)
							}
							streams = append(streams, ws)
						}
						ws := streams[len(streams)-1]
						ws.Send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{
							CreateRequest: WatchReq(fmt.Sprintf("idle/%d", i), "", 0)}})
						if _, err := ws.Recv(); err != nil {
							b.Fatal(err)
						}
					}
					after := heapLive()
					b.ReportMetric(float64(after-before)/benchIdle, "heap-B/watch")
					b.ReportMetric(float64(after-before)/(1<<20), "heap-MiB")
					cancel()
					srv.Close()
				}
			})
		}
	}
}

// cpuTime is the CPU time (user and system) of this process so far: the
// server's and the client's, which is what delivery costs on a machine
// whose wall-clock latency is noisy.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapLive is the heap's live bytes after a full collection. HeapAlloc,
// not HeapInuse: in-use spans also count the free slots of partly used
// ones, which depend on what ran in the process before (the etcd run) and
// moved the figure by ~200 B/watch between otherwise identical runs.
func heapLive() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
