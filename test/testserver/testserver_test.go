package testserver

import (
	"context"
	"testing"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// TestStrataSmoke checks that a fresh Strata answers the basics a client
// needs before any suite runs against it.
func TestStrataSmoke(t *testing.T) {
	s := StartStrata(t, Options{})
	c := s.Client(t)
	ctx := context.Background()
	g, err := c.Get(ctx, "", clientv3.WithFromKey())
	if err != nil {
		t.Fatal(err)
	}
	if g.Header.Revision != 1 || len(g.Kvs) != 0 {
		t.Fatalf("fresh store: revision %d, %d keys; want 1, 0", g.Header.Revision, len(g.Kvs))
	}
	p, err := c.Put(ctx, "a", "1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Header.Revision != 2 {
		t.Fatalf("put revision %d, want 2", p.Header.Revision)
	}
	g, err = c.Get(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Kvs) != 1 || string(g.Kvs[0].Value) != "1" || g.Kvs[0].Version != 1 || g.Kvs[0].CreateRevision != 2 {
		t.Fatalf("get a: %+v", g.Kvs)
	}
}

// TestBackendsSmoke runs the smoke test on every enabled backend.
func TestBackendsSmoke(t *testing.T) {
	for _, b := range Backends() {
		t.Run(b, func(t *testing.T) {
			s := StartStrata(t, Options{Backend: b})
			c := s.Client(t)
			ctx := context.Background()
			if _, err := c.Put(ctx, "k", "v"); err != nil {
				t.Fatal(err)
			}
			g, err := c.Get(ctx, "k")
			if err != nil || len(g.Kvs) != 1 || g.Header.Revision != 2 {
				t.Fatalf("get: %v %+v", err, g)
			}
		})
	}
}
