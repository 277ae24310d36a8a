package mvcc

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/kv"
)

// view is the state one operation reads and writes: a backend transaction
// as of revision rev, plus the changes the operation has made so far (all at
// revision rev+1).
type view struct {
	ctx       context.Context
	tx        kv.ReadTxn
	w         kv.WriteTxn // nil in a read-only view
	rev       int64
	compacted int64
	changes   int64 // changes appended at rev+1 so far
	// leaseKnown caches lease look-ups of this operation.
	leaseKnown map[int64]bool
	// counts, in a read-only view, holds the counts of next pages
	// (counts.go).
	counts *countCache
}

// curRev is the revision the operation sees: rev, or rev+1 once it wrote.
func (v *view) curRev() int64 {
	if v.changes > 0 {
		return v.rev + 1
	}
	return v.rev
}

// storageRev maps an etcd read revision to the backend's: 0 reads the latest
// table, which holds this operation's own writes too.
func (v *view) storageRev(rev int64) int64 {
	if rev <= 0 || rev == v.curRev() {
		return 0
	}
	return rev
}

// get returns the live value of key as the operation sees it, or nil.
func (v *view) get(key []byte) (*kv.KeyValue, error) {
	return v.lookup(key, true)
}

// lookup is get for a caller that needs the value only if value is set:
// the backend may then answer from what it knows of the key without
// reading its value (see kv.ReadTxn.Range's keysOnly).
func (v *view) lookup(key []byte, value bool) (*kv.KeyValue, error) {
	kvs, err := v.tx.Range(v.ctx, kv.SingleKey(key), 0, 1, !value)
	if err != nil || len(kvs) == 0 {
		return nil, err
	}
	return kvs[0], nil
}

// rangeLatest returns the live keys of r as the operation sees them, with
// their values if value is set.
func (v *view) rangeLatest(r kv.Range, value bool) ([]*kv.KeyValue, error) {
	return v.tx.Range(v.ctx, r, 0, 0, !value)
}

// checkRev is etcd's check of a read revision against the store.
func (v *view) checkRev(rev int64) error {
	switch {
	case rev == 0:
		return nil
	case rev > v.rev:
		return kv.ErrFutureRev
	case rev < v.compacted:
		return kv.ErrCompacted
	}
	return nil
}

func (v *view) leaseExists(id int64) (bool, error) {
	if ok, seen := v.leaseKnown[id]; seen {
		return ok, nil
	}
	_, err := v.tx.Lease(v.ctx, id)
	switch {
	case err == nil:
	case err == kv.ErrLeaseNotFound:
	default:
		return false, err
	}
	if v.leaseKnown == nil {
		v.leaseKnown = map[int64]bool{}
	}
	v.leaseKnown[id] = err == nil
	return err == nil, nil
}

// write appends one change of this operation at rev+1.
func (v *view) write(c kv.Change) error {
	c.Sub = v.changes
	if err := v.w.Append(v.ctx, v.rev+1, []kv.Change{c}); err != nil {
		return err
	}
	v.changes++
	return nil
}

func header(rev int64) *pb.ResponseHeader { return &pb.ResponseHeader{Revision: rev} }
