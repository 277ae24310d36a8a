package e2e

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

const (
	// termExitTimeout is how long a graceful stop may take.
	termExitTimeout  = 5 * time.Second
	sigtermKeys      = 50
	sigtermWriters   = 4
	sigtermOpTimeout = 5 * time.Second
)

// TestSIGTERM stops strata with SIGTERM: it exits 0 within
// termExitTimeout, with idle or busy clients and an open watch, and every
// acknowledged write is there after a restart.
func TestSIGTERM(t *testing.T) {
	for _, tc := range []struct {
		name string
		busy func(t *testing.T, cli *clientv3.Client) (wait func() map[string]string)
	}{
		{name: "idle", busy: nil},
		{name: "open watch", busy: openWatch},
		{name: "during writes", busy: keepWriting},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dsn := freshDSN(t)
			p := startStrata(t, dsn)
			cli := newClient(t, p.Addr)
			defer cli.Close()
			want := putKeys(t, cli, "term/", sigtermKeys)
			wantRev := revision(t, cli)
			var wait func() map[string]string
			if tc.busy != nil {
				wait = tc.busy(t, cli)
			}
			start := time.Now()
			code, exited := p.signal(syscall.SIGTERM, termExitTimeout)
			t.Logf("SIGTERM to exit: %v", time.Since(start).Round(time.Millisecond))
			if !exited {
				t.Fatalf("strata still running %v after SIGTERM", termExitTimeout)
			}
			if code != 0 {
				t.Errorf("strata exited with status %d after SIGTERM, want 0", code)
			}
			if wait != nil {
				for k, v := range wait() {
					want[k] = v
				}
			}
			cli.Close()

			p = startStrata(t, dsn)
			cli = newClient(t, p.Addr)
			got := getPrefix(t, cli, "term/")
			for k, v := range want {
				if got[k] != v {
					t.Errorf("after restart %s = %q, want %q", k, got[k], v)
				}
			}
			if rev := revision(t, cli); rev < wantRev {
				t.Errorf("after restart the store is at revision %d, below %d before SIGTERM", rev, wantRev)
			}
		})
	}
}

// openWatch opens a watch stream that stays open through the stop.
func openWatch(t *testing.T, cli *clientv3.Client) func() map[string]string {
	ctx, cancel := context.WithCancel(context.Background())
	wch := cli.Watch(ctx, "term/", clientv3.WithPrefix())
	// Make sure the stream is established before the signal.
	if _, err := cli.Put(ctx, "term/watched", "1"); err != nil {
		t.Fatalf("put: %v", err)
	}
	select {
	case resp := <-wch:
		if err := resp.Err(); err != nil {
			cancel()
			t.Skipf("watch: %v", err)
		}
		if len(resp.Events) == 0 {
			t.Fatalf("watch: first response %+v has no event", resp)
		}
	case <-time.After(termExitTimeout):
		t.Fatalf("watch delivered nothing in %v", termExitTimeout)
	}
	return func() map[string]string {
		cancel()
		return map[string]string{"term/watched": "1"}
	}
}

// keepWriting runs writers until the server goes away; it returns the
// acknowledged values, which must survive the graceful stop.
func keepWriting(t *testing.T, cli *clientv3.Client) func() map[string]string {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	acked := map[string]string{}
	var wg sync.WaitGroup
	for w := range sigtermWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				k, v := fmt.Sprintf("term/busy/w%d/%d", w, i%10), fmt.Sprintf("v%d", i)
				octx, ocancel := context.WithTimeout(ctx, sigtermOpTimeout)
				_, err := cli.Put(octx, k, v)
				ocancel()
				if err != nil {
					return
				}
				mu.Lock()
				acked[k] = v
				mu.Unlock()
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	return func() map[string]string {
		cancel()
		wg.Wait()
		if len(acked) == 0 {
			t.Error("no write acknowledged before SIGTERM")
		}
		return acked
	}
}

func putKeys(t *testing.T, cli *clientv3.Client, prefix string, n int) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sigtermOpTimeout)
	defer cancel()
	want := map[string]string{}
	for i := range n {
		k, v := fmt.Sprintf("%s%03d", prefix, i), fmt.Sprintf("value-%d", i)
		if _, err := cli.Put(ctx, k, v); err != nil {
			t.Fatalf("put %s: %v", k, err)
		}
		want[k] = v
	}
	return want
}

func getPrefix(t *testing.T, cli *clientv3.Client, prefix string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sigtermOpTimeout)
	defer cancel()
	resp, err := cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatalf("get %s: %v", prefix, err)
	}
	got := map[string]string{}
	for _, kv := range resp.Kvs {
		got[string(kv.Key)] = string(kv.Value)
	}
	return got
}

func revision(t *testing.T, cli *clientv3.Client) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), sigtermOpTimeout)
	defer cancel()
	resp, err := cli.Get(ctx, "e2e-revision-probe")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	return resp.Header.Revision
}
