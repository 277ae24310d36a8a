package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-db/strata/drivers/sqlite"
	"github.com/strata-db/strata/pkg/kv"
)

// TestKeysFollowCommits: a write transaction starts from what the previous
// committed one left of its keys (in the in-memory index and its cache of
// values), never from what a rolled-back one did, with or without their
// values, and after a restart from what the log holds.
func TestKeysFollowCommits(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "state.db")
	st, err := sqlite.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close() }()
	key := []byte("a")
	get := func(tx kv.WriteTxn, keysOnly bool) *kv.KeyValue {
		t.Helper()
		kvs, err := tx.Range(ctx, kv.SingleKey(key), 0, 1, keysOnly)
		if err != nil {
			t.Fatal(err)
		}
		if len(kvs) == 0 {
			return nil
		}
		return kvs[0]
	}
	put := kv.Change{KV: &kv.KeyValue{Key: key, Value: []byte("v1"), CreateRevision: 2, ModRevision: 2, Version: 1}}
	if err := st.Write(ctx, func(tx kv.WriteTxn) error { return tx.Append(ctx, 2, []kv.Change{put}) }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = st.Write(ctx, func(tx kv.WriteTxn) error {
		if got := get(tx, true); got == nil || got.ModRevision != 2 {
			t.Fatalf("carried: %+v, want key a at revision 2", got)
		}
		del := kv.Change{Deleted: true, KV: &kv.KeyValue{Key: key, ModRevision: 3}, PrevRevision: 2}
		if err := tx.Append(ctx, 3, []kv.Change{del}); err != nil {
			return err
		}
		if got := get(tx, true); got != nil {
			t.Fatalf("after the delete in the transaction: %+v, want none", got)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("write: %v, want boom", err)
	}
	err = st.Write(ctx, func(tx kv.WriteTxn) error {
		got := get(tx, true)
		if got == nil || got.Version != 1 {
			t.Fatalf("after the rolled-back delete: %+v, want key a, version 1", got)
		}
		if got := get(tx, false); got == nil || string(got.Value) != "v1" {
			t.Fatalf("with its value: %+v, want v1", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A committed change is what the next transaction starts from.
	put2 := kv.Change{KV: &kv.KeyValue{Key: key, Value: []byte("v2"), CreateRevision: 2, ModRevision: 3, Version: 2}, PrevRevision: 2}
	if err := st.Write(ctx, func(tx kv.WriteTxn) error { return tx.Append(ctx, 3, []kv.Change{put2}) }); err != nil {
		t.Fatal(err)
	}
	err = st.Write(ctx, func(tx kv.WriteTxn) error {
		if got := get(tx, true); got == nil || got.Version != 2 || got.ModRevision != 3 {
			t.Fatalf("after the second put: %+v, want version 2 at revision 3", got)
		}
		if got := get(tx, false); got == nil || string(got.Value) != "v2" {
			t.Fatalf("with its value: %+v, want v2", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// After a restart the index is built from the log: a is there, b is
	// not.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err = sqlite.Open(ctx, dsn, nil); err != nil {
		t.Fatal(err)
	}
	err = st.Write(ctx, func(tx kv.WriteTxn) error {
		if got := get(tx, true); got == nil || got.Version != 2 || got.ModRevision != 3 {
			t.Fatalf("after a restart: %+v, want version 2 at revision 3", got)
		}
		if kvs, err := tx.Range(ctx, kv.SingleKey([]byte("b")), 0, 1, true); err != nil || len(kvs) != 0 {
			t.Fatalf("b after a restart: %v, %v; want none", kvs, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOneProcessAtATime: a database open in one store cannot be opened by
// another until the first closes (what the first keeps in memory would go
// stale).
func TestOneProcessAtATime(t *testing.T) {
	ctx := context.Background()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "state.db")
	st, err := sqlite.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	if other, err := sqlite.Open(ctx, dsn, nil); err == nil || !strings.Contains(err.Error(), "in use by another process") {
		if other != nil {
			other.Close()
		}
		t.Fatalf("second open: %v; want refused as in use", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = sqlite.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	st.Close()
}
