package sqlstore

import (
	"bytes"
	"testing"

	"github.com/strata-db/strata/pkg/kv"
)

func newTestHistory(max int) *history {
	return newHistory(max)
}

func put(rev int64, key, value string) logRow {
	return logRow{rev: rev, c: kv.Change{KV: &kv.KeyValue{Key: []byte(key), Value: []byte(value), CreateRevision: rev, Version: 1}}}
}

func del(rev int64, key string) logRow {
	return logRow{rev: rev, c: kv.Change{KV: &kv.KeyValue{Key: []byte(key)}, Deleted: true}}
}

// valueOf is the value the cache answers for key's newest row, or ""
// and false.
func valueOf(h *history, key string) (string, bool) {
	k, ok := h.keys.get([]byte(key))
	if !ok || len(k.rows) == 0 {
		return "", false
	}
	v := k.cached(k.rows[len(k.rows)-1])
	if v == nil {
		return "", false
	}
	return string(v.Value), true
}

// checkBytes fails unless the cache's count of bytes is what its values
// take: a leak would fill the budget with values no longer cached.
func checkBytes(t *testing.T, h *history) {
	t.Helper()
	want := 0
	if h.keys.tree.Len() != len(h.keys.byName) {
		t.Fatalf("the key index's tree has %d keys, its map %d", h.keys.tree.Len(), len(h.keys.byName))
	}
	h.keys.tree.Ascend(func(k *keyRows) bool {
		if m, ok := h.keys.get([]byte(k.name)); !ok || m != k {
			t.Fatalf("key %q of the tree is not the map's", k.name)
		}
		if k.latest.ok {
			want += valueBytes(k.latest.value)
		}
		return true
	})
	if h.values.bytes != want || h.values.bytes > h.values.max {
		t.Fatalf("cache counts %d bytes, its values take %d (max %d)", h.values.bytes, want, h.values.max)
	}
}

// TestValueCacheFollowsNewestRow: the cache answers a key's newest row
// only, with a copy; a new row, a delete, a rollback and pruning replace or
// drop its value, and its byte count stays exact.
func TestValueCacheFollowsNewestRow(t *testing.T) {
	h := newTestHistory(1 << 20)
	h.add([]logRow{put(2, "a", "a2"), put(3, "b", "b3")}, nil)
	h.commit(3, 0, false)
	if v, ok := valueOf(h, "a"); !ok || v != "a2" {
		t.Fatalf("a: %q %v, want a2", v, ok)
	}
	checkBytes(t, h)

	// A copy: the caller may change it.
	k, _ := h.keys.get([]byte("a"))
	got := k.cached(k.rows[0])
	got.Value = []byte("changed")
	if v, _ := valueOf(h, "a"); v != "a2" {
		t.Fatalf("a after a caller changed its copy: %q", v)
	}

	// A newer row replaces it; the older row is no longer answered.
	names := h.add([]logRow{put(4, "a", "a4")}, nil)
	if k.cached(k.rows[0]) != nil {
		t.Fatal("the cache answered a's superseded row")
	}
	if v, _ := valueOf(h, "a"); v != "a4" {
		t.Fatalf("a: %q, want a4", v)
	}
	// Rolled back: the value goes with its row, and the older row is not
	// answered from the cache (it was never cached again).
	h.rollback(names)
	if _, ok := valueOf(h, "a"); ok {
		t.Fatal("a's rolled-back value is still cached")
	}
	checkBytes(t, h)
	// Read from the log, it is cached again.
	h.fill([]rowRef{k.rows[0]}, []*kv.KeyValue{{Key: []byte("a"), Value: []byte("a2"), ModRevision: 2, CreateRevision: 2, Version: 1}})
	if v, ok := valueOf(h, "a"); !ok || v != "a2" {
		t.Fatalf("a after fill: %q %v", v, ok)
	}
	// fill skips a row that is no longer its key's newest.
	h.add([]logRow{put(5, "b", "b5")}, nil)
	bk, _ := h.keys.get([]byte("b"))
	h.values.drop(bk)
	h.fill([]rowRef{bk.rows[0]}, []*kv.KeyValue{{Key: []byte("b"), Value: []byte("b3"), ModRevision: 3}})
	if bk.latest.ok {
		t.Fatal("fill cached b's superseded row")
	}
	checkBytes(t, h)

	// A delete drops it; pruning the key away drops it from the count.
	h.add([]logRow{del(6, "a")}, nil)
	if _, ok := valueOf(h, "a"); ok {
		t.Fatal("a deleted, still cached")
	}
	h.add([]logRow{put(7, "c", "c7")}, nil)
	h.commit(7, 0, false)
	h.prune(7)
	if _, ok := h.keys.get([]byte("a")); ok {
		t.Fatal("a's tombstone below the compact revision was not pruned")
	}
	checkBytes(t, h)
}

// TestValueCacheBudget: values past the budget are not cached (reads then
// go to the log), and those cached stay exact.
func TestValueCacheBudget(t *testing.T) {
	value := string(bytes.Repeat([]byte("v"), 100))
	one := valueBytes([]byte(value))
	h := newTestHistory(3 * one)
	var rows []logRow
	for i, key := range []string{"k0", "k1", "k2", "k3", "k4"} {
		rows = append(rows, put(int64(2+i), key, value))
	}
	h.add(rows, nil)
	cached := 0
	for _, key := range []string{"k0", "k1", "k2", "k3", "k4"} {
		if _, ok := valueOf(h, key); ok {
			cached++
		}
	}
	if cached != 3 {
		t.Fatalf("%d values cached, want the 3 that fit", cached)
	}
	checkBytes(t, h)
	// Writing a cached key again frees its room first.
	h.add([]logRow{put(7, "k0", value)}, nil)
	if _, ok := valueOf(h, "k0"); !ok {
		t.Fatal("k0 rewritten: not cached, though its old value's room was freed")
	}
	checkBytes(t, h)
}
