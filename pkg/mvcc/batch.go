package mvcc

import (
	"context"

	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/pkg/kv"
)

// Batch applies operations one after another in one write transaction, each
// at the revision after the previous one's, as the group-commit writer does
// (and as a replicated log's committed entries would be applied). The
// result is the same as applying each operation in a transaction of its
// own.
type Batch struct {
	ctx                   context.Context
	tx                    kv.WriteTxn
	rev, compacted        int64
	startRev, startCompac int64
}

// NewBatch reads the revisions tx starts from and hints the backend at the
// keys ops will read. More operations than ops may be applied.
func NewBatch(ctx context.Context, tx kv.WriteTxn, ops []*Op) (*Batch, error) {
	// Prefetch first: a backend may read the keys with the revisions.
	if err := tx.Prefetch(ctx, prefetchKeys(ops)); err != nil {
		return nil, err
	}
	rev, compacted, err := tx.Revisions(ctx)
	if err != nil {
		return nil, err
	}
	return &Batch{ctx: ctx, tx: tx, rev: rev, compacted: compacted, startRev: rev, startCompac: compacted}, nil
}

// Apply applies op. refused is etcd's refusal of the op (compacted, lease
// not found, ...), after which nothing of it was written; err is a storage
// failure that aborts the transaction.
func (b *Batch) Apply(op *Op) (resp proto.Message, refused, err error) {
	resp, rev, compacted, err := Apply(b.ctx, b.tx, b.rev, b.compacted, op)
	if err != nil {
		if isLogical(err) {
			return nil, err, nil
		}
		return nil, nil, err
	}
	b.rev, b.compacted = rev, compacted
	return resp, nil, nil
}

// Finish records the revision the batch reached. changed reports whether it
// created a revision; compactTo is the compact revision it set (0: none)
// and compactPrev the one before.
func (b *Batch) Finish() (changed bool, compactTo, compactPrev int64, err error) {
	if b.rev != b.startRev {
		if err := b.tx.SetRevision(b.ctx, b.rev); err != nil {
			return false, 0, 0, err
		}
	}
	if b.compacted != b.startCompac {
		compactTo, compactPrev = b.compacted, b.startCompac
	}
	return b.rev != b.startRev, compactTo, compactPrev, nil
}
