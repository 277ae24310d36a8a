package lease

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-db/strata/endpoint"
	"github.com/strata-db/strata/test/testserver"
)

const (
	// expirySlack is how late after its TTL a lease may expire.
	expirySlack = 1 * time.Second
	// expiryPoll is the period of the checks for expired keys.
	expiryPoll = 50 * time.Millisecond
)

// startOn starts Strata on an existing database.
func startOn(t *testing.T, dsn string) *testserver.Server {
	t.Helper()
	return testserver.StartStrata(t, testserver.Options{Configure: func(c *endpoint.Config) { c.Endpoint = dsn }})
}

// TestRestart: leases and their keys survive a restart, once, not twice;
// the restart renews them (none expires early because the server was
// down longer than its TTL), and they still expire afterwards.
func TestRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "state.db")
	srv := startOn(t, dsn)
	cli := srv.Client(t)
	short, err := cli.Grant(ctx, sessionTTL)
	if err != nil {
		t.Fatal(err)
	}
	long, err := cli.Grant(ctx, 600)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"r/short/1", "r/short/2"} {
		if _, err := cli.Put(ctx, k, "v", clientv3.WithLease(short.ID)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli.Put(ctx, "r/long", "v", clientv3.WithLease(long.ID)); err != nil {
		t.Fatal(err)
	}
	cli.Close()
	srv.Close()
	// Down for longer than the short lease's TTL.
	time.Sleep(sessionTTL*time.Second + 200*time.Millisecond)

	restarted := time.Now()
	srv = startOn(t, dsn)
	cli = srv.Client(t)
	leases, err := cli.Leases(ctx)
	if err != nil || len(leases.Leases) != 2 {
		t.Fatalf("leases after restart: %+v %v", leases, err)
	}
	ttl, err := cli.TimeToLive(ctx, short.ID, clientv3.WithAttachedKeys())
	if err != nil || ttl.GrantedTTL != sessionTTL || ttl.TTL < sessionTTL-1 || len(ttl.Keys) != 2 {
		t.Fatalf("short lease after restart: %+v %v", ttl, err)
	}
	awaitGone(t, cli, "r/short/", 2, restarted, sessionTTL*time.Second)
	if r, err := cli.Get(ctx, "r/long"); err != nil || r.Count != 1 || r.Kvs[0].Lease != int64(long.ID) {
		t.Fatalf("long lease's key: %v %v", r, err)
	}

	// A second restart finds exactly what the first left.
	cli.Close()
	srv.Close()
	srv = startOn(t, dsn)
	cli = srv.Client(t)
	if leases, err := cli.Leases(ctx); err != nil || len(leases.Leases) != 1 || leases.Leases[0].ID != long.ID {
		t.Fatalf("leases after the second restart: %+v %v", leases, err)
	}
	if r, err := cli.Get(ctx, "r/", clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil || r.Count != 1 {
		t.Fatalf("keys after the second restart: %v %v", r, err)
	}
}

// awaitGone polls the n keys under prefix until they are gone, and checks
// that they went all at once, not before from + ttl and by from + ttl +
// expirySlack.
func awaitGone(t *testing.T, cli *clientv3.Client, prefix string, n int64, from time.Time, ttl time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ttl+10*time.Second)
	defer cancel()
	for {
		sent := time.Now()
		r, err := cli.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
		switch {
		case err != nil:
			t.Fatalf("get %s: %v", prefix, err)
		case r.Count == n:
		case r.Count != 0:
			t.Fatalf("%d of %d keys left: an expiry deletes all at once", r.Count, n)
		case time.Now().Before(from.Add(ttl)):
			t.Fatalf("keys gone %v after %v, before the TTL %v", time.Since(from), from, ttl)
		default:
			if late := sent.Sub(from); late > ttl+expirySlack {
				t.Errorf("keys still there %v after the TTL started, TTL %v", late, ttl)
			}
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("keys never expired")
		case <-time.After(expiryPoll):
		}
	}
}
