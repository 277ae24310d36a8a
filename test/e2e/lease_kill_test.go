package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

const (
	// killLeases leases of killTTL seconds are granted together, each with
	// killKeysPerLease keys, so that they expire together.
	killLeases       = 300
	killKeysPerLease = 4
	killTTL          = 2
	killGranters     = 32
	killOpTimeout    = 10 * time.Second
	// killPoll is how often the key count is read while waiting for the
	// expiry to start.
	killPoll = 2 * time.Millisecond
)

// TestKill9DuringLeaseExpiry kills strata with SIGKILL while many leases
// are expiring, restarts it on the same database, and checks that each
// lease's keys are all there (with the lease) or all gone (with the lease),
// and that the leases left still expire after the restart.
func TestKill9DuringLeaseExpiry(t *testing.T) {
	dsn := freshDSN(t)
	p := startStrata(t, dsn)
	cli := newClient(t, p.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), killOpTimeout)
	defer cancel()
	ids := make([]clientv3.LeaseID, killLeases)
	errs := make(chan error, killLeases)
	sem := make(chan struct{}, killGranters)
	for i := range ids {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			errs <- grantWithKeys(ctx, cli, i, &ids[i])
		}()
	}
	for range ids {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	total := int64(killLeases * killKeysPerLease)
	// Kill as soon as the expiry has deleted some keys but not all.
	for {
		r, err := cli.Get(ctx, "kill/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			t.Fatalf("count: %v", err)
		}
		if r.Count < total {
			p.kill()
			t.Logf("killed with %d of %d keys left", r.Count, total)
			break
		}
		time.Sleep(killPoll)
	}
	cli.Close()

	restarted := time.Now()
	p = startStrata(t, dsn)
	cli = newClient(t, p.Addr)
	defer cli.Close()
	left := checkAllOrNothing(t, cli, ids)
	t.Logf("after restart: %d of %d leases left", left, killLeases)
	deadline := restarted.Add(killTTL*time.Second + 3*time.Second)
	for {
		r, err := cli.Get(context.Background(), "kill/", clientv3.WithPrefix(), clientv3.WithCountOnly())
		if err != nil {
			t.Fatal(err)
		}
		if r.Count == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keys of leases left by the crash never expired", r.Count)
		}
		time.Sleep(50 * time.Millisecond)
	}
	checkAllOrNothing(t, cli, ids)
	if ls, err := cli.Leases(context.Background()); err != nil || len(ls.Leases) != 0 {
		t.Fatalf("leases after expiry: %v %v", ls, err)
	}
}

// grantWithKeys grants lease i and attaches its keys in one Txn.
func grantWithKeys(ctx context.Context, cli *clientv3.Client, i int, id *clientv3.LeaseID) error {
	l, err := cli.Grant(ctx, killTTL)
	if err != nil {
		return fmt.Errorf("grant: %w", err)
	}
	*id = l.ID
	var puts []clientv3.Op
	for k := range killKeysPerLease {
		puts = append(puts, clientv3.OpPut(killKey(i, k), "v", clientv3.WithLease(l.ID)))
	}
	if _, err := cli.Txn(ctx).Then(puts...).Commit(); err != nil {
		return fmt.Errorf("attach: %w", err)
	}
	return nil
}

func killKey(lease, k int) string { return fmt.Sprintf("kill/%04d/%d", lease, k) }

// checkAllOrNothing checks that each lease exists with all its keys, or
// neither it nor any of its keys does, and returns how many exist.
func checkAllOrNothing(t *testing.T, cli *clientv3.Client, ids []clientv3.LeaseID) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), killOpTimeout)
	defer cancel()
	snap, err := cli.Get(ctx, "kill/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	keys := map[clientv3.LeaseID]int{}
	for _, kv := range snap.Kvs {
		keys[clientv3.LeaseID(kv.Lease)]++
	}
	left := 0
	for i, id := range ids {
		ttl, err := cli.TimeToLive(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		// Keys read before the lease: a lease may expire in between, never
		// come back, so a lease that exists had its keys in the snapshot.
		n := keys[id]
		switch {
		case n != 0 && n != killKeysPerLease:
			t.Errorf("lease %d: %d of %d keys", i, n, killKeysPerLease)
		case ttl.TTL != -1 && n == 0:
			t.Errorf("lease %d exists without its keys", i)
		}
		if n != 0 {
			left++
		}
	}
	return left
}
