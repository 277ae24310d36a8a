package watchpoll

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-db/strata/pkg/kv"
)

// Defaults of Config.
const (
	DefaultPollInterval           = 100 * time.Millisecond
	DefaultProgressNotifyInterval = 5 * time.Second // kine's default
	// MinProgressNotifyInterval is etcd's floor for the progress period.
	MinProgressNotifyInterval = 100 * time.Millisecond
	// DefaultQueueLen is etcd's chanBufLen. A deeper queue only holds more
	// responses in front of a client that cannot keep up: it fills later,
	// so its watchers start later on the catch-up path, whose responses
	// carry many revisions each and are cheaper for the client to take.
	DefaultQueueLen   = 128
	DefaultQueueBytes = 1 << 20
	DefaultBatchRows  = 2000
	// syncInterval is how often the catch-up loop retries slow watchers
	// when nothing wakes it (etcd's watchResyncPeriod).
	syncInterval = 100 * time.Millisecond
	// maxBatchRevs is the most revisions one catch-up response carries
	// (etcd's watchBatchMaxRevs).
	maxBatchRevs = 1000
	// maxSyncWatchers is the most slow watchers one catch-up read serves
	// (etcd's maxWatchersPerSync).
	maxSyncWatchers = 512
	// ctrlReserve is how far control responses may exceed QueueLen, so
	// that a full queue of events never blocks a create or cancel for long.
	ctrlReserve = 16
)

// Config is one Hub's settings.
type Config struct {
	// Backend is the log to read; required. If it implements kv.Notifier,
	// its notifications wake the poller.
	Backend kv.Backend
	// Commits, if set, is signalled after each local commit
	// (mvcc.Store.Commits) and wakes the poller at once.
	Commits <-chan struct{}
	// PollInterval is how often the poller reads the log when nothing
	// wakes it.
	PollInterval time.Duration
	// ProgressNotifyInterval is the period of progress notifications to
	// watches created with progress_notify. Below 100ms it is raised to
	// 100ms, as etcd does.
	ProgressNotifyInterval time.Duration
	// QueueLen and QueueBytes bound the responses waiting to be sent on
	// one stream; a watcher that finds its stream's queue full becomes a
	// slow watcher and catches up from the log.
	QueueLen   int
	QueueBytes int
	// BatchRows is the most log rows one read returns (never splitting a
	// revision).
	BatchRows int
	Logger    *slog.Logger
	// Registerer receives the hub's metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

func (c Config) withDefaults() Config {
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.ProgressNotifyInterval == 0 {
		c.ProgressNotifyInterval = DefaultProgressNotifyInterval
	}
	if c.ProgressNotifyInterval < MinProgressNotifyInterval {
		c.ProgressNotifyInterval = MinProgressNotifyInterval
	}
	if c.QueueLen == 0 {
		c.QueueLen = DefaultQueueLen
	}
	if c.QueueBytes == 0 {
		c.QueueBytes = DefaultQueueBytes
	}
	if c.BatchRows == 0 {
		c.BatchRows = DefaultBatchRows
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	switch {
	case c.Backend == nil:
		return ErrNoBackend
	case c.PollInterval < 0, c.ProgressNotifyInterval < 0:
		return errors.New("watchpoll: intervals must not be negative")
	case c.QueueLen < 0, c.QueueBytes < 0, c.BatchRows < 0:
		return errors.New("watchpoll: queue and batch sizes must not be negative")
	}
	return nil
}
