package compactor

import (
	"context"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/kv"
)

// fakeStore's revision grows by one on every read; it records compactions.
type fakeStore struct {
	mu        sync.Mutex
	rev       int64
	compacted []int64
}

func (f *fakeStore) CurrentRevision(context.Context) (int64, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rev++
	return f.rev, 0, nil
}

func (f *fakeStore) Compact(_ context.Context, r *pb.CompactionRequest) (*pb.CompactionResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.compacted); n > 0 && r.Revision <= f.compacted[n-1] {
		return nil, kv.ErrCompacted
	}
	f.compacted = append(f.compacted, r.Revision)
	return &pb.CompactionResponse{}, nil
}

func (f *fakeStore) wait(t *testing.T, n int) []int64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		c := append([]int64(nil), f.compacted...)
		f.mu.Unlock()
		if len(c) >= n {
			return c
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("fewer than %d compactions", n)
	return nil
}

func TestParseRetention(t *testing.T) {
	for _, c := range []struct {
		mode, in string
		want     time.Duration
		err      bool
	}{
		{ModePeriodic, "1", time.Hour, false},
		{ModePeriodic, "30m", 30 * time.Minute, false},
		{ModePeriodic, "0", 0, false},
		{ModeRevision, "1000", 1000, false},
		{ModeRevision, "1h", 0, true},
		{"hourly", "1", 0, true},
		{ModePeriodic, "soon", 0, true},
	} {
		got, err := ParseRetention(c.mode, c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseRetention(%q, %q) = %v, %v", c.mode, c.in, got, err)
		}
	}
}

// TestRevisionMode compacts to the current revision minus the retention.
func TestRevisionMode(t *testing.T) {
	f := &fakeStore{rev: 100}
	c, err := New(Config{Mode: ModeRevision, Retention: 10, Store: f, Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := f.wait(t, 2)
	if got[0] != 91 || got[1] <= got[0] {
		t.Fatalf("compactions %v: want 91 (101-10), then higher", got)
	}
}

// TestPeriodicMode waits a whole retention, then compacts to the revision
// sampled a retention ago.
func TestPeriodicMode(t *testing.T) {
	f := &fakeStore{}
	start := time.Now()
	c, err := New(Config{Mode: ModePeriodic, Retention: 100 * time.Millisecond, Store: f, Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := f.wait(t, 1)
	if took := time.Since(start); took < 100*time.Millisecond {
		t.Fatalf("compacted after %v, before the retention passed", took)
	}
	f.mu.Lock()
	cur := f.rev
	f.mu.Unlock()
	if got[0] <= 0 || got[0] > cur-9 {
		t.Fatalf("compacted to %d with the revision at %d: want a revision about 10 samples old", got[0], cur)
	}
}

// lockedOut is a backend whose lock another process holds.
type lockedOut struct{ kv.Backend }

func (lockedOut) TryLock(context.Context, string) (bool, <-chan struct{}, func(), error) {
	return false, nil, nil, nil
}

// TestOnlyTheLockHolderCompacts: a process that cannot take the lock
// never compacts.
func TestOnlyTheLockHolderCompacts(t *testing.T) {
	f := &fakeStore{rev: 100}
	c, err := New(Config{Mode: ModeRevision, Retention: 10, Store: f, Backend: lockedOut{}, Interval: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	c.Close()
	if len(f.compacted) != 0 {
		t.Fatalf("compacted %v without the lock", f.compacted)
	}
}
