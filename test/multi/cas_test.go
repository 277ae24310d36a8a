package multi

import (
	"fmt"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestCASAcrossInstances: every server updates one key at the same mod
// revision at once; exactly one succeeds, each round.
func TestCASAcrossInstances(t *testing.T) {
	const rounds = 40
	forEachShared(t, func(t *testing.T, c *cluster) {
		ctx := ctxT(t, time.Minute)
		key := "/registry/leases/cas"
		p, err := c.clients[0].Put(ctx, key, "0")
		if err != nil {
			t.Fatal(err)
		}
		mod := p.Header.Revision
		for round := range rounds {
			var wg sync.WaitGroup
			results := make([]*clientv3.TxnResponse, len(c.clients))
			errs := make([]error, len(c.clients))
			for i, cl := range c.clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i], errs[i] = cl.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", mod)).
						Then(clientv3.OpPut(key, fmt.Sprintf("%d-%d", round, i))).Commit()
				}()
			}
			wg.Wait()
			won := 0
			for i, r := range results {
				if errs[i] != nil {
					t.Fatalf("round %d, server %d: %v", round, i, errs[i])
				}
				if r.Succeeded {
					won++
					mod = r.Header.Revision
				}
			}
			if won != 1 {
				t.Fatalf("round %d: %d servers won the same CAS", round, won)
			}
		}
	})
}
