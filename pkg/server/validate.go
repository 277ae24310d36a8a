package server

import (
	"bytes"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// The checks etcd's gRPC layer runs before a request reaches the store.

func checkRange(r *pb.RangeRequest) error {
	if len(r.Key) == 0 {
		return rpctypes.ErrGRPCEmptyKey
	}
	if _, ok := pb.RangeRequest_SortOrder_name[int32(r.SortOrder)]; !ok {
		return rpctypes.ErrGRPCInvalidSortOption
	}
	if _, ok := pb.RangeRequest_SortTarget_name[int32(r.SortTarget)]; !ok {
		return rpctypes.ErrGRPCInvalidSortOption
	}
	return nil
}

func checkPut(r *pb.PutRequest) error {
	switch {
	case len(r.Key) == 0:
		return rpctypes.ErrGRPCEmptyKey
	case r.IgnoreValue && len(r.Value) != 0:
		return rpctypes.ErrGRPCValueProvided
	case r.IgnoreLease && r.Lease != 0:
		return rpctypes.ErrGRPCLeaseProvided
	}
	return nil
}

func checkDelete(r *pb.DeleteRangeRequest) error {
	if len(r.Key) == 0 {
		return rpctypes.ErrGRPCEmptyKey
	}
	return nil
}

func checkTxn(r *pb.TxnRequest, maxOps int) error {
	opc := max(len(r.Compare), len(r.Success), len(r.Failure))
	if opc > maxOps {
		return rpctypes.ErrGRPCTooManyOps
	}
	for _, c := range r.Compare {
		if len(c.Key) == 0 {
			return rpctypes.ErrGRPCEmptyKey
		}
	}
	for _, ops := range [][]*pb.RequestOp{r.Success, r.Failure} {
		for _, u := range ops {
			if err := checkOp(u, maxOps-opc); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkOp(u *pb.RequestOp, maxOps int) error {
	switch uv := u.Request.(type) {
	case *pb.RequestOp_RequestRange:
		return checkRange(uv.RequestRange)
	case *pb.RequestOp_RequestPut:
		return checkPut(uv.RequestPut)
	case *pb.RequestOp_RequestDeleteRange:
		return checkDelete(uv.RequestDeleteRange)
	case *pb.RequestOp_RequestTxn:
		return checkTxn(uv.RequestTxn, maxOps)
	default:
		return rpctypes.ErrGRPCKeyNotFound
	}
}

// interval is a key interval as etcd's duplicate-key check sees it:
// [begin, end), an empty end meaning unbounded. A "\x00" range end is not
// special here, as in etcd.
type interval struct{ begin, end []byte }

func (iv interval) containsPoint(k []byte) bool {
	// A point k is the interval [k, k+"\x00"); they overlap when
	// begin < k+"\x00" and k < end.
	return bytes.Compare(iv.begin, append(append([]byte{}, k...), 0)) < 0 &&
		(len(iv.end) == 0 || bytes.Compare(k, iv.end) < 0)
}

type intervals []interval

func (s intervals) intersects(k []byte) bool {
	for _, iv := range s {
		if iv.containsPoint(k) {
			return true
		}
	}
	return false
}

// checkIntervals rejects a Txn branch that puts one key twice or puts a key
// that a delete of the same branch covers, nested Txns included; the two
// branches of one nested Txn may put the same key.
func checkIntervals(reqs []*pb.RequestOp) (map[string]struct{}, intervals, error) {
	var dels intervals
	for _, req := range reqs {
		d := req.GetRequestDeleteRange()
		if d == nil {
			continue
		}
		if len(d.RangeEnd) != 0 {
			dels = append(dels, interval{d.Key, d.RangeEnd})
		} else {
			dels = append(dels, interval{d.Key, append(append([]byte{}, d.Key...), 0)})
		}
	}
	puts := map[string]struct{}{}
	for _, req := range reqs {
		t := req.GetRequestTxn()
		if t == nil {
			continue
		}
		putsThen, delsThen, err := checkIntervals(t.Success)
		if err != nil {
			return nil, nil, err
		}
		putsElse, delsElse, err := checkIntervals(t.Failure)
		if err != nil {
			return nil, nil, err
		}
		for k := range putsThen {
			if _, ok := puts[k]; ok || dels.intersects([]byte(k)) {
				return nil, nil, rpctypes.ErrGRPCDuplicateKey
			}
			puts[k] = struct{}{}
		}
		for k := range putsElse {
			if _, ok := puts[k]; ok {
				if _, safe := putsThen[k]; !safe {
					return nil, nil, rpctypes.ErrGRPCDuplicateKey
				}
			}
			if dels.intersects([]byte(k)) {
				return nil, nil, rpctypes.ErrGRPCDuplicateKey
			}
			puts[k] = struct{}{}
		}
		dels = append(dels, delsThen...)
		dels = append(dels, delsElse...)
	}
	for _, req := range reqs {
		p := req.GetRequestPut()
		if p == nil {
			continue
		}
		k := string(p.Key)
		if _, ok := puts[k]; ok || dels.intersects(p.Key) {
			return nil, nil, rpctypes.ErrGRPCDuplicateKey
		}
		puts[k] = struct{}{}
	}
	return puts, dels, nil
}
