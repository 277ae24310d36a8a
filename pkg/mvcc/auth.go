package mvcc

import (
	"context"
	"time"

	"go.etcd.io/etcd/api/v3/authpb"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/pkg/auth"
	"github.com/strata-db/strata/pkg/kv"
)

// authTxn is a write transaction with the auth state of one group commit:
// the first operation that needs it reads it (from the process's cache,
// compared with the database when that may be stale), later ones reuse
// it, and an auth change in the batch makes the rest read it again from
// the transaction.
type authTxn struct {
	kv.WriteTxn
	store *auth.Store // nil: no auth store (tests); every check reads tx
	st    *auth.State // the state as this transaction sees it; nil: not read yet
	// exact is set when st was read from (or compared with) the database.
	exact bool
	dirty bool // an auth operation changed the store in this transaction
}

// withAuth wraps the transaction of one batch.
func (s *Store) withAuth(tx kv.WriteTxn) kv.WriteTxn {
	return &authTxn{WriteTxn: tx, store: s.cfg.Auth}
}

// state returns the auth state as the transaction sees it. exact asks for
// the database's state even where the cache would do (an auth operation
// reads and rewrites the store).
func (a *authTxn) state(ctx context.Context, exact bool) (*auth.State, error) {
	if a.st != nil && (a.exact || !exact) {
		return a.st, nil
	}
	if a.dirty || a.store == nil {
		st, err := auth.Load(ctx, a.WriteTxn)
		a.st, a.exact = st, err == nil
		return st, err
	}
	cached, verify := a.store.ForWrite()
	if !verify && !exact {
		a.st = cached
		return cached, nil
	}
	m, err := a.AuthMeta(ctx)
	if err != nil {
		return nil, err
	}
	st := cached
	if st.Meta() != m {
		if st, err = auth.Load(ctx, a.WriteTxn); err != nil {
			return nil, err
		}
	}
	a.store.Verified(st)
	a.st, a.exact = st, true
	return st, nil
}

// changed notes an auth change applied in this transaction.
func (a *authTxn) changed() {
	a.st, a.exact, a.dirty = nil, false, true
	if a.store != nil {
		a.store.Changed()
	}
}

// authOf returns the batch's auth view of tx (a fresh one for a bare
// transaction, as a test may pass).
func authOf(tx kv.WriteTxn) *authTxn {
	if a, ok := tx.(*authTxn); ok {
		return a
	}
	return &authTxn{WriteTxn: tx}
}

// authOp applies an auth operation: it never changes the revision.
func (v *view) authOp(op *Op) (proto.Message, error) {
	a := authOf(v.w)
	st, err := a.state(v.ctx, true)
	if err != nil {
		return nil, err
	}
	var tokens auth.Assigner
	if a.store != nil {
		tokens = a.store
	}
	resp, changed, err := auth.Apply(v.ctx, v.w, st, op, tokens)
	if err != nil {
		return nil, err
	}
	if changed {
		a.changed()
	}
	auth.SetHeader(resp, header(v.rev))
	return resp, nil
}

// checkAuth is etcd's authApplierV3 for the key operations: an operation
// from a client (one with a header) must be permitted to the user it names
// at the auth revision it carries. Internal operations have no header.
func (v *view) checkAuth(op *Op) error {
	if op.Header == nil || (op.Put == nil && op.DeleteRange == nil && op.Txn == nil && op.LeaseRevoke == nil) {
		return nil
	}
	st, err := authOf(v.w).state(v.ctx, false)
	if err != nil || !st.Enabled {
		return err
	}
	ai := auth.HeaderInfo(op.Header)
	leaseKeys := func(id int64) ([][]byte, error) { return v.tx.LeaseKeys(v.ctx, id) }
	switch {
	case op.Put != nil:
		return st.CheckPut(ai, op.Put, leaseKeys)
	case op.DeleteRange != nil:
		return st.CheckDeleteRange(ai, op.DeleteRange)
	case op.Txn != nil:
		return st.CheckTxn(ai, op.Txn, leaseKeys)
	case op.LeaseRevoke != nil:
		return st.CheckLease(ai, op.LeaseRevoke.ID, leaseKeys)
	}
	return nil
}

// opFor builds the operation of a client request: its header names the
// user and auth revision ctx carries (auth.WithInfo).
func opFor(ctx context.Context, op *Op) *Op {
	op.Header = auth.RequestHeader(ctx)
	return op
}

// The auth store methods of the timing wrappers.

func (t *timedRead) AuthMeta(ctx context.Context) (kv.AuthMeta, error) {
	defer t.m.since("auth_meta", time.Now())
	return t.tx.AuthMeta(ctx)
}

func (t *timedRead) AuthUsers(ctx context.Context) ([]*authpb.User, error) {
	defer t.m.since("auth_users", time.Now())
	return t.tx.AuthUsers(ctx)
}

func (t *timedRead) AuthRoles(ctx context.Context) ([]*authpb.Role, error) {
	defer t.m.since("auth_roles", time.Now())
	return t.tx.AuthRoles(ctx)
}

func (t *timedWrite) SetAuthMeta(ctx context.Context, m kv.AuthMeta) error {
	defer t.m.since("auth_write", time.Now())
	return t.w.SetAuthMeta(ctx, m)
}

func (t *timedWrite) PutAuthUser(ctx context.Context, u *authpb.User) error {
	defer t.m.since("auth_write", time.Now())
	return t.w.PutAuthUser(ctx, u)
}

func (t *timedWrite) DeleteAuthUser(ctx context.Context, name string) error {
	defer t.m.since("auth_write", time.Now())
	return t.w.DeleteAuthUser(ctx, name)
}

func (t *timedWrite) PutAuthRole(ctx context.Context, r *authpb.Role) error {
	defer t.m.since("auth_write", time.Now())
	return t.w.PutAuthRole(ctx, r)
}

func (t *timedWrite) DeleteAuthRole(ctx context.Context, name string) error {
	defer t.m.since("auth_write", time.Now())
	return t.w.DeleteAuthRole(ctx, name)
}

func (t *timedWrite) NextAuthTokenIndex(ctx context.Context) (int64, error) {
	defer t.m.since("auth_write", time.Now())
	return t.w.NextAuthTokenIndex(ctx)
}

func (t *timedWrite) PutAuthToken(ctx context.Context, token, name string) error {
	defer t.m.since("auth_write", time.Now())
	return t.w.PutAuthToken(ctx, token, name)
}

func (t *timedWrite) DeleteAuthTokens(ctx context.Context, name string) error {
	defer t.m.since("auth_write", time.Now())
	return t.w.DeleteAuthTokens(ctx, name)
}

// A one-key snapshot holds no auth store.

func (pointTxn) AuthMeta(context.Context) (kv.AuthMeta, error)     { return kv.AuthMeta{}, errPointTxn }
func (pointTxn) AuthUsers(context.Context) ([]*authpb.User, error) { return nil, errPointTxn }
func (pointTxn) AuthRoles(context.Context) ([]*authpb.Role, error) { return nil, errPointTxn }
