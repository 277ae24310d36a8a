package diff

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/endpoint"
	"github.com/strata-db/strata/pkg/kv"
	"github.com/strata-db/strata/pkg/mvcc"
	"github.com/strata-db/strata/test/testdb"
)

// TestBatchedApplyEqualsOneByOne applies the same random operations twice
// on fresh stores of each backend: once in batches of random size, each
// batch one write transaction (as the group-commit writer does, with its
// prefetched keys and buffered multi-row writes), and once with every
// operation in a transaction of its own. Responses, refusals, the log and
// the latest state must be identical: batching changes nothing one can see.
//
// The one-by-one path is the one the differential tests compare with etcd
// (their requests arrive one at a time), so this extends that comparison to
// batches of operations that touch the same keys.
func TestBatchedApplyEqualsOneByOne(t *testing.T) {
	for _, backend := range testdb.Backends() {
		t.Run(backend, func(t *testing.T) {
			testdb.RequireBackend(t, backend)
			seed, ops := randomSettings(t)
			ops = max(ops/2, 200)
			one, batched := openBackend(t, backend), openBackend(t, backend)
			g := NewGenerator(seed, DefaultKeys)
			r := rand.New(rand.NewPCG(seed, 7))
			leases := []int64{101, 102, 103}

			// A batch is a list of ops; ops are made from the generator and
			// from a few lease operations, so that lease revokes (which read
			// keys by lease) and puts with leases meet batched writes.
			done := 0
			for done < ops {
				n := 1 + r.IntN(48)
				var batch []*mvcc.Op
				for range n {
					batch = append(batch, nextOp(g, r, leases))
				}
				done += n
				want := make([]Result, len(batch))
				for i, op := range batch {
					want[i] = applyBatch(t, one, []*mvcc.Op{op})[0]
					g.Observe(want[i])
				}
				got := applyBatch(t, batched, batch)
				for i := range batch {
					if !sameResult(want[i], got[i]) {
						t.Fatalf("op %d of a batch of %d (%v) differs; reproduce with STRATA_DIFF_SEED=%d\none by one: %v %v\nbatched:    %v %v",
							i, len(batch), batch[i], seed, want[i].Resp, want[i].Err, got[i].Resp, got[i].Err)
					}
				}
			}
			wantLog, wantKVs := dump(t, one)
			gotLog, gotKVs := dump(t, batched)
			if len(wantLog) != len(gotLog) {
				t.Fatalf("log has %d rows batched, %d one by one", len(gotLog), len(wantLog))
			}
			for i := range wantLog {
				if fmt.Sprint(wantLog[i]) != fmt.Sprint(gotLog[i]) {
					t.Fatalf("log row %d: batched %v, one by one %v", i, gotLog[i], wantLog[i])
				}
			}
			if fmt.Sprint(wantKVs) != fmt.Sprint(gotKVs) {
				t.Fatalf("latest state differs:\nbatched:    %v\none by one: %v", gotKVs, wantKVs)
			}
			t.Logf("%d ops, %d log rows, %d live keys", done, len(wantLog), len(wantKVs))
		})
	}
}

// nextOp returns a random write: mostly the generator's (reads are dropped:
// a Range is not a write), sometimes a lease grant, a lease revoke or a put
// with a lease.
func nextOp(g *Generator, r *rand.Rand, leases []int64) *mvcc.Op {
	switch n := r.IntN(100); {
	case n < 3:
		return &mvcc.Op{LeaseGrant: &pb.LeaseGrantRequest{ID: leases[r.IntN(len(leases))], TTL: 60}}
	case n < 5:
		return &mvcc.Op{LeaseRevoke: &pb.LeaseRevokeRequest{ID: leases[r.IntN(len(leases))]}}
	case n < 12:
		return &mvcc.Op{Put: &pb.PutRequest{Key: g.key(), Value: g.value(), Lease: leases[r.IntN(len(leases))]}}
	}
	for {
		switch m := g.NextRequest().(type) {
		case *pb.PutRequest:
			return &mvcc.Op{Put: m}
		case *pb.DeleteRangeRequest:
			return &mvcc.Op{DeleteRange: m}
		case *pb.TxnRequest:
			return &mvcc.Op{Txn: m}
		case *pb.CompactionRequest:
			return &mvcc.Op{Compaction: m}
		}
	}
}

// applyBatch applies ops in one write transaction, as the writer does.
func applyBatch(t *testing.T, be kv.Backend, ops []*mvcc.Op) []Result {
	t.Helper()
	ctx := context.Background()
	out := make([]Result, len(ops))
	err := be.Write(ctx, func(tx kv.WriteTxn) error {
		b, err := mvcc.NewBatch(ctx, tx, ops)
		if err != nil {
			return err
		}
		for i, op := range ops {
			resp, refused, err := b.Apply(op)
			if err != nil {
				return err
			}
			out[i] = Result{Resp: resp, Err: refused}
		}
		_, _, _, err = b.Finish()
		return err
	})
	if err != nil {
		t.Fatalf("write transaction: %v", err)
	}
	return out
}

func sameResult(a, b Result) bool {
	if (a.Err == nil) != (b.Err == nil) {
		return false
	}
	if a.Err != nil {
		return a.Err.Error() == b.Err.Error()
	}
	return proto.Equal(a.Resp, b.Resp)
}

// dump reads the whole log and the latest value of every key.
func dump(t *testing.T, be kv.Backend) ([]kv.Event, []*kv.KeyValue) {
	t.Helper()
	ctx := context.Background()
	var evs []kv.Event
	var kvs []*kv.KeyValue
	err := be.Read(ctx, func(tx kv.ReadTxn) error {
		cur, _, err := tx.Revisions(ctx)
		if err != nil {
			return err
		}
		for after := int64(0); after < cur; {
			page, read, err := tx.Events(ctx, after, cur, 1000, true)
			if err != nil {
				return err
			}
			evs = append(evs, page...)
			after = read
		}
		kvs, err = tx.Range(ctx, kv.Range{Start: []byte{}}, 0, 0, false)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs, kvs
}

// openBackend opens a fresh store of backend, through the same DSN-to-driver
// path as the server.
func openBackend(t *testing.T, backend string) kv.Backend {
	t.Helper()
	be, err := endpoint.OpenBackend(context.Background(), endpoint.Config{Endpoint: testdb.FreshDSN(t, backend)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { be.Close() })
	return be
}
