package kv

import (
	"context"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// StoredMember is one record of etcd's membership store: a member, or the
// ID of a removed one (Removed, which etcd never accepts again).
type StoredMember struct {
	*pb.Member
	Removed bool
}

// MemberReadTxn reads the membership store.
type MemberReadTxn interface {
	// Members returns every record, in ID order.
	Members(ctx context.Context) ([]StoredMember, error)
}

// MemberWriteTxn writes the membership store.
type MemberWriteTxn interface {
	MemberReadTxn
	// PutMember creates or replaces the record of m.ID.
	PutMember(ctx context.Context, m StoredMember) error
}
