package mvcc

import (
	"context"
	"time"

	"github.com/strata-db/strata/pkg/kv"
)

// The membership store passes through the engine's wrappers: pkg/member
// reads and writes it on the backend's own transactions.

func (t *timedRead) Members(ctx context.Context) ([]kv.StoredMember, error) {
	defer t.m.since("members", time.Now())
	return t.tx.Members(ctx)
}

func (t *timedWrite) PutMember(ctx context.Context, m kv.StoredMember) error {
	defer t.m.since("put_member", time.Now())
	return t.w.PutMember(ctx, m)
}

func (pointTxn) Members(context.Context) ([]kv.StoredMember, error) { return nil, errPointTxn }
