package multi

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/strata-db/strata/endpoint"
	"github.com/strata-db/strata/test/testserver"
)

const (
	outage      = 2 * time.Second
	recoverBy   = 30 * time.Second
	loadWorkers = 8
	// envRestart opts in to restarting the real database servers: go test
	// runs packages in parallel, and a restart fails the other packages'
	// tests on the same server.
	envRestart = "STRATA_TEST_DB_RESTART"
)

// withHost points dsn at addr instead of its server.
func withHost(t *testing.T, backend, dsn, addr string) string {
	t.Helper()
	if backend == "postgres" {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.Host = addr
		return u.String()
	}
	mc, err := mysqldrv.ParseDSN(strings.TrimPrefix(dsn, "mysql://"))
	if err != nil {
		t.Fatal(err)
	}
	mc.Addr = addr
	return "mysql://" + mc.FormatDSN()
}

func serverAddr(t *testing.T, backend, dsn string) string {
	t.Helper()
	if backend == "postgres" {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		return u.Host
	}
	mc, err := mysqldrv.ParseDSN(strings.TrimPrefix(dsn, "mysql://"))
	if err != nil {
		t.Fatal(err)
	}
	return mc.Addr
}

// TestDatabaseCut: the network to the database is cut under load and
// restored. While it is cut requests fail with Unavailable (or their
// deadline); afterwards the server serves again by itself, and every
// acknowledged write is there; a watch opened before the cut continues.
func TestDatabaseCut(t *testing.T) {
	for _, b := range sharedBackends {
		t.Run(b, func(t *testing.T) {
			testserver.RequireBackend(t, b)
			dsn := testserver.FreshDSN(t, b)
			px := startProxy(t, serverAddr(t, b, dsn))
			runOutage(t, b, withHost(t, b, dsn, px.addr()), func() {
				px.setCut(true)
				time.Sleep(outage)
				px.setCut(false)
			})
		})
	}
}

// TestDatabaseRestart restarts the real database server under load (opt in
// with STRATA_TEST_DB_RESTART=1; the server is started again at the end).
func TestDatabaseRestart(t *testing.T) {
	cmds := map[string][2]string{
		"postgres": {"pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main stop -m fast",
			"pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main status >/dev/null || pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"},
		"mysql": {"start-stop-daemon --stop --oknodo --retry 30 --exec /usr/sbin/mariadbd",
			"start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"},
	}
	for _, b := range sharedBackends {
		t.Run(b, func(t *testing.T) {
			testserver.RequireBackend(t, b)
			if os.Getenv(envRestart) == "" {
				t.Skipf("set %s=1 to restart the real %s server (not while other packages use it)", envRestart, b)
			}
			dsn := testserver.FreshDSN(t, b)
			sh := func(c string) {
				if out, err := exec.Command("sh", "-c", c).CombinedOutput(); err != nil {
					t.Errorf("%s: %v\n%s", c, err, out)
				}
			}
			t.Cleanup(func() { sh(cmds[b][1]) }) // restore the server whatever happens
			runOutage(t, b, dsn, func() {
				sh(cmds[b][0])
				time.Sleep(outage)
				sh(cmds[b][1])
			})
		})
	}
}

func runOutage(t *testing.T, backend, dsn string, disrupt func()) {
	srv := testserver.StartStrata(t, testserver.Options{Backend: backend, DSN: dsn, Configure: func(c *endpoint.Config) {
		c.PollInterval = pollInterval
	}})
	cl := srv.Client(t)
	ctx := ctxT(t, 2*time.Minute)
	wc := cl.Watch(ctx, "/out/", clientv3.WithPrefix(), clientv3.WithRev(2))
	var mu sync.Mutex
	acked := map[string]int64{}
	var unavailable, otherErr atomic.Int64
	var lastErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range loadWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("/out/%d/%d", w, n)
				rctx, cancel := context.WithTimeout(ctx, 3*time.Second)
				r, err := cl.Put(rctx, key, "v")
				cancel()
				switch {
				case err == nil:
					mu.Lock()
					acked[key] = r.Header.Revision
					mu.Unlock()
				case status.Code(err) == codes.Unavailable, errors.Is(err, context.DeadlineExceeded),
					status.Code(err) == codes.DeadlineExceeded, errors.Is(err, rpctypes.ErrTimeout):
					unavailable.Add(1)
					time.Sleep(20 * time.Millisecond)
				default:
					otherErr.Add(1)
					lastErr.Store(err.Error())
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	cutAt := time.Now()
	disrupt()
	// Recovered when a Put succeeds again.
	var recovered time.Duration
	for {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := cl.Put(rctx, "/recovered", "1")
		cancel()
		if err == nil {
			recovered = time.Since(cutAt)
			break
		}
		if time.Since(cutAt) > recoverBy {
			t.Fatalf("no Put succeeded %v after the outage began: %v", recoverBy, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	if n := otherErr.Load(); n > 0 {
		t.Errorf("%d requests failed with an error other than Unavailable or a timeout, e.g. %v", n, lastErr.Load())
	}
	t.Logf("%s: %d acknowledged Puts, %d unavailable; serving again %v after the outage began",
		backend, len(acked), unavailable.Load(), recovered)
	// Every acknowledged write is there.
	g, err := cl.Get(ctx, "/out/", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]int64{}
	for _, kv := range g.Kvs {
		have[string(kv.Key)] = kv.ModRevision
	}
	for k, rev := range acked {
		if have[k] != rev {
			t.Fatalf("acknowledged Put %s at revision %d: store has revision %d", k, rev, have[k])
		}
	}
	// The watch opened before the outage delivers every write, once.
	seen := map[string]int{}
	deadline := time.After(20 * time.Second)
	for len(seen) < len(have) {
		select {
		case resp := <-wc:
			if err := resp.Err(); err != nil {
				t.Fatalf("watch: %v", err)
			}
			for _, ev := range resp.Events {
				seen[string(ev.Kv.Key)]++
			}
		case <-deadline:
			t.Fatalf("watch delivered %d of %d keys", len(seen), len(have))
		}
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("watch delivered %s %d times", k, n)
		}
	}
}
