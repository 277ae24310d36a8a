package mvcc_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/drivers/sqlite"
	"github.com/strata-db/strata/drivers/sqlstore"
	"github.com/strata-db/strata/pkg/kv"
	"github.com/strata-db/strata/pkg/mvcc"
)

// newStore opens an engine over a fresh SQLite file.
func newStore(t testing.TB) (*mvcc.Store, *sqlstore.Store) {
	t.Helper()
	ctx := context.Background()
	be, err := sqlite.Open(ctx, "sqlite://"+t.TempDir()+"/state.db", nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := mvcc.New(ctx, mvcc.Config{Backend: be})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		be.Close()
	})
	return s, be
}

func put(t testing.TB, s *mvcc.Store, k, v string) *pb.PutResponse {
	t.Helper()
	r, err := s.Put(context.Background(), &pb.PutRequest{Key: []byte(k), Value: []byte(v)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGroupCommitGivesEachWriteItsOwnRevision(t *testing.T) {
	s, _ := newStore(t)
	const writers, each = 32, 20
	var mu sync.Mutex
	var revs []int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := put(t, s, fmt.Sprintf("w%d/%d", w, i), "v")
				mu.Lock()
				revs = append(revs, r.Header.Revision)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Slice(revs, func(i, j int) bool { return revs[i] < revs[j] })
	for i, r := range revs {
		if r != int64(i+2) {
			t.Fatalf("revision %d at position %d: want contiguous 2..%d", r, i, writers*each+1)
		}
	}
}

func TestFailedOpInBatchChangesNothing(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	put(t, s, "a", "1")
	_, err := s.Put(ctx, &pb.PutRequest{Key: []byte("b"), Value: []byte("x"), Lease: 42})
	if err != kv.ErrLeaseNotFound {
		t.Fatalf("put with unknown lease: %v", err)
	}
	// A Txn whose second put fails its check writes neither key.
	_, err = s.Txn(ctx, &pb.TxnRequest{Success: []*pb.RequestOp{
		{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte("c"), Value: []byte("1")}}},
		{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte("d"), IgnoreValue: true}}},
	}})
	if err != kv.ErrKeyNotFound {
		t.Fatalf("txn: %v", err)
	}
	cur, _, _ := s.CurrentRevision(ctx)
	if cur != 2 {
		t.Fatalf("revision %d after failed writes, want 2", cur)
	}
	r, _ := s.Range(ctx, &pb.RangeRequest{Key: []byte("a"), RangeEnd: []byte("z")})
	if r.Count != 1 {
		t.Fatalf("%d keys, want 1", r.Count)
	}
}

func TestCompactionRemovesHistoryButKeepsReads(t *testing.T) {
	s, be := newStore(t)
	ctx := context.Background()
	for i := range 50 {
		put(t, s, fmt.Sprintf("k%02d", i%10), fmt.Sprint(i))
	}
	if _, err := s.DeleteRange(ctx, &pb.DeleteRangeRequest{Key: []byte("k00")}); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Range(ctx, &pb.RangeRequest{Key: []byte("k"), RangeEnd: []byte("l")})
	cur, _, _ := s.CurrentRevision(ctx)
	if _, err := s.Compact(ctx, &pb.CompactionRequest{Revision: cur, Physical: true}); err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := be.DB().QueryRow("SELECT COUNT(*) FROM strata_log").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	// One row per live key, and the tombstone made at exactly the compact
	// revision, which etcd keeps for watches that start there.
	if rows != 10 {
		t.Fatalf("%d log rows after compaction, want 10 (one per live key and the last tombstone)", rows)
	}
	after, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("k"), RangeEnd: []byte("l"), Revision: cur})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Kvs) != len(before.Kvs) {
		t.Fatalf("historical read at the compact revision: %d keys, want %d", len(after.Kvs), len(before.Kvs))
	}
	for i := range after.Kvs {
		if string(after.Kvs[i].Value) != string(before.Kvs[i].Value) || after.Kvs[i].ModRevision != before.Kvs[i].ModRevision {
			t.Fatalf("key %s differs after compaction", after.Kvs[i].Key)
		}
	}
	if _, err := s.Range(ctx, &pb.RangeRequest{Key: []byte("k"), Revision: cur - 1}); err != kv.ErrCompacted {
		t.Fatalf("read below the compact revision: %v", err)
	}
	next := put(t, s, "k01", "x").Header.Revision
	if _, err := s.Compact(ctx, &pb.CompactionRequest{Revision: next, Physical: true}); err != nil {
		t.Fatal(err)
	}
	if err := be.DB().QueryRow("SELECT COUNT(*) FROM strata_log").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 9 {
		t.Fatalf("%d log rows after the next compaction, want 9", rows)
	}
}

func TestHistoricalReadMatchesLatestRead(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	var snapshots []*pb.RangeResponse
	for i := range 40 {
		k := fmt.Sprintf("k%d", i%7)
		if i%5 == 4 {
			if _, err := s.DeleteRange(ctx, &pb.DeleteRangeRequest{Key: []byte(k)}); err != nil {
				t.Fatal(err)
			}
		} else {
			put(t, s, k, fmt.Sprint(i))
		}
		r, err := s.Range(ctx, &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}})
		if err != nil {
			t.Fatal(err)
		}
		snapshots = append(snapshots, r)
	}
	for _, want := range snapshots {
		got, err := s.Range(ctx, &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, Revision: want.Header.Revision})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Kvs) != len(want.Kvs) || got.Count != want.Count {
			t.Fatalf("at %d: %d keys, want %d", want.Header.Revision, len(got.Kvs), len(want.Kvs))
		}
		for i := range got.Kvs {
			g, w := got.Kvs[i], want.Kvs[i]
			if string(g.Key) != string(w.Key) || string(g.Value) != string(w.Value) || g.ModRevision != w.ModRevision ||
				g.CreateRevision != w.CreateRevision || g.Version != w.Version {
				t.Fatalf("at %d: %v, want %v", want.Header.Revision, g, w)
			}
		}
	}
}
