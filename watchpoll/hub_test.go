package watchpoll_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/drivers/sqlite"
	"github.com/strata-db/strata/pkg/mvcc"
	"github.com/strata-db/strata/watchpoll"
)

// waitFor bounds every wait in these tests; nothing here asserts timing.
const waitFor = 20 * time.Second

type fixture struct {
	store *mvcc.Store
	hub   *watchpoll.Hub
	reg   *prometheus.Registry
}

// newFixture opens a SQLite store and a hub over it with the given queue
// length; everything closes at the end of the test.
func newFixture(t testing.TB, queueLen int) *fixture {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	be, err := sqlite.Open(ctx, "sqlite://"+t.TempDir()+"/state.db", log)
	if err != nil {
		t.Fatal(err)
	}
	store, err := mvcc.New(ctx, mvcc.Config{Backend: be, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	hub, err := watchpoll.New(ctx, watchpoll.Config{
		Backend: be, Commits: store.Commits(), QueueLen: queueLen, Logger: log, Registerer: reg,
		BatchRows: 64,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		hub.Close()
		store.Close()
		be.Close()
	})
	return &fixture{store: store, hub: hub, reg: reg}
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

var _ io.Writer = tWriter{}

func (f *fixture) gauge(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func (f *fixture) waitGauge(t *testing.T, name string, want float64) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for f.gauge(t, name) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s stayed %v, want %v", name, f.gauge(t, name), want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *fixture) put(t testing.TB, key, value string) int64 {
	t.Helper()
	r, err := f.store.Put(context.Background(), &pb.PutRequest{Key: []byte(key), Value: []byte(value)})
	if err != nil {
		t.Fatal(err)
	}
	return r.Header.Revision
}

func create(t testing.TB, s *watchpoll.Stream, r *pb.WatchCreateRequest) *pb.WatchResponse {
	t.Helper()
	if err := s.Handle(context.Background(), &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: r}}); err != nil {
		t.Fatal(err)
	}
	resp := next(t, s)
	if !resp.Created {
		t.Fatalf("want a created response, got %v", resp)
	}
	return resp
}

func next(t testing.TB, s *watchpoll.Stream) *pb.WatchResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	resp, _, err := s.Next(ctx)
	if err != nil {
		t.Fatalf("next response: %v", err)
	}
	return wire(t, resp)
}

// wire returns resp as a client decodes it: its events may be pre-encoded.
func wire(t testing.TB, resp *pb.WatchResponse) *pb.WatchResponse {
	t.Helper()
	b, err := proto.Marshal(resp)
	if err != nil {
		t.Fatal(err)
	}
	var out pb.WatchResponse
	if err := proto.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// TestSlowWatcherCatchesUp stalls a stream until its watcher is counted
// slow, then reads every event in order, and the watcher rejoins the live
// fan-out.
func TestSlowWatcherCatchesUp(t *testing.T) {
	f := newFixture(t, 4)
	s := f.hub.NewStream()
	created := create(t, s, &pb.WatchCreateRequest{Key: []byte("k/"), RangeEnd: []byte("k0"), PrevKv: true})
	other := f.hub.NewStream()
	create(t, other, &pb.WatchCreateRequest{Key: []byte("k/"), RangeEnd: []byte("k0")})
	const n = 300
	for i := range n {
		f.put(t, fmt.Sprintf("k/%d", i%7), fmt.Sprint(i))
	}
	// The other stream reads everything while s is stalled.
	for rev := created.Header.Revision + 1; rev <= created.Header.Revision+n; {
		for _, e := range next(t, other).Events {
			if e.Kv.ModRevision != rev {
				t.Fatalf("other stream: event at %d, want %d", e.Kv.ModRevision, rev)
			}
			rev++
		}
	}
	f.waitGauge(t, "etcd_debugging_mvcc_slow_watcher_total", 1)
	rev := created.Header.Revision + 1
	for rev <= created.Header.Revision+n {
		for _, e := range next(t, s).Events {
			if e.Kv.ModRevision != rev {
				t.Fatalf("event at %d, want %d", e.Kv.ModRevision, rev)
			}
			if e.Kv.Version > 1 && (e.PrevKv == nil || e.PrevKv.Version != e.Kv.Version-1) {
				t.Fatalf("event at %d: prev_kv %v", rev, e.PrevKv)
			}
			rev++
		}
	}
	f.waitGauge(t, "etcd_debugging_mvcc_slow_watcher_total", 0)
	live := f.put(t, "k/live", "x")
	if r := next(t, s); len(r.Events) != 1 || r.Events[0].Kv.ModRevision != live {
		t.Fatalf("after catching up: %v", r)
	}
	next(t, other) // its copy of the live event
	f.waitGauge(t, "etcd_debugging_mvcc_pending_events_total", 0)
}

// TestSlowWatcherCompacted compacts the log past a stalled watcher: it
// gets the events it was given, then etcd's compaction cancel.
func TestSlowWatcherCompacted(t *testing.T) {
	f := newFixture(t, 2)
	s := f.hub.NewStream()
	created := create(t, s, &pb.WatchCreateRequest{Key: []byte("k")})
	var last int64
	for i := range 50 {
		last = f.put(t, "k", fmt.Sprint(i))
	}
	f.waitGauge(t, "etcd_debugging_mvcc_slow_watcher_total", 1)
	if _, err := f.store.Compact(context.Background(), &pb.CompactionRequest{Revision: last, Physical: true}); err != nil {
		t.Fatal(err)
	}
	rev := created.Header.Revision + 1
	for {
		r := next(t, s)
		if r.Canceled {
			if r.CompactRevision != last || r.WatchId != created.WatchId || r.Header.Revision != 0 {
				t.Fatalf("compaction cancel: %v", r)
			}
			break
		}
		for _, e := range r.Events {
			if e.Kv.ModRevision != rev {
				t.Fatalf("event at %d, want %d", e.Kv.ModRevision, rev)
			}
			rev++
		}
	}
	f.waitGauge(t, "etcd_debugging_mvcc_slow_watcher_total", 0)
	f.waitGauge(t, "etcd_debugging_mvcc_watcher_total", 0)
}

// TestProgressRequestWaitsForCatchUp asks for progress while a watcher is
// slow: the answer comes after every event, with a revision covering them.
func TestProgressRequestWaitsForCatchUp(t *testing.T) {
	f := newFixture(t, 2)
	s := f.hub.NewStream()
	create(t, s, &pb.WatchCreateRequest{Key: []byte("k")})
	var last int64
	for i := range 30 {
		last = f.put(t, "k", fmt.Sprint(i))
	}
	f.waitGauge(t, "etcd_debugging_mvcc_slow_watcher_total", 1)
	err := s.Handle(context.Background(), &pb.WatchRequest{RequestUnion: &pb.WatchRequest_ProgressRequest{ProgressRequest: &pb.WatchProgressRequest{}}})
	if err != nil {
		t.Fatal(err)
	}
	var seen int64
	for {
		r := next(t, s)
		if r.WatchId == -1 {
			if seen != last || r.Header.Revision < last {
				t.Fatalf("progress at %d after events through %d of %d", r.Header.Revision, seen, last)
			}
			return
		}
		for _, e := range r.Events {
			seen = e.Kv.ModRevision
		}
	}
}

// TestCloseEndsStreams checks that closing the hub wakes a waiting Next.
func TestCloseEndsStreams(t *testing.T) {
	f := newFixture(t, 0)
	s := f.hub.NewStream()
	done := make(chan error, 1)
	go func() {
		_, _, err := s.Next(context.Background())
		done <- err
	}()
	f.hub.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Next returned a response from a closed hub")
		}
	case <-time.After(waitFor):
		t.Fatal("Next still waiting after Close")
	}
}
