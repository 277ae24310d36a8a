package sqlstore

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/strata-db/strata/pkg/kv"
)

// syncGate makes the commits of a write pool durable in groups, for a
// database whose COMMIT does not sync (SQLite in WAL mode with
// synchronous=NORMAL: the commit writes its frames to the WAL and returns).
// One fdatasync of the WAL then covers every commit written before it.
//
// Commits are numbered in the order they are issued. A writer waits until
// its number is synced; a reader, after its snapshot, waits until every
// commit issued so far is synced, so no answer shows state that a power
// failure could still take back. Waiters elect one of themselves to run the
// sync, so there is no goroutine to join.
//
// The numbering assumes commits are serialised (a write pool of one
// connection): Open refuses a Sync with a larger pool.
type syncGate struct {
	sync func() error

	mu   sync.Mutex
	cond *sync.Cond
	// issued is the number of the last commit started, committed that of the
	// last one finished (successful or not), durable the last one synced.
	// durable <= committed <= issued.
	issued, committed, durable uint64
	syncing                    bool  // a waiter is running sync
	err                        error // sticky: after a failed sync nothing is known
	// settled mirrors issued == durable && err == nil, for readers' fast
	// path: a read while no commit is pending takes no lock.
	settled atomic.Bool
}

func newSyncGate(syncFn func() error) *syncGate {
	g := &syncGate{sync: syncFn}
	g.settled.Store(true)
	g.cond = sync.NewCond(&g.mu)
	return g
}

// commit runs commit as the next numbered commit and returns its number.
func (g *syncGate) commit(commit func() error) (uint64, error) {
	g.mu.Lock()
	g.issued++
	seq := g.issued
	g.settled.Store(false)
	g.mu.Unlock()
	err := commit()
	g.mu.Lock()
	g.committed = seq
	g.cond.Broadcast()
	g.mu.Unlock()
	return seq, err
}

// waitIssued waits until every commit issued so far is durable.
func (g *syncGate) waitIssued() error {
	if g.settled.Load() {
		return nil
	}
	g.mu.Lock()
	seq := g.issued
	g.mu.Unlock()
	return g.wait(seq)
}

// wait blocks until commit seq is durable, running the sync itself when no
// other waiter is.
func (g *syncGate) wait(seq uint64) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.durable < seq {
		if g.err != nil {
			return g.err
		}
		if g.syncing || g.committed < seq {
			g.cond.Wait()
			continue
		}
		g.syncing = true
		target := g.committed
		g.mu.Unlock()
		err := g.sync()
		g.mu.Lock()
		g.syncing = false
		if err != nil {
			g.err = fmt.Errorf("%w: sync of committed writes failed, restart to recover: %v", kv.ErrUnavailable, err)
		} else if target > g.durable {
			g.durable = target
		}
		g.settled.Store(g.err == nil && g.durable == g.issued)
		g.cond.Broadcast()
	}
	return nil
}
