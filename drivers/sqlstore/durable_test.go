package sqlstore

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// blockingSync is a sync function that blocks until released and counts
// its calls.
type blockingSync struct {
	calls   atomic.Int64
	release chan error
}

func newBlockingSync() *blockingSync { return &blockingSync{release: make(chan error)} }

func (b *blockingSync) sync() error {
	b.calls.Add(1)
	return <-b.release
}

// returned runs fn in a goroutine and returns a channel that receives its
// error once it returns.
func returned(fn func() error) <-chan error {
	c := make(chan error, 1)
	go func() { c <- fn() }()
	return c
}

// pending fails the test if c has a value now.
func pending(t *testing.T, c <-chan error, what string) {
	t.Helper()
	select {
	case err := <-c:
		t.Fatalf("%s returned (%v) before the sync finished", what, err)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestSyncGateWriterAndReaderWaitForTheSync(t *testing.T) {
	s := newBlockingSync()
	g := newSyncGate(s.sync)
	seq, err := g.commit(func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	writer := returned(func() error { return g.wait(seq) })
	reader := returned(g.waitIssued)
	pending(t, writer, "the writer's wait")
	pending(t, reader, "a reader that may have seen the commit")
	s.release <- nil
	if err := <-writer; err != nil {
		t.Fatal(err)
	}
	if err := <-reader; err != nil {
		t.Fatal(err)
	}
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("%d syncs for one commit and two waiters, want 1", n)
	}
	// Nothing new committed: no sync, no wait.
	if err := g.waitIssued(); err != nil {
		t.Fatal(err)
	}
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("%d syncs, want still 1", n)
	}
}

func TestSyncGateOneSyncCoversEveryEarlierCommit(t *testing.T) {
	s := newBlockingSync()
	g := newSyncGate(s.sync)
	var seqs []uint64
	for range 5 {
		seq, _ := g.commit(func() error { return nil })
		seqs = append(seqs, seq)
	}
	last := returned(func() error { return g.wait(seqs[4]) })
	for s.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	s.release <- nil
	if err := <-last; err != nil {
		t.Fatal(err)
	}
	for _, seq := range seqs {
		if err := g.wait(seq); err != nil {
			t.Fatal(err)
		}
	}
	if n := s.calls.Load(); n != 1 {
		t.Fatalf("%d syncs for 5 commits, want 1", n)
	}
}

func TestSyncGateWaitsForACommitInProgress(t *testing.T) {
	s := newBlockingSync()
	g := newSyncGate(s.sync)
	inCommit, finish := make(chan struct{}), make(chan struct{})
	go g.commit(func() error {
		close(inCommit)
		<-finish
		return nil
	})
	<-inCommit
	// A reader that ran while the COMMIT was under way may have seen it: it
	// waits for it to finish and be synced.
	reader := returned(g.waitIssued)
	pending(t, reader, "a reader during a commit")
	if n := s.calls.Load(); n != 0 {
		t.Fatalf("synced before the commit finished (%d syncs)", n)
	}
	close(finish)
	for s.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	s.release <- nil
	if err := <-reader; err != nil {
		t.Fatal(err)
	}
}

func TestSyncGateFailedSyncFailsEveryLaterWait(t *testing.T) {
	s := newBlockingSync()
	g := newSyncGate(s.sync)
	seq, _ := g.commit(func() error { return nil })
	w := returned(func() error { return g.wait(seq) })
	s.release <- errors.New("EIO")
	if err := <-w; err == nil {
		t.Fatal("wait after a failed sync returned nil")
	}
	seq, _ = g.commit(func() error { return nil })
	if err := g.wait(seq); err == nil {
		t.Fatal("a commit after a failed sync was reported durable")
	}
	if err := g.waitIssued(); err == nil {
		t.Fatal("a read after a failed sync was allowed")
	}
}
