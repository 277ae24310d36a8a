package postgres

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strata-db/strata/pkg/kv"
	"github.com/strata-db/strata/test/testdb"
)

func TestRebind(t *testing.T) {
	got := Dialect{}.Rebind("SELECT a FROM t WHERE x = ? AND y IN (?, ?)")
	if want := "SELECT a FROM t WHERE x = $1 AND y IN ($2, $3)"; got != want {
		t.Fatalf("Rebind = %q, want %q", got, want)
	}
}

func TestConnConfig(t *testing.T) {
	cases := []struct {
		name, dsn string
		tls       bool
		wantDB    string
		wantErr   bool
	}{
		{"default database", "postgres://u:p@db.example:5432?sslmode=disable", false, DefaultDatabase, false},
		{"postgresql scheme", "postgresql://u@db.example/k8s?sslmode=disable", false, "k8s", false},
		{"with TLS files", "postgres://u@127.0.0.1/k8s", true, "k8s", false},
		{"wrong scheme", "mysql://u@tcp(x)/y", false, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{DSN: c.dsn}
			if c.tls {
				cfg.CAFile = "testdata/none-ca.pem"
			}
			cc, err := ConnConfig(cfg)
			if c.wantErr || c.tls {
				// A missing CA file fails the parse: proof that it was used.
				if err == nil {
					t.Fatalf("ConnConfig(%q) succeeded, want an error", c.dsn)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cc.Database != c.wantDB {
				t.Fatalf("database %q, want %q", cc.Database, c.wantDB)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want error
	}{
		{&pgconn.PgError{Code: "40001"}, kv.ErrConflict},
		{&pgconn.PgError{Code: "40P01"}, kv.ErrConflict},
		{&pgconn.PgError{Code: "57P01"}, kv.ErrUnavailable},
		{&pgconn.PgError{Code: "08006"}, kv.ErrUnavailable},
		{&pgconn.PgError{Code: "25006"}, kv.ErrUnavailable},
		{fmt.Errorf("x: %w", context.Canceled), context.Canceled},
	}
	for _, c := range cases {
		if got := (Dialect{}).Classify(c.err); !errors.Is(got, c.want) {
			t.Errorf("Classify(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	if got := (Dialect{}).Classify(&pgconn.PgError{Code: "23505"}); errors.Is(got, kv.ErrUnavailable) || errors.Is(got, kv.ErrConflict) {
		t.Errorf("a unique violation is neither unavailable nor a conflict: %v", got)
	}
}

// open opens a backend on a fresh database, or skips.
func open(t *testing.T, dsn string) *Backend {
	t.Helper()
	b, err := Open(context.Background(), Config{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestLocker: one holder at a time across processes; a killed connection
// closes lost; a release lets the other take it.
func TestLocker(t *testing.T) {
	dsn := testdb.FreshDSN(t, "postgres")
	a, b := open(t, dsn), open(t, dsn)
	ctx := context.Background()
	held, lost, release, err := a.TryLock(ctx, "expirer")
	if err != nil || !held {
		t.Fatalf("a: held %v, err %v", held, err)
	}
	if held, _, _, err := b.TryLock(ctx, "expirer"); err != nil || held {
		t.Fatalf("b took a held lock: %v %v", held, err)
	}
	release()
	waitFor(t, func() bool { h, _, rel, _ := b.TryLock(ctx, "expirer"); release = rel; return h })
	// Kill b's lock session: lost must close.
	_, lost, _, _ = b.lockedAgain(t, release)
	if _, err := a.DB().ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks
		WHERE locktype = 'advisory' AND objid = ($1::bigint & 4294967295)::oid AND granted`, lockKey("expirer")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("lost not closed after the lock's connection was killed")
	}
	waitFor(t, func() bool { h, _, _, _ := a.TryLock(ctx, "expirer"); return h })
}

// lockedAgain releases and retakes the lock, returning the new lost channel.
func (b *Backend) lockedAgain(t *testing.T, release func()) (bool, <-chan struct{}, func(), error) {
	t.Helper()
	release()
	var lost <-chan struct{}
	waitFor(t, func() bool {
		h, l, rel, _ := b.TryLock(context.Background(), "expirer")
		lost, release = l, rel
		return h
	})
	return true, lost, release, nil
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNotifier: a commit through one backend wakes the other one's
// Notifications, and not its own.
func TestNotifier(t *testing.T) {
	dsn := testdb.FreshDSN(t, "postgres")
	a, b := open(t, dsn), open(t, dsn)
	drain := func(c <-chan struct{}, d time.Duration) bool {
		select {
		case <-c:
			return true
		case <-time.After(d):
			return false
		}
	}
	// The first signal after LISTEN is established.
	drain(b.Notifications(), 5*time.Second)
	drain(a.Notifications(), 5*time.Second)
	ctx := context.Background()
	start := time.Now()
	err := a.Write(ctx, func(tx kv.WriteTxn) error {
		rev, _, err := tx.Revisions(ctx)
		if err != nil {
			return err
		}
		if err := tx.Append(ctx, rev+1, []kv.Change{{KV: &kv.KeyValue{Key: []byte("k"), Value: []byte("v"), CreateRevision: rev + 1, ModRevision: rev + 1, Version: 1}}}); err != nil {
			return err
		}
		return tx.SetRevision(ctx, rev+1)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !drain(b.Notifications(), 5*time.Second) {
		t.Fatal("b was not notified of a's commit")
	}
	t.Logf("notified in %v", time.Since(start))
	if drain(a.Notifications(), 200*time.Millisecond) {
		t.Error("a was notified of its own commit")
	}
}
