package compactor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/kv"
)

// Modes, etcd's --auto-compaction-mode values.
const (
	ModePeriodic = "periodic"
	ModeRevision = "revision"
)

const (
	// DefaultRevisionInterval is how often revision mode compacts (etcd's
	// revInterval).
	DefaultRevisionInterval = 5 * time.Minute
	// retryDivisor: periodic mode samples the revision every tenth of the
	// retention (at most an hour / 10), as etcd.
	retryDivisor = 10
	// maxPeriodicInterval caps the compaction interval of long retentions.
	maxPeriodicInterval = time.Hour
	// LockName is the kv.Locker lock the compacting process holds.
	LockName = "strata/auto-compactor"
)

// Store is what the compactor needs from the engine (pkg/mvcc.Store).
type Store interface {
	Compact(ctx context.Context, r *pb.CompactionRequest) (*pb.CompactionResponse, error)
	CurrentRevision(ctx context.Context) (current, compacted int64, err error)
}

// Config is one Compactor's settings.
type Config struct {
	// Mode is ModePeriodic or ModeRevision.
	Mode string
	// Retention is, in periodic mode, the history kept; in revision mode
	// the number of revisions kept (as a time.Duration count, see
	// ParseRetention).
	Retention time.Duration
	// Store is the engine; required.
	Store Store
	// Backend may implement kv.Locker; then only the lock holder compacts.
	Backend kv.Backend
	// Interval overrides the period of the loop (revision mode: etcd's 5
	// minutes; periodic mode: a tenth of the retention, at most 6
	// minutes). For tests.
	Interval time.Duration
	Logger   *slog.Logger
	// Registerer receives the compactor's metrics; nil registers none.
	Registerer prometheus.Registerer
}

// ParseRetention parses etcd's --auto-compaction-retention: a plain number
// is hours in periodic mode and revisions in revision mode; otherwise a
// duration such as "30m" (periodic mode only).
func ParseRetention(mode, retention string) (time.Duration, error) {
	if n, err := strconv.ParseInt(retention, 10, 64); err == nil && n >= 0 {
		switch mode {
		case ModeRevision:
			return time.Duration(n), nil
		case ModePeriodic:
			return time.Duration(n) * time.Hour, nil
		}
		return 0, fmt.Errorf("compactor: unknown --auto-compaction-mode %q (periodic or revision)", mode)
	}
	if mode != ModePeriodic {
		return 0, fmt.Errorf("compactor: --auto-compaction-retention %q must be a number of revisions in revision mode", retention)
	}
	d, err := time.ParseDuration(retention)
	if err != nil {
		return 0, fmt.Errorf("compactor: --auto-compaction-retention: %w", err)
	}
	return d, nil
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Mode != ModePeriodic && c.Mode != ModeRevision:
		return fmt.Errorf("compactor: unknown mode %q (periodic or revision)", c.Mode)
	case c.Retention <= 0:
		return errors.New("compactor: the retention must be positive")
	case c.Store == nil:
		return errors.New("compactor: a store is required")
	case c.Interval < 0:
		return errors.New("compactor: the interval must not be negative")
	}
	return nil
}

// interval is the period of the loop.
func (c Config) interval() time.Duration {
	switch {
	case c.Interval > 0:
		return c.Interval
	case c.Mode == ModeRevision:
		return DefaultRevisionInterval
	}
	return min(c.Retention, maxPeriodicInterval) / retryDivisor
}
