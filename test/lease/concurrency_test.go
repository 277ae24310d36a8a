package lease

import (
	"context"
	"errors"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/strata-db/strata/test/testserver"
)

const (
	// sessionTTL is etcd's minimum lease TTL, in seconds.
	sessionTTL = 2
	// handover bounds how long a waiter takes to win after the winner's
	// session died: its TTL, a second of expiry slack, a second for the
	// watch to deliver.
	handover = (sessionTTL + 2) * time.Second
	// stillBlocked is how long a waiter is watched to stay blocked.
	stillBlocked = 300 * time.Millisecond
)

// forEachServer runs fn, in parallel subtests, against embedded etcd and
// against Strata.
func forEachServer(t *testing.T, fn func(t *testing.T, srv *testserver.Server)) {
	t.Helper()
	t.Run("etcd", func(t *testing.T) {
		t.Parallel()
		fn(t, testserver.StartEtcd(t))
	})
	t.Run("strata", func(t *testing.T) {
		t.Parallel()
		fn(t, testserver.StartStrata(t, testserver.Options{}))
	})
}

func newSession(t *testing.T, cli *clientv3.Client) *concurrency.Session {
	t.Helper()
	s, err := concurrency.NewSession(cli, concurrency.WithTTL(sessionTTL))
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	return s
}

func TestSession(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv *testserver.Server) {
		ctx := context.Background()
		cli := srv.Client(t)
		s := newSession(t, cli)
		if _, err := cli.Put(ctx, "sess/k", "v", clientv3.WithLease(s.Lease())); err != nil {
			t.Fatal(err)
		}
		// Kept alive past its TTL by the session.
		time.Sleep(sessionTTL*time.Second + 500*time.Millisecond)
		ttl, err := cli.TimeToLive(ctx, s.Lease(), clientv3.WithAttachedKeys())
		if err != nil || ttl.TTL <= 0 || len(ttl.Keys) != 1 {
			t.Fatalf("kept-alive lease: %+v %v", ttl, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		select {
		case <-s.Done():
		case <-time.After(handover):
			t.Fatal("session not done after Close")
		}
		resp, err := cli.Get(ctx, "sess/k")
		if err != nil || resp.Count != 0 {
			t.Errorf("key of a closed session: %v %v", resp, err)
		}
	})
}

func TestElection(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv *testserver.Server) {
		ctx, cancel := context.WithTimeout(context.Background(), 4*handover)
		defer cancel()
		c1, c2 := srv.Client(t), srv.Client(t)
		s1, s2 := newSession(t, c1), newSession(t, c2)
		e1, e2 := concurrency.NewElection(s1, "/el/"), concurrency.NewElection(s2, "/el/")
		if err := e1.Campaign(ctx, "one"); err != nil {
			t.Fatalf("first campaign: %v", err)
		}
		won := make(chan error, 1)
		go func() { won <- e2.Campaign(ctx, "two") }()
		select {
		case err := <-won:
			t.Fatalf("second campaigner won while the first leads: %v", err)
		case <-time.After(stillBlocked):
		}
		if l, err := e1.Leader(ctx); err != nil || string(l.Kvs[0].Value) != "one" {
			t.Fatalf("leader: %v %v", l, err)
		}
		// The winner's process dies: its keepalives stop, its lease expires.
		s1.Orphan()
		c1.Close()
		select {
		case err := <-won:
			if err != nil {
				t.Fatalf("second campaign: %v", err)
			}
		case <-time.After(handover):
			t.Fatal("second campaigner did not win after the leader's session died")
		}
		if l, err := e2.Leader(ctx); err != nil || string(l.Kvs[0].Value) != "two" {
			t.Fatalf("new leader: %v %v", l, err)
		}
		if err := e2.Resign(ctx); err != nil {
			t.Fatalf("resign: %v", err)
		}
		if _, err := e2.Leader(ctx); !errors.Is(err, concurrency.ErrElectionNoLeader) {
			t.Errorf("leader after resign: %v", err)
		}
	})
}

func TestMutex(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv *testserver.Server) {
		ctx, cancel := context.WithTimeout(context.Background(), 4*handover)
		defer cancel()
		c1, c2 := srv.Client(t), srv.Client(t)
		m1 := concurrency.NewMutex(newSession(t, c1), "/lock/")
		m2 := concurrency.NewMutex(newSession(t, c2), "/lock/")
		if err := m1.Lock(ctx); err != nil {
			t.Fatalf("lock: %v", err)
		}
		if err := m2.TryLock(ctx); !errors.Is(err, concurrency.ErrLocked) {
			t.Fatalf("try lock of a held mutex: %v", err)
		}
		got := make(chan error, 1)
		go func() { got <- m2.Lock(ctx) }()
		select {
		case err := <-got:
			t.Fatalf("second locker got a held mutex: %v", err)
		case <-time.After(stillBlocked):
		}
		if err := m1.Unlock(ctx); err != nil {
			t.Fatalf("unlock: %v", err)
		}
		select {
		case err := <-got:
			if err != nil {
				t.Fatalf("second lock: %v", err)
			}
		case <-time.After(handover):
			t.Fatal("second locker did not get the mutex after unlock")
		}
		if err := m2.Unlock(ctx); err != nil {
			t.Fatalf("second unlock: %v", err)
		}
	})
}
