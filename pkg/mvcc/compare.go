package mvcc

import (
	"bytes"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/kv"
)

// txnPath evaluates the compares of rt and of every nested Txn on the branch
// taken, before any write, as etcd's compareToPath does.
func (v *view) txnPath(rt *pb.TxnRequest) ([]bool, error) {
	ok, err := v.compares(rt.Compare)
	if err != nil {
		return nil, err
	}
	path := []bool{ok}
	ops := rt.Success
	if !ok {
		ops = rt.Failure
	}
	for _, op := range ops {
		nt := op.GetRequestTxn()
		if nt == nil {
			continue
		}
		sub, err := v.txnPath(nt)
		if err != nil {
			return nil, err
		}
		path = append(path, sub...)
	}
	return path, nil
}

func (v *view) compares(cmps []*pb.Compare) (bool, error) {
	for _, c := range cmps {
		kvs, err := v.rangeLatest(kv.FromEtcd(c.Key, c.RangeEnd), c.Target == pb.Compare_VALUE)
		if err != nil {
			return false, err
		}
		if len(kvs) == 0 {
			if c.Target == pb.Compare_VALUE || !compareKV(c, &kv.KeyValue{}) {
				return false, nil
			}
			continue
		}
		for _, kv := range kvs {
			if !compareKV(c, kv) {
				return false, nil
			}
		}
	}
	return true, nil
}

func compareKV(c *pb.Compare, v *kv.KeyValue) bool {
	var result int
	switch c.Target {
	case pb.Compare_VALUE:
		result = bytes.Compare(v.Value, c.GetValue())
	case pb.Compare_CREATE:
		result = cmpInt(v.CreateRevision, c.GetCreateRevision())
	case pb.Compare_MOD:
		result = cmpInt(v.ModRevision, c.GetModRevision())
	case pb.Compare_VERSION:
		result = cmpInt(v.Version, c.GetVersion())
	case pb.Compare_LEASE:
		result = cmpInt(v.Lease, c.GetLease())
	}
	switch c.Result {
	case pb.Compare_EQUAL:
		return result == 0
	case pb.Compare_NOT_EQUAL:
		return result != 0
	case pb.Compare_GREATER:
		return result > 0
	case pb.Compare_LESS:
		return result < 0
	}
	return true
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
