package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/strata-db/strata/test/testserver"
)

const (
	clients     = 64
	connections = 8
	keySpace    = 100_000
	valueSize   = 256
)

// servers starts each server the benchmarks compare.
func servers(b *testing.B) []*testserver.Server {
	return []*testserver.Server{testserver.StartEtcd(b), testserver.StartStrata(b, testserver.Options{})}
}

// conns opens n clients to s.
func conns(b *testing.B, s *testserver.Server, n int) []*clientv3.Client {
	out := make([]*clientv3.Client, n)
	for i := range out {
		c, err := clientv3.New(clientv3.Config{Endpoints: []string{s.Endpoint}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		out[i] = c
	}
	return out
}

// runClients runs b.N operations spread over the clients and reports
// throughput and latency percentiles.
func runClients(b *testing.B, cs []*clientv3.Client, op func(c *clientv3.Client, worker, i int) error) {
	var next atomic.Int64
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := cs[w%len(cs)]
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				t0 := time.Now()
				if err := op(c, w, int(i)); err != nil {
					b.Error(err)
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
}

var value = string(make([]byte, valueSize))

// BenchmarkPut: 64 clients putting random keys out of 100k, 256-byte values.
func BenchmarkPut(b *testing.B) {
	for _, s := range servers(b) {
		cs := conns(b, s, connections)
		b.Run(s.Name, func(b *testing.B) {
			runClients(b, cs, putRandom)
		})
	}
}

// BenchmarkKubernetesUpdate: the apiserver's update Txn (compare
// mod_revision, put, else get) on one key per client.
func BenchmarkKubernetesUpdate(b *testing.B) {
	for _, s := range servers(b) {
		cs := conns(b, s, connections)
		b.Run(s.Name, func(b *testing.B) { runKubernetesUpdate(b, cs) })
	}
}

// runKubernetesUpdate runs the update Txn on one key per client; a client
// that loses its own compare-and-swap is an error (nobody else writes its
// key).
func runKubernetesUpdate(b *testing.B, cs []*clientv3.Client) {
	revs := make([]int64, clients)
	for w := range clients {
		r, err := cs[0].Put(context.Background(), fmt.Sprintf("/bench/txn/%02d", w), value)
		if err != nil {
			b.Fatal(err)
		}
		revs[w] = r.Header.Revision
	}
	runClients(b, cs, func(c *clientv3.Client, w, _ int) error {
		key := fmt.Sprintf("/bench/txn/%02d", w)
		r, err := c.Txn(context.Background()).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", revs[w])).
			Then(clientv3.OpPut(key, value)).
			Else(clientv3.OpGet(key)).Commit()
		if err != nil {
			return err
		}
		if !r.Succeeded {
			return fmt.Errorf("%s: lost its own CAS", key)
		}
		revs[w] = r.Header.Revision
		return nil
	})
}

// putRandom puts a random key out of keySpace.
func putRandom(c *clientv3.Client, _, _ int) error {
	_, err := c.Put(context.Background(), fmt.Sprintf("/bench/put/%06d", rand.IntN(keySpace)), value)
	return err
}

// BenchmarkGet: linearizable Get of one key.
func BenchmarkGet(b *testing.B) {
	for _, s := range servers(b) {
		cs := conns(b, s, connections)
		if _, err := cs[0].Put(context.Background(), "/bench/get", value); err != nil {
			b.Fatal(err)
		}
		b.Run(s.Name, func(b *testing.B) {
			runClients(b, cs, func(c *clientv3.Client, _, _ int) error {
				_, err := c.Get(context.Background(), "/bench/get")
				return err
			})
		})
	}
}
