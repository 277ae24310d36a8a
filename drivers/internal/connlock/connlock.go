// Package connlock holds named, session-scoped database locks (PostgreSQL
// advisory locks, MySQL GET_LOCK) each on a connection of its own, and
// reports a lock as lost when that connection dies. It implements
// kv.Locker for the drivers of shared databases.
package connlock

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"sync"
	"time"

	"github.com/strata-db/strata/pkg/kv"
)

const (
	// checkInterval is how often a held lock's connection is pinged.
	checkInterval = 1 * time.Second
	// pingTimeout bounds one ping: a connection that does not answer in
	// that time (network cut without a reset) counts as dead.
	pingTimeout = 3 * time.Second
	// releaseTimeout bounds the unlock statement on release.
	releaseTimeout = 2 * time.Second
)

// Dialect is what differs: the statements that take and give up a lock on
// the session of conn.
type Dialect interface {
	// TryLock takes the lock without waiting and reports whether it did.
	TryLock(ctx context.Context, conn *sql.Conn, name string) (bool, error)
	// Unlock gives the lock up.
	Unlock(ctx context.Context, conn *sql.Conn, name string) error
}

// Locker implements kv.Locker over a pool. Close releases every lock and
// joins the goroutines watching them.
type Locker struct {
	db *sql.DB
	d  Dialect

	stop chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	held   map[string]bool // guarded by mu: names this process holds
	closed bool            // guarded by mu
}

var _ kv.Locker = (*Locker)(nil)

// New returns a Locker taking connections from db.
func New(db *sql.DB, d Dialect) *Locker {
	return &Locker{db: db, d: d, stop: make(chan struct{}), held: map[string]bool{}}
}

// TryLock implements kv.Locker. A name is held at most once per process: a
// second TryLock of a name this process already holds reports false.
func (l *Locker) TryLock(ctx context.Context, name string) (bool, <-chan struct{}, func(), error) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return false, nil, nil, kv.ErrClosed
	}
	if l.held[name] {
		l.mu.Unlock()
		return false, nil, nil, nil
	}
	l.held[name] = true
	l.mu.Unlock()
	held, lost, release, err := l.take(ctx, name)
	if !held {
		l.forget(name)
	}
	return held, lost, release, err
}

func (l *Locker) take(ctx context.Context, name string) (bool, <-chan struct{}, func(), error) {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return false, nil, nil, fmt.Errorf("%w: lock connection: %v", kv.ErrUnavailable, err)
	}
	ok, err := l.d.TryLock(ctx, conn, name)
	if err != nil || !ok {
		discard(conn)
		if err != nil {
			return false, nil, nil, fmt.Errorf("%w: try lock %q: %v", kv.ErrUnavailable, name, err)
		}
		return false, nil, nil, nil
	}
	lost := make(chan struct{})
	quit := make(chan struct{})
	var once sync.Once
	release := func() {
		once.Do(func() { close(quit) })
	}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		defer l.forget(name)
		l.watch(conn, name, lost, quit)
	}()
	return true, lost, release, nil
}

// watch pings the lock's connection until release or Close, closing lost if
// the connection dies. The connection is always discarded at the end, never
// returned to the pool, so that no pooled session keeps the lock.
func (l *Locker) watch(conn *sql.Conn, name string, lost chan struct{}, quit chan struct{}) {
	defer discard(conn)
	t := time.NewTicker(checkInterval)
	defer t.Stop()
	for {
		select {
		case <-quit:
			unlock(l.d, conn, name)
			return
		case <-l.stop:
			unlock(l.d, conn, name)
			close(lost)
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
			err := conn.PingContext(ctx)
			cancel()
			if err != nil {
				close(lost)
				return
			}
		}
	}
}

func unlock(d Dialect, conn *sql.Conn, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	_ = d.Unlock(ctx, conn, name) // the connection is discarded anyway
}

// discard closes conn's driver connection instead of returning it to the
// pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

func (l *Locker) forget(name string) {
	l.mu.Lock()
	delete(l.held, name)
	l.mu.Unlock()
}

// Close releases every held lock (closing their lost channels) and waits for
// the watchers to stop.
func (l *Locker) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	close(l.stop)
	l.wg.Wait()
	return nil
}
