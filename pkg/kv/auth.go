package kv

import (
	"context"

	"go.etcd.io/etcd/api/v3/authpb"
)

// AuthMeta is the auth store's scalar state: whether authentication is
// enabled and etcd's auth revision.
type AuthMeta struct {
	Enabled  bool
	Revision uint64
}

// AuthReadTxn reads etcd's auth store (users, roles, the enabled flag and
// the auth revision) inside a transaction. Users and roles are stored as
// etcd stores them: authpb.User and authpb.Role records keyed by name.
type AuthReadTxn interface {
	// AuthMeta reads the enabled flag and the auth revision.
	AuthMeta(ctx context.Context) (AuthMeta, error)
	// AuthUsers returns every user, in name order.
	AuthUsers(ctx context.Context) ([]*authpb.User, error)
	// AuthRoles returns every role, in name order.
	AuthRoles(ctx context.Context) ([]*authpb.Role, error)
}

// AuthWriteTxn writes etcd's auth store. Only the engine's deterministic
// apply path calls it.
type AuthWriteTxn interface {
	AuthReadTxn
	// SetAuthMeta records the enabled flag and the auth revision.
	SetAuthMeta(ctx context.Context, m AuthMeta) error
	// PutAuthUser creates or replaces a user.
	PutAuthUser(ctx context.Context, u *authpb.User) error
	// DeleteAuthUser removes a user and the simple tokens issued to it.
	DeleteAuthUser(ctx context.Context, name string) error
	// PutAuthRole creates or replaces a role.
	PutAuthRole(ctx context.Context, r *authpb.Role) error
	// DeleteAuthRole removes a role.
	DeleteAuthRole(ctx context.Context, name string) error
	// NextAuthTokenIndex increments and returns the counter a simple
	// token's text ends with (etcd ends it with the raft index), so that
	// every token issued is distinct.
	NextAuthTokenIndex(ctx context.Context) (int64, error)
	// PutAuthToken records a simple token of user name, unclocked: its
	// expiry is set by AuthTokens.TouchAuthToken, outside the apply path.
	PutAuthToken(ctx context.Context, token, name string) error
	// DeleteAuthTokens removes the simple tokens of user name, or every
	// token when name is "".
	DeleteAuthTokens(ctx context.Context, name string) error
}

// AuthToken is a recorded simple token, with its wall-clock expiry in
// milliseconds on the database's clock (0: not clocked yet).
type AuthToken struct {
	Token     string
	Name      string
	ExpiresAt int64
}

// AuthTokens is the optional backend capability that keeps the expiry of
// simple tokens, so that a token issued by one process sharing the
// database is accepted by the others, and kept alive by use at any of
// them. Like the lease clock it is wall-clock state: it never enters the
// deterministic apply path, and it never changes a revision.
type AuthTokens interface {
	// LookupAuthToken reads a token; found is false if it does not exist.
	// now is the database's time in milliseconds.
	LookupAuthToken(ctx context.Context, token string) (t AuthToken, found bool, now int64, err error)
	// TouchAuthToken sets the expiry of a token to now + ttl, unless it has
	// already expired. It reports whether the token is still valid.
	TouchAuthToken(ctx context.Context, token string, ttlMillis int64) (ok bool, err error)
	// SweepAuthTokens removes the expired tokens and clocks the unclocked
	// ones (expiry now + ttl); it returns how many it removed.
	SweepAuthTokens(ctx context.Context, ttlMillis int64) (removed int64, err error)
}
