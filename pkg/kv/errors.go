package kv

import "errors"

// Sentinel errors. The gRPC layer translates them into etcd's rpctypes errors.
var (
	ErrCompacted        = errors.New("kv: required revision has been compacted")
	ErrFutureRev        = errors.New("kv: required revision is a future revision")
	ErrKeyNotFound      = errors.New("kv: key not found")
	ErrLeaseNotFound    = errors.New("kv: requested lease not found")
	ErrLeaseExists      = errors.New("kv: lease already exists")
	ErrLeaseTTLTooLarge = errors.New("kv: too large lease TTL")
	ErrSchemaTooNew     = errors.New("kv: database schema is newer than this binary supports")
	ErrUnavailable      = errors.New("kv: backend unavailable")
	ErrClosed           = errors.New("kv: store closed")
	ErrConflict         = errors.New("kv: write conflict, retry")
)
