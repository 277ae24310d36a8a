package diff

import (
	"context"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"
)

const (
	// expirySlack is how late after its TTL a lease may expire.
	expirySlack = 1 * time.Second
	// expiryPoll is the period of the checks for the keys of an expiring
	// lease.
	expiryPoll = 50 * time.Millisecond
)

// onBoth runs fn for etcd and Strata at the same time.
func onBoth(p *Pair, fn func(s *Side)) {
	var wg sync.WaitGroup
	for _, s := range []*Side{p.Etcd, p.Strata} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(s)
		}()
	}
	wg.Wait()
}

// grantWithKeys grants lease id with ttl on s and attaches keys to it. It
// returns when the grant was sent: the lease cannot expire before
// that + ttl.
func grantWithKeys(t *testing.T, s *Side, id, ttl int64, keys ...string) time.Time {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), CallTimeout)
	defer cancel()
	sent := time.Now()
	if _, err := s.Lease.LeaseGrant(ctx, &pb.LeaseGrantRequest{ID: id, TTL: ttl}); err != nil {
		t.Errorf("%s: grant: %v", s.Name, err)
	}
	for _, k := range keys {
		if _, err := s.KV.Put(ctx, &pb.PutRequest{Key: []byte(k), Value: []byte("v"), Lease: id}); err != nil {
			t.Errorf("%s: put %s: %v", s.Name, k, err)
		}
	}
	return sent
}

// awaitExpiry polls the keys of [key, end) until none is left, and checks
// that they all went at once, not before from + ttl, and by from + ttl +
// expirySlack. want is how many keys there are before the expiry.
func awaitExpiry(t *testing.T, s *Side, key, end string, want int64, from time.Time, ttl time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ttl+expirySlack+CallTimeout)
	defer cancel()
	for {
		sent := time.Now()
		resp, err := s.KV.Range(ctx, &pb.RangeRequest{Key: []byte(key), RangeEnd: []byte(end), CountOnly: true})
		answered := time.Now()
		if err != nil {
			t.Errorf("%s: range: %v", s.Name, err)
			return
		}
		switch {
		case resp.Count == want:
		case resp.Count == 0 && answered.Before(from.Add(ttl)):
			t.Errorf("%s: keys gone %v after the grant, before the TTL %v", s.Name, answered.Sub(from), ttl)
			return
		case resp.Count == 0:
			if late := sent.Sub(from); late > ttl+expirySlack {
				t.Errorf("%s: keys still there %v after the grant, TTL %v", s.Name, late, ttl)
			}
			return
		default:
			t.Errorf("%s: %d of %d keys left: an expiry must delete all at once", s.Name, resp.Count, want)
			return
		}
		select {
		case <-ctx.Done():
			t.Errorf("%s: keys never expired", s.Name)
			return
		case <-time.After(expiryPoll):
		}
	}
}

// TestLeaseExpiry lets minimum-TTL leases expire on both servers, in
// parallel subtests, and compares what is left.
func TestLeaseExpiry(t *testing.T) {
	t.Parallel()
	ttl := time.Duration(minTTL) * time.Second
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		t.Run("keys deleted", func(t *testing.T) {
			t.Parallel()
			const id = 0x4001
			onBoth(p, func(s *Side) {
				from := grantWithKeys(t, s, id, minTTL, "e1/a", "e1/b", "e1/c")
				awaitExpiry(t, s, "e1/", "e10", 3, from, ttl)
			})
			p.RunOps(t, []Op{
				Unordered(LeaseTTLOp("lease gone", id, true)),
				Unordered(KeepAliveOp("keepalive after expiry", id)),
				Unordered(LeaseRevokeOp("revoke after expiry", id)),
				Unordered(PutOp("put with expired lease", &pb.PutRequest{Key: []byte("e1/a"), Lease: id})),
			})
		})
		t.Run("keepalive keeps it", func(t *testing.T) {
			t.Parallel()
			const id = 0x4002
			onBoth(p, func(s *Side) {
				grantWithKeys(t, s, id, minTTL, "e2/a")
				var last time.Time
				for range 6 {
					time.Sleep(ttl / 4)
					last = time.Now()
					if r, err := keepAliveOnce(context.Background(), s, id); err != nil || r.TTL != minTTL {
						t.Errorf("%s: keepalive: %v %v", s.Name, r, err)
					}
				}
				awaitExpiry(t, s, "e2/", "e20", 1, last, ttl)
			})
		})
		t.Run("detached key survives", func(t *testing.T) {
			t.Parallel()
			const id = 0x4003
			onBoth(p, func(s *Side) {
				from := grantWithKeys(t, s, id, minTTL, "e3/a", "e3/b")
				if _, err := s.KV.Put(context.Background(), &pb.PutRequest{Key: []byte("e3/b"), Value: []byte("w")}); err != nil {
					t.Errorf("%s: detach: %v", s.Name, err)
				}
				awaitExpiry(t, s, "e3/a", "", 1, from, ttl)
			})
			p.RunOps(t, []Op{Unordered(GetOp("detached key left", "e3/", "e30"))})
		})
	})
}

// TestLeaseExpiryEvents checks that an expiry reaches watchers as one
// delete event per key, all at one revision, as a revoke does.
func TestLeaseExpiryEvents(t *testing.T) {
	t.Parallel()
	const id = 0x4100
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		onBoth(p, func(s *Side) { grantWithKeys(t, s, id, minTTL, "w/a", "w/b") })
		ew := watchEvents(t, p.Etcd, "w/", "w0", 4)
		sw := watchEvents(t, p.Strata, "w/", "w0", 4)
		if sw == nil {
			t.Skip("Strata has no Watch service yet")
		}
		var e, s []*mvccpb.Event
		onBoth(p, func(side *Side) {
			if side == p.Etcd {
				e = ew(2)
			} else {
				s = sw(2)
			}
		})
		if d := Mismatch(Result{Resp: events(e)}, Result{Resp: events(s)}); d != "" {
			t.Errorf("expiry events: %s", d)
		}
	})
}
