package mvcc_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"

	"cmp"
	"slices"

	gocmp "github.com/google/go-cmp/cmp"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/strata-db/strata/drivers/sqlite"
	"github.com/strata-db/strata/drivers/sqlstore"
	"github.com/strata-db/strata/pkg/mvcc"
)

// TestPastReadsFromMemoryEqualSQL: a SQLite store that owns its file reads
// past revisions through its in-memory index of the log; one that shares
// its file reads them in SQL, through the index on names. The same random
// history of puts, deletes, transactions and compactions, written to the
// first in concurrent bursts (so that group commits hold several revisions)
// and to the second in the same order, must read the same at every
// revision kept, before and after the first is
// reopened and builds its index from the log again, and when it is opened
// shared and reads in SQL too.
func TestPastReadsFromMemoryEqualSQL(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func(name string, shared bool) (*mvcc.Store, *sqlstore.Store) {
		t.Helper()
		be, err := sqlite.OpenWith(ctx, "sqlite://"+filepath.Join(dir, name), nil, sqlite.Options{Shared: shared})
		if err != nil {
			t.Fatal(err)
		}
		s, err := mvcc.New(ctx, mvcc.Config{Backend: be})
		if err != nil {
			t.Fatal(err)
		}
		return s, be
	}
	mem, memBE := open("memory.db", false)
	sql, sqlBE := open("sql.db", true)
	defer func() {
		for _, c := range []interface{ Close() error }{mem, memBE, sql, sqlBE} {
			c.Close()
		}
	}()

	rng := rand.New(rand.NewPCG(7, 11))
	putOp := func(k, v string) *pb.RequestOp {
		return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: &pb.PutRequest{Key: []byte(k), Value: []byte(v)}}}
	}
	delOp := func(k, end string) *pb.RequestOp {
		r := &pb.DeleteRangeRequest{Key: []byte(k)}
		if end != "" {
			r.RangeEnd = []byte(end)
		}
		return &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: r}}
	}
	// op is one write of group g's keys (kg0..kg3, kgz) that always makes
	// a revision: a put, or a put with a delete of one or all of kg0..kg3.
	op := func(g int) *pb.TxnRequest {
		k := func() string { return fmt.Sprintf("k%d%d", g, rng.IntN(4)) }
		v := fmt.Sprint(rng.IntN(1000))
		switch rng.IntN(4) {
		case 0:
			return &pb.TxnRequest{Success: []*pb.RequestOp{delOp(k(), ""), putOp(fmt.Sprintf("k%dz", g), v)}}
		case 1:
			return &pb.TxnRequest{Success: []*pb.RequestOp{delOp(fmt.Sprintf("k%d0", g), fmt.Sprintf("k%d9", g)), putOp(fmt.Sprintf("k%dz", g), v)}}
		default:
			return &pb.TxnRequest{Success: []*pb.RequestOp{putOp(k(), v)}}
		}
	}
	// Each burst runs concurrently on the store with the memory index, one
	// op per group, so that its group commits hold several revisions; then
	// in the same revision order on the other.
	for burst := range 80 {
		ops := make([]*pb.TxnRequest, 8)
		for g := range ops {
			ops[g] = op(g)
		}
		revs := make([]int64, len(ops))
		var wg sync.WaitGroup
		for i, r := range ops {
			wg.Go(func() {
				resp, err := mem.Txn(ctx, r)
				if err != nil {
					t.Error(err)
					return
				}
				revs[i] = resp.Header.Revision
			})
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		order := make([]int, len(ops))
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int { return cmp.Compare(revs[a], revs[b]) })
		for _, i := range order {
			resp, err := sql.Txn(ctx, ops[i])
			if err != nil {
				t.Fatal(err)
			}
			if resp.Header.Revision != revs[i] {
				t.Fatalf("replayed at revision %d, not %d", resp.Header.Revision, revs[i])
			}
		}
		if burst%20 == 19 {
			cur, compacted, err := mem.CurrentRevision(ctx)
			if err != nil {
				t.Fatal(err)
			}
			to := compacted + 1 + rng.Int64N(cur-compacted)
			for _, s := range []*mvcc.Store{mem, sql} {
				if _, err := s.Compact(ctx, &pb.CompactionRequest{Revision: to, Physical: true}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	compare(t, ctx, mem, sql)
	mem.Close()
	memBE.Close()
	mem, memBE = open("memory.db", false)
	compare(t, ctx, mem, sql)
	// Shared, the same file reads in SQL: its table of latest values and
	// the index on names are built again from the log.
	mem.Close()
	memBE.Close()
	mem, memBE = open("memory.db", true)
	compare(t, ctx, mem, sql)
	if _, err := mem.Put(ctx, &pb.PutRequest{Key: []byte("k00"), Value: []byte("shared")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sql.Put(ctx, &pb.PutRequest{Key: []byte("k00"), Value: []byte("shared")}); err != nil {
		t.Fatal(err)
	}
	mem.Close()
	memBE.Close()
	mem, memBE = open("memory.db", false)
	compare(t, ctx, mem, sql)
}

// compare reads both stores at every revision kept.
func compare(t *testing.T, ctx context.Context, a, b *mvcc.Store) {
	t.Helper()
	cur, compacted, err := a.CurrentRevision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reqs := func(rev int64) []*pb.RangeRequest {
		return []*pb.RangeRequest{
			{Key: []byte{0}, RangeEnd: []byte{0}, Revision: rev},
			{Key: []byte("k12"), RangeEnd: []byte("k5"), Revision: rev, Limit: 3},
			{Key: []byte("k"), RangeEnd: []byte("l"), Revision: rev, CountOnly: true},
			{Key: []byte("k3z"), Revision: rev},
		}
	}
	for rev := compacted - 1; rev <= cur; rev++ {
		for _, r := range reqs(rev) {
			ra, erra := a.Range(ctx, r)
			rb, errb := b.Range(ctx, r)
			if fmt.Sprint(erra) != fmt.Sprint(errb) {
				t.Fatalf("%v: errors %v and %v", r, erra, errb)
			}
			if diff := gocmp.Diff(rb, ra, protocmp.Transform()); diff != "" {
				t.Fatalf("%v: memory index differs from SQL (-sql +memory):\n%s", r, diff)
			}
		}
	}
}
