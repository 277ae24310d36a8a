package mvcc

import (
	"bytes"
	"sort"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/kv"
)

// sortKVs orders a key-ordered result as etcd does. It uses sort.Sort (not a
// stable sort) on the same key-ordered input with the same comparisons, so
// ties come out in the same order as etcd's.
func sortKVs(kvs []*kv.KeyValue, r *pb.RangeRequest) {
	order := r.SortOrder
	if r.SortTarget != pb.RangeRequest_KEY && order == pb.RangeRequest_NONE {
		order = pb.RangeRequest_ASCEND
	}
	if isDefaultOrdering(r.SortTarget, order) {
		return
	}
	var s sort.Interface
	switch r.SortTarget {
	case pb.RangeRequest_KEY:
		s = byKey{kvs}
	case pb.RangeRequest_VERSION:
		s = byVersion{kvs}
	case pb.RangeRequest_CREATE:
		s = byCreate{kvs}
	case pb.RangeRequest_MOD:
		s = byMod{kvs}
	case pb.RangeRequest_VALUE:
		s = byValue{kvs}
	default:
		return
	}
	switch order {
	case pb.RangeRequest_ASCEND:
		sort.Sort(s)
	case pb.RangeRequest_DESCEND:
		sort.Sort(sort.Reverse(s))
	}
}

type kvs []*kv.KeyValue

func (s kvs) Len() int      { return len(s) }
func (s kvs) Swap(i, j int) { s[i], s[j] = s[j], s[i] }

type byKey struct{ kvs }

func (s byKey) Less(i, j int) bool { return bytes.Compare(s.kvs[i].Key, s.kvs[j].Key) < 0 }

type byVersion struct{ kvs }

func (s byVersion) Less(i, j int) bool { return s.kvs[i].Version < s.kvs[j].Version }

type byCreate struct{ kvs }

func (s byCreate) Less(i, j int) bool { return s.kvs[i].CreateRevision < s.kvs[j].CreateRevision }

type byMod struct{ kvs }

func (s byMod) Less(i, j int) bool { return s.kvs[i].ModRevision < s.kvs[j].ModRevision }

type byValue struct{ kvs }

func (s byValue) Less(i, j int) bool { return bytes.Compare(s.kvs[i].Value, s.kvs[j].Value) < 0 }
