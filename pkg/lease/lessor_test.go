package lease

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/drivers/sqlite"
	"github.com/strata-db/strata/drivers/sqlstore"
	"github.com/strata-db/strata/pkg/kv"
	"github.com/strata-db/strata/pkg/mvcc"
)

const (
	testTTL      = DefaultMinTTL
	testInterval = 50 * time.Millisecond
	// slack is how late after its TTL a lease may expire.
	slack = 1 * time.Second
)

// process is one Strata process over a shared database: its own
// connections, engine and lessor.
type process struct {
	st     *sqlstore.Store
	store  *mvcc.Store
	lessor *Lessor
}

// sharedLock is a kv.Locker shared by the processes of a test, as a
// database lock is. Its holder loses it when the test calls lose.
type sharedLock struct {
	mu     sync.Mutex
	holder string
	lost   chan struct{}
	cut    string // the process that lost the lock and cannot take it again
}

// lockerFunc adapts a function to kv.Locker.
type lockerFunc func(ctx context.Context, name string) (bool, <-chan struct{}, func(), error)

func (f lockerFunc) TryLock(ctx context.Context, name string) (bool, <-chan struct{}, func(), error) {
	return f(ctx, name)
}

func (s *sharedLock) forProcess(proc string) kv.Locker {
	return lockerFunc(func(context.Context, string) (bool, <-chan struct{}, func(), error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.holder != "" || s.cut == proc {
			return false, nil, nil, nil
		}
		s.holder, s.lost = proc, make(chan struct{})
		lost := s.lost
		return true, lost, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.lost == lost {
				s.holder, s.lost = "", nil
			}
		}, nil
	})
}

// lose takes the lock from its holder, as a dead lock connection does, and
// keeps the holder from taking it again, as a database it can no longer
// reach does. Without that the holder retries on the same ElectionRetry as
// the standby and may take the lock back first: correct, but no takeover.
func (s *sharedLock) lose() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lost != nil {
		close(s.lost)
	}
	s.holder, s.lost, s.cut = "", nil, s.holder
}

// lockedBackend is a backend with a Locker, as a shared database's is.
type lockedBackend struct {
	*sqlstore.Store
	kv.Locker
}

func startProcess(t testing.TB, dsn, name string, locker kv.Locker) *process {
	t.Helper()
	ctx := context.Background()
	// Processes with a locker share the file, as servers share PostgreSQL.
	st, err := sqlite.OpenWith(ctx, dsn, nil, sqlite.Options{Shared: locker != nil})
	if err != nil {
		t.Fatal(err)
	}
	store, err := mvcc.New(ctx, mvcc.Config{Backend: st})
	if err != nil {
		t.Fatal(err)
	}
	var be kv.Backend = st
	if locker != nil {
		be = lockedBackend{st, locker}
	}
	l, err := New(ctx, Config{Store: store, Backend: be, SweepInterval: testInterval, ElectionRetry: testInterval,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)).With("process", name)})
	if err != nil {
		t.Fatal(err)
	}
	p := &process{st: st, store: store, lessor: l}
	t.Cleanup(p.close)
	return p
}

func (p *process) close() {
	p.lessor.Close()
	p.store.Close()
	p.st.Close()
}

func (p *process) primary() bool {
	p.lessor.mu.Lock()
	defer p.lessor.mu.Unlock()
	return p.lessor.primary
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(string(b))
	return len(b), nil
}

// grantWithKey grants a lease through p and attaches key to it, returning
// when the grant was sent.
func grantWithKey(t testing.TB, p *process, key string) (int64, time.Time) {
	t.Helper()
	ctx := context.Background()
	sent := time.Now()
	resp, err := p.lessor.Grant(ctx, 0, testTTL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.store.Put(ctx, &pb.PutRequest{Key: []byte(key), Value: []byte("v"), Lease: resp.ID}); err != nil {
		t.Fatal(err)
	}
	return resp.ID, sent
}

// awaitRevoked waits for lease id to be gone, and checks it went not before
// from + TTL and by from + TTL + slack.
func awaitRevoked(t *testing.T, p *process, id int64, from time.Time) {
	t.Helper()
	ttl := testTTL * time.Second
	for {
		_, _, _, err := p.store.Lease(context.Background(), id)
		now := time.Now()
		switch {
		case errors.Is(err, kv.ErrLeaseNotFound) && now.Before(from.Add(ttl)):
			t.Fatalf("lease %x gone %v after %v, before its TTL", id, now.Sub(from), from)
		case errors.Is(err, kv.ErrLeaseNotFound):
			return
		case err != nil:
			t.Fatal(err)
		case now.After(from.Add(ttl + slack)):
			t.Fatalf("lease %x still there %v after %v", id, now.Sub(from), from)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func twoProcesses(t *testing.T) (primary, standby *process, lock *sharedLock) {
	t.Helper()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "state.db")
	lock = &sharedLock{}
	a, b := startProcess(t, dsn, "a", lock.forProcess("a")), startProcess(t, dsn, "b", lock.forProcess("b"))
	if !a.primary() || b.primary() {
		t.Fatalf("first process primary %v, second %v: want only the first", a.primary(), b.primary())
	}
	return a, b, lock
}

// A lease granted by a standby process is expired by the expirer, and a
// keepalive received by the standby keeps a lease alive.
func TestStandbyGrantsAndRenews(t *testing.T) {
	t.Parallel()
	primary, standby, _ := twoProcesses(t)
	expiring, from := grantWithKey(t, standby, "a")
	kept, _ := grantWithKey(t, standby, "b")
	stop := time.Now().Add(testTTL*time.Second + slack)
	for time.Now().Before(stop) {
		if _, err := standby.lessor.Renew(context.Background(), kept); err != nil {
			t.Fatalf("renew on the standby: %v", err)
		}
		time.Sleep(testTTL * time.Second / 4)
	}
	awaitRevoked(t, primary, expiring, from)
	if _, keys, _, err := primary.store.Lease(context.Background(), kept); err != nil || len(keys) != 1 {
		t.Fatalf("lease renewed on the standby: %v keys, %v", keys, err)
	}
}

// When the expirer's lock is lost (and it cannot take it back) or its
// process closes, it stops expiring and the standby takes over, renewing
// every lease (none expires early) and expiring them.
func TestTakeover(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"lock lost", "process closed"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			primary, standby, lock := twoProcesses(t)
			id, _ := grantWithKey(t, primary, "k")
			took := time.Now()
			if how == "lock lost" {
				lock.lose()
			} else {
				primary.close()
			}
			deadline := time.Now().Add(slack)
			for !standby.primary() {
				if time.Now().After(deadline) {
					t.Fatal("the standby did not take over")
				}
				time.Sleep(5 * time.Millisecond)
			}
			for how == "lock lost" && primary.primary() {
				if time.Now().After(deadline) {
					t.Fatal("the old expirer still expires after losing its lock")
				}
				time.Sleep(5 * time.Millisecond)
			}
			awaitRevoked(t, standby, id, took)
		})
	}
}

// A restart renews every lease: a lease whose TTL passed while no process
// ran is not expired at once.
func TestRestartRenews(t *testing.T) {
	t.Parallel()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "state.db")
	p := startProcess(t, dsn, "a", nil)
	id, _ := grantWithKey(t, p, "k")
	p.close()
	time.Sleep(testTTL*time.Second + 100*time.Millisecond)
	restarted := time.Now()
	p = startProcess(t, dsn, "a", nil)
	awaitRevoked(t, p, id, restarted)
}
