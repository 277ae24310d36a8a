package mvcc_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// BenchmarkPut64 runs b.N Puts of random keys (of 100k, 256-byte values)
// from 64 goroutines straight into the engine over SQLite, without gRPC.
// Besides ns/op it reports the process's CPU time per Put (cpu-ns/op),
// which a busy machine disturbs less than wall time, and the mean group
// commit size.
func BenchmarkPut64(b *testing.B) {
	s, _ := newStore(b)
	value := make([]byte, 256)
	var next atomic.Int64
	var wg sync.WaitGroup
	cpu0 := cpuTime()
	b.ResetTimer()
	for w := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				key := fmt.Appendf(nil, "key/%05d", (i*7919+int64(w))%100_000)
				if _, err := s.Put(context.Background(), &pb.PutRequest{Key: key, Value: value}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkList5000 lists 5,000 keys (3 revisions each, 256-byte values)
// in pages of 500, as Kubernetes lists: each op is the whole listing, with
// count and more on every page, as the list workload of strata-bench.
func BenchmarkList5000(b *testing.B) {
	s, _ := newStore(b)
	value := make([]byte, 256)
	ctx := context.Background()
	for rev := range 3 {
		for i := range 5000 {
			key := fmt.Appendf(nil, "/registry/list/%05d", i)
			if _, err := s.Put(ctx, &pb.PutRequest{Key: key, Value: value}); err != nil {
				b.Fatal(rev, err)
			}
		}
	}
	end := []byte("/registry/list0")
	cpu0 := cpuTime()
	b.ResetTimer()
	for range b.N {
		key := []byte("/registry/list/")
		var at int64
		for {
			r, err := s.Range(ctx, &pb.RangeRequest{Key: key, RangeEnd: end, Limit: 500, Revision: at})
			if err != nil {
				b.Fatal(err)
			}
			at = r.Header.Revision
			if !r.More {
				break
			}
			key = append(r.Kvs[len(r.Kvs)-1].Key, 0)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
