package lease

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/kv"
)

// Defaults of Config.
const (
	// DefaultMinTTL is etcd's minimum TTL with its default timing:
	// ceil(1.5 election timeouts of 1 s) seconds.
	DefaultMinTTL = 2
	// DefaultSweepInterval is how often the expirer looks in the database
	// for due leases that its heap does not know (granted by another
	// process).
	DefaultSweepInterval = 500 * time.Millisecond
	// DefaultElectionRetry is how often a process that is not the expirer
	// tries to take the expirer lock.
	DefaultElectionRetry = 1 * time.Second
	// DefaultMaxBatch is the most renewals written, or leases examined, in
	// one database transaction.
	DefaultMaxBatch = 512
	// MaxTTL is etcd's largest lease TTL in seconds.
	MaxTTL = 9000000000
	// LockName is the kv.Locker lock the expirer holds.
	LockName = "strata/lease-expirer"
)

// Store is what the lessor needs from the engine (pkg/mvcc.Store).
type Store interface {
	LeaseGrant(ctx context.Context, id, ttl int64) (*pb.LeaseGrantResponse, error)
	LeaseRevoke(ctx context.Context, id int64) (*pb.LeaseRevokeResponse, error)
	Lease(ctx context.Context, id int64) (l *kv.Lease, keys [][]byte, rev int64, err error)
}

// Config is one Lessor's settings.
type Config struct {
	// Store is the engine; required.
	Store Store
	// Backend is the engine's backend; it must implement kv.LeaseClock and
	// may implement kv.Locker.
	Backend kv.Backend
	// MinTTL is the smallest TTL granted, in seconds.
	MinTTL int64
	// SweepInterval is the period of the expirer's due-lease query.
	SweepInterval time.Duration
	// ElectionRetry is the period of a standby's attempts at the lock.
	ElectionRetry time.Duration
	// MaxBatch bounds one renewal transaction and one expiry round.
	MaxBatch int
	Logger   *slog.Logger
	// Registerer receives the lessor's metrics; nil registers none.
	Registerer prometheus.Registerer
}

func (c Config) withDefaults() Config {
	if c.MinTTL == 0 {
		c.MinTTL = DefaultMinTTL
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = DefaultSweepInterval
	}
	if c.ElectionRetry == 0 {
		c.ElectionRetry = DefaultElectionRetry
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Store == nil || c.Backend == nil:
		return errors.New("lease: a store and its backend are required")
	case c.MinTTL < 1 || c.MinTTL > MaxTTL:
		return errors.New("lease: the minimum TTL must be between 1 s and the maximum TTL")
	case c.SweepInterval < 0 || c.ElectionRetry < 0 || c.MaxBatch < 0:
		return errors.New("lease: intervals and batch sizes must be positive")
	}
	if _, ok := c.Backend.(kv.LeaseClock); !ok {
		return ErrNoClock
	}
	return nil
}
