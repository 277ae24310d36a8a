package compactor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/pkg/kv"
)

// Compactor runs automatic compaction until Close.
type Compactor struct {
	cfg     Config
	log     *slog.Logger
	locker  kv.Locker // nil: this is the only process
	runs    prometheus.Counter
	fails   prometheus.Counter
	lastRev prometheus.Gauge

	ctx    context.Context // lifecycle: cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// Owned by the loop goroutine only.
	held    bool
	lost    <-chan struct{}
	release func()
}

// New starts the loop. Close stops it.
func New(cfg Config) (*Compactor, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Compactor{cfg: cfg, log: cfg.Logger,
		runs: prometheus.NewCounter(prometheus.CounterOpts{Name: "strata_auto_compactions_total",
			Help: "Automatic compactions this process made."}),
		fails: prometheus.NewCounter(prometheus.CounterOpts{Name: "strata_auto_compaction_failures_total",
			Help: "Automatic compactions that failed (retried at the next interval)."}),
		lastRev: prometheus.NewGauge(prometheus.GaugeOpts{Name: "strata_auto_compaction_revision",
			Help: "Revision of this process's last automatic compaction."}),
	}
	if cfg.Registerer != nil {
		for _, m := range []prometheus.Collector{c.runs, c.fails, c.lastRev} {
			if err := cfg.Registerer.Register(m); err != nil {
				return nil, fmt.Errorf("compactor: register metrics: %w", err)
			}
		}
	}
	c.locker, _ = cfg.Backend.(kv.Locker)
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.wg.Add(1)
	go c.run()
	c.log.Info("automatic compaction on", "mode", cfg.Mode, "retention", retentionString(cfg), "interval", cfg.interval())
	return c, nil
}

// Close stops the loop, gives up the lock and waits.
func (c *Compactor) Close() error {
	c.cancel()
	c.wg.Wait()
	return nil
}

func retentionString(cfg Config) string {
	if cfg.Mode == ModeRevision {
		return fmt.Sprintf("%d revisions", int64(cfg.Retention))
	}
	return cfg.Retention.String()
}

// run is etcd's loop: periodic mode samples the revision each interval and
// compacts to the one sampled a retention ago (first after a whole
// retention has passed, then at most every hour); revision mode compacts
// to current minus retention each interval.
func (c *Compactor) run() {
	defer c.wg.Done()
	defer c.unlock()
	itv := c.cfg.interval()
	keep := int(c.cfg.Retention/itv) + 1 // samples spanning the retention
	var revs []int64
	var last int64
	lastSuccess := time.Now()
	base := c.cfg.Retention
	tick := time.NewTicker(itv)
	defer tick.Stop()
	for {
		if c.cfg.Mode == ModePeriodic {
			if cur, _, err := c.cfg.Store.CurrentRevision(c.ctx); err == nil {
				revs = append(revs, cur)
				if len(revs) > keep {
					revs = revs[1:]
				}
			}
		}
		select {
		case <-c.ctx.Done():
			return
		case <-tick.C:
		}
		var rev int64
		if c.cfg.Mode == ModePeriodic {
			if len(revs) == 0 || time.Since(lastSuccess) < base {
				continue
			}
			rev = revs[0]
		} else {
			cur, _, err := c.cfg.Store.CurrentRevision(c.ctx)
			if err != nil {
				continue
			}
			rev = cur - int64(c.cfg.Retention)
		}
		if rev <= 0 || rev == last || !c.lock() {
			continue
		}
		if c.compact(rev) {
			last, lastSuccess = rev, time.Now()
			base = min(c.cfg.Retention, maxPeriodicInterval)
		}
	}
}

// compact compacts to rev; an already compacted revision is a success.
func (c *Compactor) compact(rev int64) bool {
	start := time.Now()
	_, err := c.cfg.Store.Compact(c.ctx, &pb.CompactionRequest{Revision: rev})
	if err != nil && !errors.Is(err, kv.ErrCompacted) {
		if c.ctx.Err() == nil {
			c.fails.Inc()
			c.log.Warn("automatic compaction failed", "revision", rev, "retry-interval", c.cfg.interval(), "err", err)
		}
		return false
	}
	c.runs.Inc()
	c.lastRev.Set(float64(rev))
	c.log.Info("completed automatic compaction", "mode", c.cfg.Mode, "revision", rev, "took", time.Since(start))
	return true
}

// lock reports whether this process may compact: it holds the lock, or
// takes it now.
func (c *Compactor) lock() bool {
	if c.locker == nil {
		return true
	}
	if c.held {
		select {
		case <-c.lost:
			c.log.Warn("lost the automatic compaction lock")
			c.unlock()
		default:
			return true
		}
	}
	held, lost, release, err := c.locker.TryLock(c.ctx, LockName)
	if err != nil {
		c.log.Warn("automatic compaction election failed", "err", err)
		return false
	}
	if !held {
		return false
	}
	if release == nil {
		release = func() {}
	}
	c.held, c.lost, c.release = true, lost, release
	c.log.Info("became the automatic compactor")
	return true
}

func (c *Compactor) unlock() {
	if c.held {
		c.release()
		c.held, c.lost, c.release = false, nil, nil
	}
}
