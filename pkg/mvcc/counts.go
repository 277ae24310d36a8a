package mvcc

import (
	"sync"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/kv"
)

// A paginated listing, as the Kubernetes apiserver and etcdctl run it,
// asks for the next page from just after the last key it got
// (last + "\x00"), with the same range end, at the first page's revision.
// Each page's response carries the count of the whole rest of the range,
// which costs a walk over it: 5,000 keys in pages of 500 counted 27,500
// rows, a quarter of the server's CPU in strata-bench's list workload.
//
// But the rest of the range after a page is known once the page is
// answered: the page's count less the keys it returned. countCache keeps
// that for the next page's request, so only the first page counts. It is
// exact: the keys of a range at a revision never change (every change
// makes a new revision), and a compacted revision fails before any count.
type countCache struct {
	mu   sync.Mutex
	m    map[countKey]int64
	fifo []countKey // insertion order, for eviction
}

type countKey struct {
	start, end string
	rev        int64
}

// countCacheSize bounds the entries: one per listing in progress.
const countCacheSize = 1024

func (c *countCache) get(start, end []byte, rev int64) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.m[countKey{string(start), string(end), rev}]
	return n, ok
}

func (c *countCache) put(start, end []byte, rev, n int64) {
	k := countKey{string(start), string(end), rev}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[countKey]int64, countCacheSize)
	}
	if _, ok := c.m[k]; ok {
		return
	}
	if len(c.fifo) >= countCacheSize {
		delete(c.m, c.fifo[0])
		c.fifo = c.fifo[1:]
	}
	c.m[k] = n
	c.fifo = append(c.fifo, k)
}

// countable reports whether a page of r is the keys of r.Key..r.RangeEnd
// in key order, so that the rest of the range after it is the count less
// the keys returned: no sort but by key ascending, no revision filters,
// a limit, and a range.
func countable(r *pb.RangeRequest) bool {
	return r.Limit > 0 && len(r.RangeEnd) > 0 && !r.CountOnly &&
		isDefaultOrdering(r.SortTarget, r.SortOrder) && !hasRevisionFilters(r)
}

// noteNextPage records the count of the rest of the range after resp, a
// page of r read at rev, for the request of the next page.
func (c *countCache) noteNextPage(r *pb.RangeRequest, rev int64, resp *pb.RangeResponse) {
	if c == nil || !resp.More || !countable(r) || len(resp.Kvs) == 0 {
		return
	}
	last := resp.Kvs[len(resp.Kvs)-1].Key
	next := make([]byte, len(last)+1)
	copy(next, last)
	c.put(next, r.RangeEnd, rev, resp.Count-int64(len(resp.Kvs)))
}

// count returns the count of r at rev (storage revision srev) from the
// cache, or from the backend.
func (v *view) count(kr kv.Range, r *pb.RangeRequest, rev, srev int64) (int64, error) {
	if v.counts != nil && countable(r) {
		if n, ok := v.counts.get(r.Key, r.RangeEnd, rev); ok {
			return n, nil
		}
	}
	return v.tx.Count(v.ctx, kr, srev)
}
