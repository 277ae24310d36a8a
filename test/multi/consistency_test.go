package multi

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Load shape: workers spread over the servers, each doing opsPerWorker
// Kubernetes-shaped writes on a small key set, so that they contend.
const (
	prefix       = "/registry/pods/default/"
	keys         = 16
	workers      = 12
	opsPerWorker = 60
)

// write is one acknowledged write.
type write struct {
	rev     int64
	key     string
	deleted bool
	value   string
}

// TestConsistency: a Kubernetes-shaped load over every server; every
// watcher sees every acknowledged write exactly once, in revision order,
// with no gap, and replaying a stream gives the final state.
func TestConsistency(t *testing.T) {
	forEachShared(t, func(t *testing.T, c *cluster) {
		ctx := ctxT(t, 2*time.Minute)
		start, err := c.clients[0].Get(ctx, "probe")
		if err != nil {
			t.Fatal(err)
		}
		streams := make([]*stream, len(c.clients))
		for i, cl := range c.clients {
			streams[i] = watch(ctx, t, cl, start.Header.Revision+1)
		}
		acked := runLoad(ctx, t, c)
		final, err := c.clients[0].Get(ctx, prefix, clientv3.WithPrefix())
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range streams {
			evs := s.waitThrough(t, final.Header.Revision, 20*time.Second)
			checkStream(t, fmt.Sprintf("watcher %d", i), evs, start.Header.Revision, final, acked)
		}
	})
}

func runLoad(ctx context.Context, t *testing.T, c *cluster) []write {
	var mu sync.Mutex
	var acked []write
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for n := range opsPerWorker {
				cl := c.clients[(w+n)%len(c.clients)]
				other := c.clients[(w+n+1)%len(c.clients)]
				wr, ok, err := kubeOp(ctx, cl, rng, fmt.Sprintf("w%d-%d", w, n))
				if err != nil {
					t.Errorf("worker %d: %v", w, err)
					return
				}
				if !ok {
					continue
				}
				// Read after an acknowledged write, on another server.
				g, err := other.Get(ctx, wr.key)
				if err != nil {
					t.Errorf("read after write: %v", err)
					return
				}
				if g.Header.Revision < wr.rev {
					t.Errorf("read on another server after write at %d saw revision %d", wr.rev, g.Header.Revision)
				}
				mu.Lock()
				acked = append(acked, wr)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return acked
}

// kubeOp does what the apiserver does: create if absent (create_revision
// = 0), or a CAS update or delete on the mod revision it read.
func kubeOp(ctx context.Context, cl *clientv3.Client, rng *rand.Rand, value string) (write, bool, error) {
	key := fmt.Sprintf("%s%02d", prefix, rng.IntN(keys))
	g, err := cl.Get(ctx, key)
	if err != nil {
		return write{}, false, err
	}
	var txn clientv3.Txn
	wr := write{key: key, value: value}
	switch {
	case len(g.Kvs) == 0:
		txn = cl.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).Then(clientv3.OpPut(key, value))
	case rng.IntN(4) == 0:
		wr.deleted, wr.value = true, ""
		txn = cl.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", g.Kvs[0].ModRevision)).
			Then(clientv3.OpDelete(key)).Else(clientv3.OpGet(key))
	default:
		txn = cl.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", g.Kvs[0].ModRevision)).
			Then(clientv3.OpPut(key, value)).Else(clientv3.OpGet(key))
	}
	r, err := txn.Commit()
	if err != nil {
		return write{}, false, err
	}
	wr.rev = r.Header.Revision
	return wr, r.Succeeded, nil
}

// stream collects one watcher's events.
type stream struct {
	mu   sync.Mutex
	evs  []*clientv3.Event
	last int64 // newest revision seen
	err  error
	cond chan struct{}
}

func watch(ctx context.Context, t *testing.T, cl *clientv3.Client, from int64) *stream {
	t.Helper()
	s := &stream{cond: make(chan struct{}, 1)}
	wc := cl.Watch(clientv3.WithRequireLeader(ctx), prefix, clientv3.WithPrefix(), clientv3.WithRev(from), clientv3.WithCreatedNotify())
	first := <-wc
	if err := first.Err(); err != nil {
		if status.Code(err) == codes.Unimplemented {
			t.Skipf("the Watch service is not implemented: %v", err)
		}
		t.Fatalf("watch: %v", err)
	}
	go func() {
		for resp := range wc {
			s.mu.Lock()
			if err := resp.Err(); err != nil {
				s.err = err
			}
			for _, ev := range resp.Events {
				s.evs = append(s.evs, ev)
				s.last = ev.Kv.ModRevision
			}
			s.mu.Unlock()
			select {
			case s.cond <- struct{}{}:
			default:
			}
		}
	}()
	return s
}

func (s *stream) waitThrough(t *testing.T, rev int64, d time.Duration) []*clientv3.Event {
	t.Helper()
	deadline := time.After(d)
	for {
		s.mu.Lock()
		last, err, evs := s.last, s.err, append([]*clientv3.Event(nil), s.evs...)
		s.mu.Unlock()
		if err != nil {
			t.Fatalf("watch: %v", err)
		}
		if last >= rev {
			return evs
		}
		select {
		case <-s.cond:
		case <-deadline:
			t.Fatalf("watch saw revision %d after %v, want %d", last, d, rev)
		}
	}
}

// checkStream checks one watcher's events against the acknowledged writes
// and the final state.
func checkStream(t *testing.T, name string, evs []*clientv3.Event, start int64, final *clientv3.GetResponse, acked []write) {
	t.Helper()
	byRev := map[int64]*clientv3.Event{}
	prev := start
	for _, ev := range evs {
		r := ev.Kv.ModRevision
		if r != prev+1 {
			t.Fatalf("%s: revision %d after %d: a gap or a reorder", name, r, prev)
		}
		prev = r
		byRev[r] = ev
	}
	if prev != final.Header.Revision {
		t.Fatalf("%s: last revision %d, final %d", name, prev, final.Header.Revision)
	}
	sort.Slice(acked, func(i, j int) bool { return acked[i].rev < acked[j].rev })
	for _, w := range acked {
		ev := byRev[w.rev]
		switch {
		case ev == nil:
			t.Fatalf("%s: acknowledged write at %d (%s) missing", name, w.rev, w.key)
		case string(ev.Kv.Key) != w.key || (ev.Type == mvccpb.DELETE) != w.deleted || string(ev.Kv.Value) != w.value:
			t.Fatalf("%s: revision %d is %s %q=%q, acknowledged %+v", name, w.rev, ev.Type, ev.Kv.Key, ev.Kv.Value, w)
		}
	}
	state := map[string]*mvccpb.KeyValue{}
	for _, ev := range evs {
		if ev.Type == mvccpb.DELETE {
			delete(state, string(ev.Kv.Key))
		} else {
			state[string(ev.Kv.Key)] = ev.Kv
		}
	}
	if len(state) != len(final.Kvs) {
		t.Fatalf("%s: replay gives %d keys, the store has %d", name, len(state), len(final.Kvs))
	}
	for _, kv := range final.Kvs {
		got := state[string(kv.Key)]
		if got == nil || got.ModRevision != kv.ModRevision || string(got.Value) != string(kv.Value) ||
			got.CreateRevision != kv.CreateRevision || got.Version != kv.Version {
			t.Fatalf("%s: replayed %q = %v, store has %v", name, kv.Key, got, kv)
		}
	}
	t.Logf("%s: %d events, %d acknowledged writes, revisions %d..%d", name, len(evs), len(acked), start+1, prev)
}
