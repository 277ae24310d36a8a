package endpoint

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Defaults, as etcd and kine use them.
const (
	DefaultListenAddress       = "127.0.0.1:2379"
	DefaultEndpoint            = "sqlite://./db/state.db"
	DefaultEmulatedEtcdVersion = "3.7.3"
	DefaultMaxRequestBytes     = 1536 * 1024
	DefaultMaxTxnOps           = 128
	DefaultPollInterval        = 100 * time.Millisecond
	DefaultProgressInterval    = 5 * time.Second
)

// Config is everything needed to run one Strata server.
type Config struct {
	// ListenAddress is host:port or unix://path.
	ListenAddress string
	// Endpoint is the datastore DSN: sqlite://path,
	// postgres://user:pass@host:port/db?params (or postgresql://) or
	// mysql://user:pass@tcp(host:port)/db?params. A missing database is
	// created; an empty database name means "kubernetes", as kine.
	Endpoint string
	// DatastoreCAFile, DatastoreCertFile and DatastoreKeyFile configure TLS
	// to a PostgreSQL or MySQL datastore.
	DatastoreCAFile, DatastoreCertFile, DatastoreKeyFile string
	// DatastoreMaxOpenConns and DatastoreMaxIdleConns size the reader pool
	// of a PostgreSQL or MySQL datastore (0: the driver's default);
	// DatastoreConnMaxLifetime recycles its connections (0: never).
	DatastoreMaxOpenConns, DatastoreMaxIdleConns int
	DatastoreConnMaxLifetime                     time.Duration
	// EmulatedEtcdVersion is the version Maintenance.Status reports.
	EmulatedEtcdVersion string
	// MaxRequestBytes is the largest request accepted, as etcd's
	// --max-request-bytes.
	MaxRequestBytes int
	// MaxTxnOps is the most operations one Txn may carry.
	MaxTxnOps int
	// PollInterval is how often the watch poller reads the log when no local
	// commit wakes it.
	PollInterval time.Duration
	// ProgressNotifyInterval is the period of progress notifications to
	// watches that asked for them.
	ProgressNotifyInterval time.Duration
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	if c.ListenAddress == "" {
		c.ListenAddress = DefaultListenAddress
	}
	if c.Endpoint == "" {
		c.Endpoint = DefaultEndpoint
	}
	if c.EmulatedEtcdVersion == "" {
		c.EmulatedEtcdVersion = DefaultEmulatedEtcdVersion
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if c.MaxTxnOps == 0 {
		c.MaxTxnOps = DefaultMaxTxnOps
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.ProgressNotifyInterval == 0 {
		c.ProgressNotifyInterval = DefaultProgressInterval
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if c.MaxRequestBytes < 0 {
		return errors.New("endpoint: --max-request-bytes must be positive")
	}
	if c.MaxTxnOps < 0 {
		return errors.New("endpoint: --max-txn-ops must be positive")
	}
	if c.DatastoreMaxOpenConns < 0 || c.DatastoreMaxIdleConns < 0 || c.DatastoreConnMaxLifetime < 0 {
		return errors.New("endpoint: datastore connection-pool settings must not be negative")
	}
	if c.PollInterval < 0 || c.ProgressNotifyInterval < 0 {
		return fmt.Errorf("endpoint: intervals must be positive")
	}
	return nil
}
