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
	st, dsn := openFile(t)
	key := []byte("a")
	get := func(tx kv.WriteTxn, k []byte, keysOnly bool) *kv.KeyValue {
		t.Helper()
		kvs, err := tx.Range(ctx, kv.SingleKey(k), 0, 1, keysOnly)
		if err != nil {
			t.Fatal(err)
		}
		if len(kvs) == 0 {
			return nil
		}
		return kvs[0]
	}
	// expect checks, in a new write transaction, that a is at version and
	// modRev, with value, both without and with its value, and that b is
	// absent.
	expect := func(when string, version, modRev int64, value string) {
		t.Helper()
		err := st.Write(ctx, func(tx kv.WriteTxn) error {
			if got := get(tx, key, true); got == nil || got.Version != version || got.ModRevision != modRev {
				t.Fatalf("%s: %+v, want key a, version %d at revision %d", when, got, version, modRev)
			}
			if got := get(tx, key, false); got == nil || string(got.Value) != value {
				t.Fatalf("%s, with its value: %+v, want %s", when, got, value)
			}
			if got := get(tx, []byte("b"), true); got != nil {
				t.Fatalf("%s: b is %+v, want none", when, got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	put := kv.Change{KV: &kv.KeyValue{Key: key, Value: []byte("v1"), CreateRevision: 2, ModRevision: 2, Version: 1}}
	if err := st.Write(ctx, func(tx kv.WriteTxn) error { return tx.Append(ctx, 2, []kv.Change{put}) }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := st.Write(ctx, func(tx kv.WriteTxn) error {
		if got := get(tx, key, true); got == nil || got.ModRevision != 2 {
			t.Fatalf("carried: %+v, want key a at revision 2", got)
		}
		del := kv.Change{Deleted: true, KV: &kv.KeyValue{Key: key, ModRevision: 3}, PrevRevision: 2}
		if err := tx.Append(ctx, 3, []kv.Change{del}); err != nil {
			return err
		}
		if got := get(tx, key, true); got != nil {
			t.Fatalf("after the delete in the transaction: %+v, want none", got)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("write: %v, want boom", err)
	}
	expect("after the rolled-back delete", 1, 2, "v1")
	// A committed change is what the next transaction starts from.
	put2 := kv.Change{KV: &kv.KeyValue{Key: key, Value: []byte("v2"), CreateRevision: 2, ModRevision: 3, Version: 2}, PrevRevision: 2}
	if err := st.Write(ctx, func(tx kv.WriteTxn) error { return tx.Append(ctx, 3, []kv.Change{put2}) }); err != nil {
		t.Fatal(err)
	}
	expect("after the second put", 2, 3, "v2")
	// After a restart the index is built from the log: a is there, b is
	// not.
	st = reopen(t, st, dsn)
	expect("after a restart", 2, 3, "v2")
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
