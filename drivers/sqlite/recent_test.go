package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/drivers/sqlstore"
	"github.com/strata-db/strata/pkg/kv"
	"github.com/strata-db/strata/pkg/mvcc"
)

// logEvents is what the watch poller reads in a Read transaction:
// Revisions, then Events(after, current, limit, true).
func logEvents(t *testing.T, st *sqlstore.Store, after int64, limit int) (evs []kv.Event, through, cur, comp int64) {
	t.Helper()
	ctx := context.Background()
	err := st.Read(ctx, func(tx kv.ReadTxn) error {
		var err error
		if cur, comp, err = tx.Revisions(ctx); err != nil || cur <= after {
			through = max(cur, after)
			return err
		}
		evs, through, err = tx.Events(ctx, after, cur, limit, true)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs, through, cur, comp
}

// sameAsLog checks that RecentEvents answers as the log does for every
// revision after from and several limits, where it answers at all, and
// returns how many answers it gave.
func sameAsLog(t *testing.T, st *sqlstore.Store, from int64) (answered int) {
	t.Helper()
	ctx := context.Background()
	_, _, cur, _ := logEvents(t, st, 0, 1)
	for after := from; after <= cur; after++ {
		for _, limit := range []int{1, 2, 3, 1000} {
			evs, through, c, comp, ok, err := st.RecentEvents(ctx, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				continue
			}
			answered++
			want, wthrough, wcur, wcomp := logEvents(t, st, after, limit)
			if through != wthrough || c != wcur || comp != wcomp {
				t.Fatalf("after %d limit %d: through, current, compacted %d %d %d; the log's %d %d %d",
					after, limit, through, c, comp, wthrough, wcur, wcomp)
			}
			if d := diffEvents(evs, want); d != "" {
				t.Fatalf("after %d limit %d: %s", after, limit, d)
			}
		}
	}
	return answered
}

func diffEvents(got, want []kv.Event) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d events, the log has %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Sub != w.Sub || g.Deleted != w.Deleted || g.PrevRevision != w.PrevRevision ||
			!proto.Equal(g.KV, w.KV) || !proto.Equal(g.Prev, w.Prev) {
			return fmt.Sprintf("event %d: %+v (prev %v), the log has %+v (prev %v)", i, g, g.Prev, w, w.Prev)
		}
	}
	return ""
}

func put(k, v string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte(k), Value: []byte(v)}}}
}

func delFrom(k string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: &pb.DeleteRangeRequest{Key: []byte(k), RangeEnd: []byte{0}}}}
}

// TestRecentEventsAsTheLog drives an exclusive store through the engine
// (Puts, empty values, deletes of ranges, a key changed twice in one
// revision, a key put again after its delete, leases, compaction, a write
// that rolls back, concurrent writers) and checks, after each step, that
// every answer RecentEvents gives is the log's; and that it answers the
// poller's usual read, right behind the writer.
func TestRecentEventsAsTheLog(t *testing.T) {
	ctx := context.Background()
	st, dsn := openFile(t)
	m, err := mvcc.New(ctx, mvcc.Config{Backend: st})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	write := func(op *mvcc.Op) {
		t.Helper()
		if _, err := m.Write(ctx, op); err != nil {
			t.Fatal(err)
		}
	}
	txn := func(ops ...*pb.RequestOp) *mvcc.Op { return &mvcc.Op{Txn: &pb.TxnRequest{Success: ops}} }
	check := func(what string, from int64) {
		t.Helper()
		_, _, cur, _ := logEvents(t, st, 0, 1)
		if _, _, _, _, ok, _ := st.RecentEvents(ctx, cur-1, 1000); !ok {
			t.Fatalf("%s: the poller's read right behind the writer is not answered from memory", what)
		}
		if sameAsLog(t, st, from) == 0 {
			t.Fatalf("%s: nothing answered from memory", what)
		}
	}

	write(&mvcc.Op{Put: &pb.PutRequest{Key: []byte("a"), Value: []byte("1")}})
	write(&mvcc.Op{Put: &pb.PutRequest{Key: []byte("a"), Value: nil}})
	write(&mvcc.Op{Put: &pb.PutRequest{Key: []byte("b"), Value: []byte("2")}})
	write(txn(put("s/x", "old"), put("s/y", "old"), put("c", "3")))
	check("puts", 0)
	write(txn(put("s/x", "new"), delFrom("s/x")))
	write(txn(delFrom("s/y"), put("s/y", "again")))
	write(txn(put("s/z", "brief"), delFrom("s/z")))
	check("a key changed twice in one revision", 0)
	write(&mvcc.Op{DeleteRange: &pb.DeleteRangeRequest{Key: []byte("a"), RangeEnd: []byte("c")}})
	write(&mvcc.Op{Put: &pb.PutRequest{Key: []byte("a"), Value: []byte("back")}})
	check("deletes and a put after one", 0)
	write(&mvcc.Op{LeaseGrant: &pb.LeaseGrantRequest{ID: 7, TTL: 60}})
	write(&mvcc.Op{Put: &pb.PutRequest{Key: []byte("l"), Value: []byte("leased"), Lease: 7}})
	write(&mvcc.Op{LeaseRevoke: &pb.LeaseRevokeRequest{ID: 7}})
	check("a lease revoked", 0)

	_, _, cur, _ := logEvents(t, st, 0, 1)
	write(&mvcc.Op{Compaction: &pb.CompactionRequest{Revision: cur - 2, Physical: true}})
	for _, after := range []int64{0, cur - 4, cur - 3} {
		if _, _, _, _, ok, _ := st.RecentEvents(ctx, after, 1000); ok {
			t.Fatalf("after %d, below the compact revision %d: answered from memory", after, cur-2)
		}
	}
	write(&mvcc.Op{Put: &pb.PutRequest{Key: []byte("b"), Value: []byte("after compaction")}})
	check("compaction", cur-2)

	// A write transaction that rolls back: its rows leave.
	_, _, before, _ := logEvents(t, st, 0, 1)
	boom := errors.New("boom")
	err = st.Write(ctx, func(tx kv.WriteTxn) error {
		rev := before + 1
		if err := tx.Append(ctx, rev, []kv.Change{{KV: &kv.KeyValue{Key: []byte("gone"), Value: []byte("x"),
			CreateRevision: rev, ModRevision: rev, Version: 1}}}); err != nil {
			return err
		}
		if _, _, err := tx.Events(ctx, before, rev, 10, true); err != nil { // flushes the row
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("rolled-back write: %v", err)
	}
	write(&mvcc.Op{Put: &pb.PutRequest{Key: []byte("kept"), Value: []byte("y")}})
	check("a rolled-back write", cur-2)
	evs, _, _, _, _, _ := st.RecentEvents(ctx, before, 1000)
	if len(evs) != 1 || string(evs[0].KV.Key) != "kept" {
		t.Fatalf("after the rollback: %v", evs)
	}

	// Concurrent writers: group commits of many revisions, random keys.
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 2))
			for range 100 {
				k := fmt.Sprintf("r/%02d", r.IntN(40))
				var op *mvcc.Op
				switch r.IntN(4) {
				case 0:
					op = &mvcc.Op{DeleteRange: &pb.DeleteRangeRequest{Key: []byte(k)}}
				case 1:
					op = txn(put(k, "t"), put(k+"/2", "u"))
				default:
					op = &mvcc.Op{Put: &pb.PutRequest{Key: []byte(k), Value: []byte(fmt.Sprint(r.Int()))}}
				}
				if _, err := m.Write(ctx, op); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	check("concurrent writers", cur-2)

	// A restart keeps nothing: the log is read up to the first commit.
	m.Close()
	_, _, last, _ := logEvents(t, st, 0, 1)
	st = reopen(t, st, dsn)
	if _, _, _, _, ok, _ := st.RecentEvents(ctx, last-1, 1000); ok {
		t.Fatal("after a restart, a revision before it answered from memory")
	}
	if evs, _, _, _, ok, _ := st.RecentEvents(ctx, last, 1000); !ok || len(evs) != 0 {
		t.Fatalf("after a restart, at its revision: %v %v", ok, evs)
	}
}
