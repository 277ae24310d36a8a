package mvcc

import (
	"bytes"
	"context"
	"errors"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/kv"
)

// rangePoint answers a Range of one key at the latest revision through the
// backend's PointReader (one statement instead of a transaction). The
// answer goes through rangeOp like any other, over a snapshot that holds
// just that key, so every option (keys only, filters, limit) behaves the
// same. ok is false when the request or the backend does not qualify.
func (s *Store) rangePoint(ctx context.Context, r *pb.RangeRequest) (resp *pb.RangeResponse, ok bool, err error) {
	pr, can := s.be.(kv.PointReader)
	if !can || r.Revision != 0 || r.CountOnly {
		return nil, false, nil
	}
	kr := kv.FromEtcd(r.Key, r.RangeEnd)
	if !kr.IsSingleKey() {
		return nil, false, nil
	}
	got, cur, comp, err := pr.ReadLatest(ctx, kr.Start)
	if err != nil {
		return nil, true, err
	}
	v := &view{ctx: ctx, tx: pointTxn{key: kr.Start, kv: got, cur: cur, comp: comp}, rev: cur, compacted: comp}
	resp, err = v.rangeOp(r)
	return resp, true, err
}

// errPointTxn marks a call rangeOp never makes on a one-key snapshot.
var errPointTxn = errors.New("mvcc: one-key snapshot read outside its key")

// pointTxn is the snapshot of one key read by ReadLatest.
type pointTxn struct {
	key       []byte
	kv        *kv.KeyValue
	cur, comp int64
}

var _ kv.ReadTxn = pointTxn{}

func (p pointTxn) Revisions(context.Context) (int64, int64, error) { return p.cur, p.comp, nil }

func (p pointTxn) rows(r kv.Range, rev int64) ([]*kv.KeyValue, error) {
	if rev != 0 || !r.IsSingleKey() || !bytes.Equal(r.Start, p.key) {
		return nil, errPointTxn
	}
	if p.kv == nil {
		return nil, nil
	}
	return []*kv.KeyValue{p.kv}, nil
}

func (p pointTxn) Range(_ context.Context, r kv.Range, rev, _ int64, _ bool) ([]*kv.KeyValue, error) {
	return p.rows(r, rev)
}

func (p pointTxn) Count(_ context.Context, r kv.Range, rev int64) (int64, error) {
	kvs, err := p.rows(r, rev)
	return int64(len(kvs)), err
}

func (pointTxn) Lease(context.Context, int64) (*kv.Lease, error)    { return nil, errPointTxn }
func (pointTxn) Leases(context.Context) ([]kv.Lease, error)         { return nil, errPointTxn }
func (pointTxn) LeaseKeys(context.Context, int64) ([][]byte, error) { return nil, errPointTxn }
func (pointTxn) Events(context.Context, int64, int64, int, bool) ([]kv.Event, int64, error) {
	return nil, 0, errPointTxn
}
