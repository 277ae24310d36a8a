package endpoint

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/strata-db/strata/pkg/compactor"
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
	// DefaultMetricsAddress is what cmd/strata listens on for metrics and
	// health (kine's --metrics-bind-address, on loopback). An empty
	// Config.MetricsAddress, or "0", serves none.
	DefaultMetricsAddress = "127.0.0.1:8080"
	// DefaultWarningApplyDuration is etcd's --warning-apply-duration: a
	// request slower than this is logged.
	DefaultWarningApplyDuration = 100 * time.Millisecond
	// DefaultAuthToken, DefaultAuthTokenTTL and DefaultBcryptCost are
	// etcd's --auth-token, --auth-token-ttl and --bcrypt-cost.
	DefaultAuthToken    = "simple"
	DefaultAuthTokenTTL = 300 * time.Second
	DefaultBcryptCost   = 10
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
	// ServerCertFile and ServerKeyFile turn on TLS for clients (kine's
	// --server-cert-file/--server-key-file).
	ServerCertFile, ServerKeyFile string
	// TrustedCAFile, with TLS on, requires every client to present a
	// certificate signed by one of its CAs (mutual TLS).
	TrustedCAFile string
	// ClientCertAuth is etcd's --client-cert-auth; it requires
	// TrustedCAFile, which alone already turns verification on.
	ClientCertAuth bool
	// MetricsAddress is host:port for /metrics, /health, /readyz, /livez
	// (and pprof with EnablePprof); "" or "0" serves none, and then no
	// metrics are collected.
	MetricsAddress string
	EnablePprof    bool
	// WarningApplyDuration is the duration past which a request is logged
	// as slow (etcd's --warning-apply-duration); negative logs none.
	WarningApplyDuration time.Duration
	// AutoCompactionMode ("periodic" or "revision") and
	// AutoCompactionRetention are etcd's flags; an empty or "0" retention
	// turns automatic compaction off.
	AutoCompactionMode, AutoCompactionRetention string
	// QuotaBackendBytes is etcd's --quota-backend-bytes; 0 (or negative)
	// enforces no quota (Status then reports etcd's default of 2 GiB).
	QuotaBackendBytes int64
	// AuthToken is etcd's --auth-token: "simple" (the default; tokens are
	// recorded in the database, so every server sharing it accepts them)
	// or "jwt,pub-key=FILE,priv-key=FILE,sign-method=RS256,ttl=5m".
	AuthToken string
	// AuthTokenTTL is etcd's --auth-token-ttl: a simple token expires
	// after this long unused (default 300 s).
	AuthTokenTTL time.Duration
	// BcryptCost is etcd's --bcrypt-cost for hashing passwords (default 10).
	BcryptCost int
	// Version is Strata's own version, for the logs.
	Version string
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
	if c.WarningApplyDuration == 0 {
		c.WarningApplyDuration = DefaultWarningApplyDuration
	}
	if c.AuthToken == "" {
		c.AuthToken = DefaultAuthToken
	}
	if c.AuthTokenTTL == 0 {
		c.AuthTokenTTL = DefaultAuthTokenTTL
	}
	if c.BcryptCost == 0 {
		c.BcryptCost = DefaultBcryptCost
	}
	if c.AutoCompactionMode == "" {
		c.AutoCompactionMode = compactor.ModePeriodic
	}
	if c.MetricsAddress == "0" {
		c.MetricsAddress = ""
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// autoCompaction returns the retention of automatic compaction, or 0 when
// it is off.
func (c Config) autoCompaction() (time.Duration, error) {
	if c.AutoCompactionRetention == "" {
		return 0, nil
	}
	return compactor.ParseRetention(c.AutoCompactionMode, c.AutoCompactionRetention)
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
	if c.AuthTokenTTL < 0 {
		return errors.New("endpoint: --auth-token-ttl must be positive")
	}
	if c.BcryptCost < 4 || c.BcryptCost > 31 {
		return fmt.Errorf("endpoint: --bcrypt-cost %d is outside [4, 31]", c.BcryptCost)
	}
	if c.PollInterval < 0 || c.ProgressNotifyInterval < 0 {
		return fmt.Errorf("endpoint: intervals must be positive")
	}
	if (c.ServerCertFile == "") != (c.ServerKeyFile == "") {
		return errors.New("endpoint: --server-cert-file and --server-key-file go together")
	}
	if c.TrustedCAFile != "" && c.ServerCertFile == "" {
		return errors.New("endpoint: --trusted-ca-file needs TLS: set --server-cert-file and --server-key-file")
	}
	if c.ClientCertAuth && c.TrustedCAFile == "" {
		return errors.New("endpoint: --client-cert-auth needs --trusted-ca-file")
	}
	if _, err := c.autoCompaction(); err != nil {
		return fmt.Errorf("endpoint: %w", err)
	}
	return nil
}
