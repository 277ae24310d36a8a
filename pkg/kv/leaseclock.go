package kv

import "context"

// LeaseExpiry is a lease with its wall-clock expiry, in milliseconds since
// the Unix epoch on the database's clock. ExpiresAt 0 means the lease has
// not been clocked yet (granted, but its first expiry not written).
type LeaseExpiry struct {
	ID        int64
	TTL       int64
	ExpiresAt int64
}

// LeaseClock is the optional backend capability that keeps the expiry of
// every lease in the database, so that a keepalive received by any process
// counts, and the one process that expires leases sees it.
//
// Time is the database's clock, so that processes on several hosts agree on
// it: each method also returns the database's time now, in milliseconds
// since the epoch. Expiry is wall-clock state; it never enters the
// deterministic apply path (Backend.Write), and these methods never change
// a revision.
type LeaseClock interface {
	// RenewLeases sets the expiry of each lease to now + TTL, unless it has
	// already expired (an unclocked lease is renewed). It returns the leases
	// it renewed; a lease missing from the answer does not exist or expired.
	RenewLeases(ctx context.Context, ids []int64) (now int64, renewed []LeaseExpiry, err error)
	// RenewAllLeases sets the expiry of every lease to now + TTL, as a new
	// etcd leader does, and returns them all.
	RenewAllLeases(ctx context.Context) (now int64, all []LeaseExpiry, err error)
	// LeaseExpiries reads the given leases (every lease when ids is nil), in
	// expiry order; leases that do not exist are left out.
	LeaseExpiries(ctx context.Context, ids []int64) (now int64, ls []LeaseExpiry, err error)
	// DueLeases returns, in expiry order, at most limit leases that have
	// expired or were never clocked. It costs O(log n) per lease returned.
	DueLeases(ctx context.Context, limit int) (now int64, due []LeaseExpiry, err error)
}
