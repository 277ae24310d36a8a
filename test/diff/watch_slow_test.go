package diff

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/test/testserver"
)

// The slow-consumer test writes slowTxns transactions of slowPuts puts
// each (100,000 events) while one watcher does not read.
const (
	slowTxns    = 1000
	slowPuts    = 100
	slowWriters = 16
)

// TestWatchSlowConsumer stalls one watch stream while 100k events are
// written: another stream must get all of them meanwhile, and the stalled
// one all of them afterwards, in order, each revision whole.
func TestWatchSlowConsumer(t *testing.T) {
	for _, b := range Backends() {
		if b == "etcd" {
			continue
		}
		t.Run(b, func(t *testing.T) {
			testserver.RequireBackend(t, b)
			s := testserver.StartStrata(t, testserver.Options{Backend: b})
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			txns := slowTxns
			if raceEnabled || b != "sqlite" {
				// 10k events: the race detector, and a database server
				// reached over a socket with a round trip per statement,
				// would make 100k minutes of CI time. The catch-up path is
				// the same; run with SQLite for the full 100k.
				txns = slowTxns / 10
			}
			writer := Dial(t, s.Name, s.Endpoint)
			start := mustRev(t, ctx, writer) + 1
			slow := openRawWatch(t, ctx, Dial(t, s.Name, s.Endpoint), start)
			fast := openRawWatch(t, ctx, Dial(t, s.Name, s.Endpoint), start)

			fastDone := make(chan error, 1)
			go func() { fastDone <- readAll(fast, start, txns) }()
			t0 := time.Now()
			writeMany(t, ctx, writer, txns)
			t.Logf("writes took %v", time.Since(t0))
			if err := <-fastDone; err != nil {
				t.Fatalf("reading watcher, while the other stalled: %v", err)
			}
			t.Logf("fast reader done at %v", time.Since(t0))
			if err := readAll(slow, start, txns); err != nil {
				t.Fatalf("stalled watcher, afterwards: %v", err)
			}
		})
	}
}

func openRawWatch(t *testing.T, ctx context.Context, s *Side, start int64) pb.Watch_WatchClient {
	t.Helper()
	ws, err := s.Watch.Watch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = ws.Send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{
		CreateRequest: WatchReq("s/", "s0", start, WithPrevKV)}})
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func writeMany(t *testing.T, ctx context.Context, s *Side, txns int) {
	t.Helper()
	var wg sync.WaitGroup
	for w := range slowWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < txns; i += slowWriters {
				ops := make([]*pb.RequestOp, slowPuts)
				for j := range ops {
					ops[j] = put(fmt.Sprintf("s/%03d", j), fmt.Sprintf("txn %d", i))
				}
				if _, err := s.KV.Txn(ctx, &pb.TxnRequest{Success: ops}); err != nil {
					t.Errorf("txn %d: %v", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// readAll reads the created response and txns*slowPuts events, and checks
// they come one whole revision after the other, in key order.
func readAll(ws pb.Watch_WatchClient, start int64, txns int) error {
	n, rev := 0, start-1
	for n < txns*slowPuts {
		r, err := ws.Recv()
		if err != nil {
			return fmt.Errorf("after %d events: %w", n, err)
		}
		if r.Canceled {
			return fmt.Errorf("after %d events: cancelled: %v", n, r)
		}
		for i := 0; i < len(r.Events); i += slowPuts {
			if len(r.Events)-i < slowPuts {
				return fmt.Errorf("after %d events: a response ends inside a revision", n)
			}
			for j, e := range r.Events[i : i+slowPuts] {
				if e.Kv.ModRevision != rev+1 || string(e.Kv.Key) != fmt.Sprintf("s/%03d", j) {
					return fmt.Errorf("after %d events: got %s at %d, want s/%03d at %d", n, e.Kv.Key, e.Kv.ModRevision, j, rev+1)
				}
				if e.Kv.Version > 1 && e.PrevKv == nil {
					return fmt.Errorf("after %d events: no prev_kv", n)
				}
			}
			rev++
			n += slowPuts
		}
	}
	return nil
}
