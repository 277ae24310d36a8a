package diff

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/mvccpb"

	"github.com/strata-db/strata/test/testserver"
)

// Kubernetes-shaped load: create-if-absent, compare-and-swap updates and
// deletes on a few hundred keys by several writers, one watcher from the
// start, progress requests on its stream as the watch cache sends them.
const (
	k8sKeys         = 300
	k8sWriters      = 8
	k8sOpsPerWriter = 250
	k8sPrefix       = "/registry/pods/default/"
)

// ackedWrite is a write the server acknowledged.
type ackedWrite struct {
	rev   int64
	key   string
	del   bool
	value string
}

func TestWatchConsistencyUnderLoad(t *testing.T) {
	servers := map[string]func(t *testing.T) *testserver.Server{
		"etcd": func(t *testing.T) *testserver.Server { return testserver.StartEtcd(t) },
	}
	for _, b := range Backends() {
		if b == "etcd" {
			continue
		}
		servers["strata-"+b] = func(t *testing.T) *testserver.Server {
			testserver.RequireBackend(t, b)
			return testserver.StartStrata(t, testserver.Options{Backend: b})
		}
	}
	for name, start := range servers {
		t.Run(name, func(t *testing.T) {
			s := start(t)
			side := Dial(t, s.Name, s.Endpoint)
			checkConsistency(t, side)
		})
	}
}

func checkConsistency(t *testing.T, s *Side) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	startRev := mustRev(t, ctx, s)
	ws, err := s.Watch.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	create := WatchReq(k8sPrefix, k8sPrefix[:len(k8sPrefix)-1]+"0", startRev+1, WithPrevKV)
	if err := ws.Send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: create}}); err != nil {
		t.Fatal(err)
	}
	got := make(chan []*pb.WatchResponse, 1)
	finalRev := make(chan int64, 1)
	go func() { got <- collect(t, ws, finalRev) }()
	stopProgress := make(chan struct{})
	var pwg sync.WaitGroup
	pwg.Add(1)
	go func() {
		defer pwg.Done()
		for {
			select {
			case <-stopProgress:
				return
			case <-time.After(20 * time.Millisecond):
			}
			ws.Send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_ProgressRequest{ProgressRequest: &pb.WatchProgressRequest{}}})
		}
	}()

	acked := runWriters(t, ctx, s)
	final := mustRev(t, ctx, s)
	finalRev <- final
	resps := <-got
	close(stopProgress)
	pwg.Wait()

	evs := checkStream(t, resps, startRev)
	checkAcked(t, evs, acked)
	checkReplay(t, ctx, s, evs, final)
}

func mustRev(t *testing.T, ctx context.Context, s *Side) int64 {
	t.Helper()
	r, err := s.KV.Range(ctx, &pb.RangeRequest{Key: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	return r.Header.Revision
}

// collect reads responses until a progress response or an event reaches
// the final revision (sent on final when the writers are done).
func collect(t *testing.T, ws pb.Watch_WatchClient, final <-chan int64) []*pb.WatchResponse {
	var out []*pb.WatchResponse
	want := int64(-1)
	var seen int64
	for {
		if want < 0 {
			select {
			case want = <-final:
			default:
			}
		}
		if want >= 0 && seen >= want {
			return out
		}
		r, err := ws.Recv()
		if err != nil {
			t.Errorf("watch stream: %v", err)
			return out
		}
		out = append(out, r)
		if n := len(r.Events); n > 0 {
			seen = max(seen, r.Events[n-1].Kv.ModRevision)
		}
		if r.WatchId == -1 {
			seen = max(seen, r.Header.Revision)
		}
	}
}

// runWriters runs the writers and returns every acknowledged write.
func runWriters(t *testing.T, ctx context.Context, s *Side) []ackedWrite {
	var mu sync.Mutex
	var acked []ackedWrite
	var wg sync.WaitGroup
	for w := range k8sWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			for i := range k8sOpsPerWriter {
				a, ok, err := writeOnce(ctx, s, rng, fmt.Sprintf("w%d-%d", w, i))
				if err != nil {
					t.Errorf("writer %d: %v", w, err)
					return
				}
				if ok {
					mu.Lock()
					acked = append(acked, a)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	return acked
}

// writeOnce reads a random key and creates it if absent, or updates or
// deletes it if unchanged since the read. ok is false when the compare
// failed (another writer got there first).
func writeOnce(ctx context.Context, s *Side, rng *rand.Rand, value string) (a ackedWrite, ok bool, err error) {
	key := fmt.Sprintf("%sp%03d", k8sPrefix, rng.IntN(k8sKeys))
	r, err := s.KV.Range(ctx, &pb.RangeRequest{Key: []byte(key)})
	if err != nil {
		return a, false, err
	}
	k := []byte(key)
	var txn *pb.TxnRequest
	a = ackedWrite{key: key, value: value}
	switch {
	case len(r.Kvs) == 0:
		txn = &pb.TxnRequest{
			Compare: []*pb.Compare{{Key: k, Target: pb.Compare_CREATE, Result: pb.Compare_EQUAL, TargetUnion: &pb.Compare_CreateRevision{}}},
			Success: []*pb.RequestOp{put(key, value)},
		}
	case rng.IntN(4) == 0:
		a.del, a.value = true, ""
		txn = &pb.TxnRequest{
			Compare: []*pb.Compare{{Key: k, Target: pb.Compare_MOD, Result: pb.Compare_EQUAL, TargetUnion: &pb.Compare_ModRevision{ModRevision: r.Kvs[0].ModRevision}}},
			Success: []*pb.RequestOp{del(key, "")},
		}
	default:
		txn = &pb.TxnRequest{
			Compare: []*pb.Compare{{Key: k, Target: pb.Compare_MOD, Result: pb.Compare_EQUAL, TargetUnion: &pb.Compare_ModRevision{ModRevision: r.Kvs[0].ModRevision}}},
			Success: []*pb.RequestOp{put(key, value)},
		}
	}
	resp, err := s.KV.Txn(ctx, txn)
	if err != nil || !resp.Succeeded {
		return a, false, err
	}
	a.rev = resp.Header.Revision
	return a, true, nil
}

// checkStream checks the order promises of the stream and returns its
// events: revisions strictly after start and increasing, every revision in
// one response, and no event at or below a progress revision received
// earlier.
func checkStream(t *testing.T, resps []*pb.WatchResponse, start int64) []*mvccpb.Event {
	t.Helper()
	var evs []*mvccpb.Event
	last, progress, progresses := start, int64(0), 0
	defer func() { t.Logf("%d responses, %d events, %d progress responses", len(resps), len(evs), progresses) }()
	for i, r := range resps {
		switch {
		case r.Created || r.Canceled:
			if r.Canceled {
				t.Fatalf("response %d: watch cancelled: %v", i, r)
			}
			continue
		case r.WatchId == -1:
			if r.Header.Revision < progress {
				t.Errorf("response %d: progress revision went back from %d to %d", i, progress, r.Header.Revision)
			}
			progress = r.Header.Revision
			progresses++
			continue
		}
		for j, e := range r.Events {
			rev := e.Kv.ModRevision
			if rev <= progress {
				t.Errorf("response %d: event at revision %d after a progress response promised everything through %d", i, rev, progress)
			}
			if rev < last || (rev == last && j == 0) {
				t.Fatalf("response %d: event revision %d after %d (reordered, duplicated or split)", i, rev, last)
			}
			last = rev
			evs = append(evs, e)
		}
	}
	return evs
}

// checkAcked checks that the events are exactly the acknowledged writes.
func checkAcked(t *testing.T, evs []*mvccpb.Event, acked []ackedWrite) {
	t.Helper()
	if len(evs) != len(acked) {
		t.Errorf("%d events for %d acknowledged writes", len(evs), len(acked))
	}
	sort.Slice(acked, func(i, j int) bool { return acked[i].rev < acked[j].rev })
	for i := 0; i < min(len(evs), len(acked)); i++ {
		e, a := evs[i], acked[i]
		del := e.Type == mvccpb.Event_DELETE
		if e.Kv.ModRevision != a.rev || string(e.Kv.Key) != a.key || del != a.del || string(e.Kv.Value) != a.value {
			t.Fatalf("event %d is %v, acknowledged write was %+v", i, e, a)
		}
	}
}

// checkReplay replays the events over an empty key space, checking each
// prev_kv against the replayed state, and compares the result with a read
// of the prefix at the final revision.
func checkReplay(t *testing.T, ctx context.Context, s *Side, evs []*mvccpb.Event, final int64) {
	t.Helper()
	state := map[string]*mvccpb.KeyValue{}
	for i, e := range evs {
		k := string(e.Kv.Key)
		prev := state[k]
		if prev != nil && (e.PrevKv == nil || !bytes.Equal(e.PrevKv.Value, prev.Value) || e.PrevKv.ModRevision != prev.ModRevision) {
			t.Fatalf("event %d: prev_kv %v, replayed state %v", i, e.PrevKv, prev)
		}
		if prev == nil && e.PrevKv != nil {
			t.Fatalf("event %d: prev_kv %v for a key that did not exist", i, e.PrevKv)
		}
		if e.Type == mvccpb.Event_DELETE {
			delete(state, k)
		} else {
			state[k] = e.Kv
		}
	}
	r, err := s.KV.Range(ctx, &pb.RangeRequest{Key: []byte(k8sPrefix), RangeEnd: []byte(k8sPrefix[:len(k8sPrefix)-1] + "0"), Revision: final})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Kvs) != len(state) {
		t.Errorf("replay has %d keys, the server %d", len(state), len(r.Kvs))
	}
	for _, kv := range r.Kvs {
		got := state[string(kv.Key)]
		if got == nil || !bytes.Equal(got.Value, kv.Value) || got.ModRevision != kv.ModRevision ||
			got.CreateRevision != kv.CreateRevision || got.Version != kv.Version {
			t.Errorf("key %s: replay %v, server %v", kv.Key, got, kv)
		}
	}
}
