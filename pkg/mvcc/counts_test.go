package mvcc_test

import (
	"context"
	"fmt"
	"testing"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// TestPageCountsAreExact: every page of paginated listings (next page from
// last key + "\x00", at the first page's revision) counts the rest of the
// range exactly as a count_only range does, at the latest revision and at
// an older one after more writes, however the pages are cut and whether or
// not an earlier listing left counts behind.
func TestPageCountsAreExact(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for i := range 60 {
		put(t, s, fmt.Sprintf("/list/%03d", i), "v")
	}
	for i := 0; i < 60; i += 7 {
		if _, err := s.DeleteRange(ctx, &pb.DeleteRangeRequest{Key: fmt.Appendf(nil, "/list/%03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	end := []byte("/list0")
	countAt := func(key []byte, rev int64) int64 {
		t.Helper()
		r, err := s.Range(ctx, &pb.RangeRequest{Key: key, RangeEnd: end, Revision: rev, CountOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		return r.Count
	}
	list := func(limit, rev int64) (first int64) {
		t.Helper()
		key, n := []byte("/list/"), 0
		for {
			r, err := s.Range(ctx, &pb.RangeRequest{Key: key, RangeEnd: end, Limit: limit, Revision: rev})
			if err != nil {
				t.Fatal(err)
			}
			if rev == 0 {
				rev = r.Header.Revision
			}
			if want := countAt(key, rev); r.Count != want {
				t.Fatalf("limit %d, page from %q at %d: count %d, want %d", limit, key, rev, r.Count, want)
			}
			n += len(r.Kvs)
			if !r.More {
				break
			}
			key = append(append([]byte{}, r.Kvs[len(r.Kvs)-1].Key...), 0)
		}
		if want := countAt([]byte("/list/"), rev); int64(n) != want {
			t.Fatalf("limit %d at %d: listed %d keys, want %d", limit, rev, n, want)
		}
		return rev
	}
	var old int64
	for _, limit := range []int64{1, 5, 7, 5, 50} {
		old = list(limit, 0)
	}
	for i := 100; i < 110; i++ {
		put(t, s, fmt.Sprintf("/list/%03d", i), "v")
		put(t, s, fmt.Sprintf("/list/%03d", i-95), "again")
	}
	for _, limit := range []int64{3, 7, 3} {
		list(limit, old)
		list(limit, 0)
	}
}
