package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/strata-db/strata/drivers/sqlite"
	"github.com/strata-db/strata/pkg/kv"
)

// TestUsageCountsTheLog: the usage is the log's rows with their key and
// value bytes, and the leases, whatever the file's pages.
func TestUsageCountsTheLog(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	st, err := sqlite.Open(ctx, "sqlite://"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m := sqlite.Maintenance{DB: st.DB(), Path: path}
	if u, err := m.Usage(ctx); err != nil || u != (kv.Usage{}) {
		t.Fatalf("fresh store: usage %+v, %v; want zero", u, err)
	}
	err = st.Write(ctx, func(tx kv.WriteTxn) error {
		for rev, v := range []string{"one", "three"} {
			kvs := &kv.KeyValue{Key: []byte("key"), Value: []byte(v), CreateRevision: 2, ModRevision: int64(rev + 2), Version: int64(rev + 1)}
			if err := tx.Append(ctx, int64(rev+2), []kv.Change{{KV: kvs, PrevRevision: int64(rev + 1)}}); err != nil {
				return err
			}
		}
		return tx.PutLease(ctx, kv.Lease{ID: 7, TTL: 60})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := kv.Usage{Rows: 2, Bytes: 3 + 3 + 3 + 5, Leases: 1}
	if u, err := m.Usage(ctx); err != nil || u != want {
		t.Fatalf("usage %+v, %v; want %+v", u, err, want)
	}
}
