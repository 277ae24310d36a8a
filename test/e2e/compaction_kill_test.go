package e2e

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

const (
	compactKeys      = 64
	compactWriters   = 8
	compactWriteTime = 1500 * time.Millisecond
	// compactPhysicalTimeout bounds a physical compaction after restart: it
	// must finish, so compaction resumes rather than stalls.
	compactPhysicalTimeout = 10 * time.Second
	// compactOpTimeout bounds the other calls of the test together.
	compactOpTimeout = 20 * time.Second
)

// putRecord is one acknowledged Put.
type putRecord struct {
	key, value string
	rev        int64
}

// TestKill9DuringCompaction writes a history with many versions per key,
// compacts to the middle of it, kills strata with SIGKILL right after the
// compaction is acknowledged, and restarts it: the compaction must still be
// in force (older revisions refused, etcd's ErrCompacted), the state at and
// after the compaction revision must be intact, and a physical compaction
// issued after the restart must complete.
func TestKill9DuringCompaction(t *testing.T) {
	dsn := freshDSN(t)
	p := startStrata(t, dsn)
	cli := newClient(t, p.Addr)
	defer cli.Close()
	puts := writeHistory(t, cli)
	compactRev := puts[len(puts)/2].rev
	ctx, cancel := context.WithTimeout(context.Background(), compactOpTimeout)
	defer cancel()
	if _, err := cli.Compact(ctx, compactRev); err != nil {
		t.Fatalf("compact %d: %v", compactRev, err)
	}
	p.kill()
	t.Logf("%d puts up to revision %d; compacted to %d, then SIGKILL", len(puts), puts[len(puts)-1].rev, compactRev)

	p = startStrata(t, dsn)
	cli2 := newClient(t, p.Addr)
	defer cli2.Close()
	if _, err := cli2.Get(ctx, puts[0].key, clientv3.WithRev(compactRev-1)); !errors.Is(err, rpctypes.ErrCompacted) {
		t.Errorf("get at %d, below the acknowledged compaction %d, after restart: err %v, want %v", compactRev-1, compactRev, err, rpctypes.ErrCompacted)
	}
	for _, rev := range []int64{compactRev, puts[len(puts)-1].rev} {
		checkStateAt(t, ctx, cli2, puts, rev)
	}
	last := puts[len(puts)-1].rev
	pctx, pcancel := context.WithTimeout(context.Background(), compactPhysicalTimeout)
	defer pcancel()
	if _, err := cli2.Compact(pctx, last, clientv3.WithCompactPhysical()); err != nil {
		t.Fatalf("physical compaction to %d after restart: %v", last, err)
	}
	checkStateAt(t, ctx, cli2, puts, last)
}

// writeHistory runs compactWriters writers over compactKeys keys for
// compactWriteTime and returns the acknowledged puts in revision order.
// Writers stop between Puts (never by cancelling one), so every Put issued
// is acknowledged and the revisions have no gaps.
func writeHistory(t *testing.T, cli *clientv3.Client) []putRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), compactOpTimeout)
	defer cancel()
	var stop atomic.Bool
	var mu sync.Mutex
	byRev := map[int64]putRecord{}
	errs := make(chan error, compactWriters)
	var wg sync.WaitGroup
	for w := range compactWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				k := fmt.Sprintf("compact/k%02d", (i*compactWriters+w)%compactKeys)
				v := fmt.Sprintf("w%d-%d", w, i)
				resp, err := cli.Put(ctx, k, v)
				if err != nil {
					errs <- fmt.Errorf("put %s: %w", k, err)
					return
				}
				mu.Lock()
				byRev[resp.Header.Revision] = putRecord{key: k, value: v, rev: resp.Header.Revision}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(compactWriteTime)
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	puts := make([]putRecord, 0, len(byRev))
	for rev := int64(2); len(puts) < len(byRev); rev++ {
		p, ok := byRev[rev]
		if !ok {
			t.Fatalf("no Put acknowledged at revision %d, yet %d Puts were acknowledged from revision 2: a fresh store's Put revisions are consecutive", rev, len(byRev))
		}
		puts = append(puts, p)
	}
	return puts
}

// checkStateAt reads the whole prefix at rev and compares it with the puts.
func checkStateAt(t *testing.T, ctx context.Context, cli *clientv3.Client, puts []putRecord, rev int64) {
	t.Helper()
	want := map[string]putRecord{}
	for _, p := range puts {
		if p.rev <= rev {
			want[p.key] = p
		}
	}
	resp, err := cli.Get(ctx, "compact/", clientv3.WithPrefix(), clientv3.WithRev(rev))
	if err != nil {
		t.Fatalf("get compact/ at %d: %v", rev, err)
	}
	if len(resp.Kvs) != len(want) {
		t.Errorf("at %d: %d keys, want %d", rev, len(resp.Kvs), len(want))
	}
	for _, kv := range resp.Kvs {
		w := want[string(kv.Key)]
		if string(kv.Value) != w.value || kv.ModRevision != w.rev {
			t.Errorf("at %d: %s = %q@%d, want %q@%d", rev, kv.Key, kv.Value, kv.ModRevision, w.value, w.rev)
		}
	}
}
