package mvcc

import (
	"math"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/kv"
)

// rangeOp answers a RangeRequest as etcd's executeRange does: fetch (with
// limit+1 where order allows), count the whole range, filter, sort, cut.
func (v *view) rangeOp(r *pb.RangeRequest) (*pb.RangeResponse, error) {
	cur := v.curRev()
	rev := r.Revision
	if rev > cur {
		return nil, kv.ErrFutureRev
	}
	if rev < v.compacted && rev > 0 {
		return nil, kv.ErrCompacted
	}
	kr := kv.FromEtcd(r.Key, r.RangeEnd)
	srev := v.storageRev(rev)
	resp := &pb.RangeResponse{Header: header(cur)}
	if r.CountOnly {
		n, err := v.tx.Count(v.ctx, kr, srev)
		if err != nil {
			return nil, err
		}
		resp.Count = n
		return resp, nil
	}
	limit := rangeLimit(r)
	kvs, err := v.tx.Range(v.ctx, kr, srev, limit, r.KeysOnly && r.SortTarget != pb.RangeRequest_VALUE)
	if err != nil {
		return nil, err
	}
	count := int64(len(kvs))
	if limit > 0 && count >= limit {
		if count, err = v.count(kr, r, readRev(rev, cur), srev); err != nil {
			return nil, err
		}
	}
	kvs = filterKVs(kvs, r)
	sortKVs(kvs, r)
	if r.Limit > 0 && int64(len(kvs)) > r.Limit {
		kvs = kvs[:r.Limit]
		resp.More = true
	}
	if r.KeysOnly {
		for _, kv := range kvs {
			kv.Value = nil
		}
	}
	resp.Count = count
	resp.Kvs = kvs
	v.counts.noteNextPage(r, readRev(rev, cur), resp)
	return resp, nil
}

// readRev is the revision a range reads: the one asked, or the current.
func readRev(asked, cur int64) int64 {
	if asked > 0 {
		return asked
	}
	return cur
}

// rangeLimit is how many rows to fetch: all when the order or filters need
// the whole range, otherwise one more than asked to learn about "more".
func rangeLimit(r *pb.RangeRequest) int64 {
	limit := r.Limit
	if !isDefaultOrdering(r.SortTarget, r.SortOrder) || hasRevisionFilters(r) {
		limit = 0
	}
	if limit > 0 && limit < math.MaxInt64 {
		limit++
	}
	return limit
}

func isDefaultOrdering(t pb.RangeRequest_SortTarget, o pb.RangeRequest_SortOrder) bool {
	return o == pb.RangeRequest_NONE || (t == pb.RangeRequest_KEY && o == pb.RangeRequest_ASCEND)
}

func hasRevisionFilters(r *pb.RangeRequest) bool {
	return r.MinModRevision != 0 || r.MaxModRevision != 0 || r.MinCreateRevision != 0 || r.MaxCreateRevision != 0
}

func filterKVs(kvs []*kv.KeyValue, r *pb.RangeRequest) []*kv.KeyValue {
	if !hasRevisionFilters(r) {
		return kvs
	}
	out := kvs[:0]
	for _, kv := range kvs {
		switch {
		case r.MaxModRevision != 0 && kv.ModRevision > r.MaxModRevision:
		case r.MinModRevision != 0 && kv.ModRevision < r.MinModRevision:
		case r.MaxCreateRevision != 0 && kv.CreateRevision > r.MaxCreateRevision:
		case r.MinCreateRevision != 0 && kv.CreateRevision < r.MinCreateRevision:
		default:
			out = append(out, kv)
		}
	}
	return out
}
