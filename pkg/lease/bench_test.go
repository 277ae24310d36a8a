package lease

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

const benchLeases = 10000

// BenchmarkExpire10k grants 10,000 leases with a key each on SQLite, makes
// them all due at once, and times the expirer until every one is revoked
// (each revocation deletes its key in its own revision).
func BenchmarkExpire10k(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		p := startProcess(b, "sqlite://"+filepath.Join(b.TempDir(), "state.db"), "a", nil)
		grantMany(b, p, benchLeases)
		// Every lease due now: as if the TTLs had passed.
		if _, err := p.st.DB().Exec("UPDATE strata_lease SET expires_at = 1"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		signal(p.lessor.sweepNow)
		for {
			_, all, err := p.lessor.clock.LeaseExpiries(context.Background(), nil)
			if err != nil {
				b.Fatal(err)
			}
			if len(all) == 0 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		b.ReportMetric(float64(benchLeases)/time.Since(start).Seconds(), "leases/s")
		b.StopTimer()
		p.close()
		b.StartTimer()
	}
}

// BenchmarkIdleTick10k is the expirer's wake-up with 10,000 leases queued
// and none due: no database access, O(1).
func BenchmarkIdleTick10k(b *testing.B) {
	l := &Lessor{cfg: Config{MaxBatch: DefaultMaxBatch, SweepInterval: DefaultSweepInterval}.withDefaults(),
		queue: newExpiryQueue(), primary: true}
	far := time.Now().Add(time.Hour).UnixMilli()
	for i := range int64(benchLeases) {
		l.queue.Set(i, far+i)
	}
	ctx := context.Background()
	for b.Loop() {
		l.expireDue(ctx)
		_ = l.untilNext()
	}
}

func grantMany(b *testing.B, p *process, n int) {
	b.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 256)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			resp, err := p.lessor.Grant(ctx, 0, 600)
			if err == nil {
				_, err = p.store.Put(ctx, &pb.PutRequest{Key: fmt.Appendf(nil, "bench/%05d", i), Lease: resp.ID})
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}
