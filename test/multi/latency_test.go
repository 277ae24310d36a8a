package multi

import (
	"fmt"
	"sort"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// p99Limit is the cross-server watch latency targeted on PostgreSQL, whose
// notifier wakes the other servers' pollers; MySQL polls (pollInterval).
const p99Limit = 50 * time.Millisecond

// TestCrossInstanceWatchLatency: a Put acknowledged by one server reaches a
// watcher on another one quickly. The poll interval is short in these tests
// (pollInterval), so the poller also bounds it on MySQL.
func TestCrossInstanceWatchLatency(t *testing.T) {
	const puts = 150
	forEachShared(t, func(t *testing.T, c *cluster) {
		ctx := ctxT(t, time.Minute)
		wc := c.clients[1].Watch(ctx, "/lat/", clientv3.WithPrefix(), clientv3.WithCreatedNotify())
		first := <-wc
		if err := first.Err(); err != nil {
			if status.Code(err) == codes.Unimplemented {
				t.Skipf("the Watch service is not implemented: %v", err)
			}
			t.Fatal(err)
		}
		var lat, putLat []time.Duration
		for i := range puts {
			start := time.Now()
			if _, err := c.clients[0].Put(ctx, fmt.Sprintf("/lat/%d", i), "v"); err != nil {
				t.Fatal(err)
			}
			acked := time.Now()
			putLat = append(putLat, acked.Sub(start))
			select {
			case resp := <-wc:
				if resp.Err() != nil || len(resp.Events) != 1 {
					t.Fatalf("watch: %v, %d events", resp.Err(), len(resp.Events))
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no event after 10s")
			}
			lat = append(lat, time.Since(acked))
			time.Sleep(time.Duration(i%7) * time.Millisecond) // not in phase with the poller
		}
		p50, p99, pmax := percentiles(lat)
		q50, q99, _ := percentiles(putLat)
		t.Logf("%s: Put acknowledged by server 0 to event on server 1: p50 %v, p99 %v, max %v (the Put itself: p50 %v, p99 %v)",
			c.backend, p50, p99, pmax, q50, q99)
		// The numbers are reported, not asserted: speed is measured, never
		// a pass/fail condition of a test (see the issue notes for runs).
		if c.backend == "postgres" && p99 > p99Limit {
			t.Logf("note: p99 %v is above the %v target on this run", p99, p99Limit)
		}
	})
}

func percentiles(d []time.Duration) (p50, p99, pmax time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2], d[len(d)*99/100], d[len(d)-1]
}
