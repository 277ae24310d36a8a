package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/strata-db/strata/drivers/sqlite"
	"github.com/strata-db/strata/drivers/sqlstore"
	"github.com/strata-db/strata/pkg/kv"
)

func putChange(key string, rev, version int64) kv.Change {
	return kv.Change{KV: &kv.KeyValue{Key: []byte(key), Value: []byte("v"), CreateRevision: rev - version + 1, ModRevision: rev, Version: version}}
}

// openStore opens a store that owns a fresh file.
func openStore(t *testing.T) *sqlstore.Store {
	st, _ := openFile(t)
	return st
}

// openFile opens a store that owns a fresh file, and returns the file's
// DSN, to open it again (reopen).
func openFile(t *testing.T) (*sqlstore.Store, string) {
	t.Helper()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "state.db")
	return openDSN(t, dsn), dsn
}

// reopen closes st and opens the file of dsn again, as a restart does.
func reopen(t *testing.T, st *sqlstore.Store, dsn string) *sqlstore.Store {
	t.Helper()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	return openDSN(t, dsn)
}

// openDSN opens the store of dsn, closed when the test ends (closing a
// store twice is harmless).
func openDSN(t *testing.T, dsn string) *sqlstore.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// writeRev commits changes as revision rev.
func writeRev(st *sqlstore.Store, rev int64, changes ...kv.Change) error {
	ctx := context.Background()
	return st.Write(ctx, func(tx kv.WriteTxn) error {
		if err := tx.Append(ctx, rev, changes); err != nil {
			return err
		}
		return tx.SetRevision(ctx, rev)
	})
}

// rangeAt reads every key live at rev.
func rangeAt(t *testing.T, tx kv.ReadTxn, rev int64) ([]string, error) {
	t.Helper()
	kvs, err := tx.Range(context.Background(), kv.Range{Start: []byte{0}}, rev, 0, false)
	var keys []string
	for _, v := range kvs {
		keys = append(keys, string(v.Key))
	}
	return keys, err
}

// TestHistoryForgetsRolledBackRows: a write transaction that rolls back
// leaves nothing in the in-memory index of the log, so the next one, which
// writes other keys at the same revision, reads back only its own.
func TestHistoryForgetsRolledBackRows(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	boom := errors.New("boom")
	err := st.Write(ctx, func(tx kv.WriteTxn) error {
		if err := tx.Append(ctx, 2, []kv.Change{putChange("gone", 2, 1)}); err != nil {
			return err
		}
		// The transaction's own rows are read at their revision.
		if keys, err := rangeAt(t, tx, 2); err != nil || len(keys) != 1 || keys[0] != "gone" {
			t.Errorf("inside the transaction at 2: %q, %v; want [gone]", keys, err)
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("write: %v, want boom", err)
	}
	if err := writeRev(st, 2, putChange("kept", 2, 1)); err != nil {
		t.Fatal(err)
	}
	if err := writeRev(st, 3, putChange("later", 3, 1)); err != nil {
		t.Fatal(err)
	}
	err = st.Read(ctx, func(tx kv.ReadTxn) error {
		keys, err := rangeAt(t, tx, 2)
		if err != nil || len(keys) != 1 || keys[0] != "kept" {
			t.Errorf("at 2: %q, %v; want [kept]", keys, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHistoryPrunedUnderOldSnapshot: a read whose snapshot began before a
// compaction, at a revision that compaction removed, fails with
// ErrCompacted once the index is pruned, instead of missing the keys whose
// rows the pruning dropped.
func TestHistoryPrunedUnderOldSnapshot(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	// a at 2, b at 3, a again at 4: at 3 both are live, from rows 2 and 3.
	for _, w := range []struct {
		rev     int64
		key     string
		version int64
	}{{2, "a", 1}, {3, "b", 1}, {4, "a", 2}} {
		if err := writeRev(st, w.rev, putChange(w.key, w.rev, w.version)); err != nil {
			t.Fatal(err)
		}
	}
	err := st.Read(ctx, func(tx kv.ReadTxn) error {
		if _, compacted, err := tx.Revisions(ctx); err != nil || compacted > 3 {
			t.Fatalf("revisions: compacted %d, %v", compacted, err)
		}
		if keys, err := rangeAt(t, tx, 3); err != nil || len(keys) != 2 {
			t.Fatalf("at 3 before compacting: %q, %v; want [a b]", keys, err)
		}
		// Compact to 4 while this snapshot is open.
		if err := st.Write(ctx, func(tx kv.WriteTxn) error { return tx.SetCompacted(ctx, 4) }); err != nil {
			t.Fatal(err)
		}
		for {
			done, err := st.CompactStep(ctx, 4, 100)
			if err != nil {
				t.Fatal(err)
			}
			if done >= 4 {
				break
			}
		}
		keys, err := rangeAt(t, tx, 3)
		if !errors.Is(err, kv.ErrCompacted) {
			t.Errorf("at 3 after compacting to 4: %q, %v; want ErrCompacted", keys, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestKnownRevisionsFollowCommits: the revisions an owner reports from
// memory (for the watch poller) are those a Read sees, after writes, a
// compaction and a restart; a store that shares its file reports none
// until it commits, then those of its commit.
func TestKnownRevisionsFollowCommits(t *testing.T) {
	ctx := context.Background()
	st, dsn := openFile(t)
	check := func(st *sqlstore.Store, when string, wantExact bool) {
		t.Helper()
		var cur, comp int64
		if err := st.Read(ctx, func(tx kv.ReadTxn) (err error) {
			cur, comp, err = tx.Revisions(ctx)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		kcur, kcomp, ok, exact, err := st.KnownRevisions(ctx)
		if err != nil || !ok || kcur != cur || kcomp != comp {
			t.Fatalf("%s: known revisions %d, %d (ok %v, %v); a read sees %d, %d", when, kcur, kcomp, ok, err, cur, comp)
		}
		if exact != wantExact {
			t.Fatalf("%s: exact %v, want %v (only the store that owns its file knows nothing newer exists)", when, exact, wantExact)
		}
	}
	check(st, "fresh", true)
	for rev := int64(2); rev <= 4; rev++ {
		if err := writeRev(st, rev, putChange("k", rev, rev-1)); err != nil {
			t.Fatal(err)
		}
	}
	check(st, "after three writes", true)
	if err := st.Write(ctx, func(tx kv.WriteTxn) error { return tx.SetCompacted(ctx, 3) }); err != nil {
		t.Fatal(err)
	}
	check(st, "after compacting", true)
	st = reopen(t, st, dsn)
	check(st, "after a restart", true)
	st.Close()
	shared, err := sqlite.OpenWith(ctx, dsn, nil, sqlite.Options{Shared: true})
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	if _, _, ok, _, err := shared.KnownRevisions(ctx); ok || err != nil {
		t.Fatalf("a shared store: ok %v, %v; want not ok", ok, err)
	}
	// Through mvcc, as every write transaction does: read, then write.
	if err := shared.Write(ctx, func(tx kv.WriteTxn) error {
		cur, _, err := tx.Revisions(ctx)
		if err != nil {
			return err
		}
		if err := tx.Append(ctx, cur+1, []kv.Change{putChange("k", cur+1, 4)}); err != nil {
			return err
		}
		return tx.SetRevision(ctx, cur+1)
	}); err != nil {
		t.Fatal(err)
	}
	check(shared, "a shared store after its commit", false)
}
