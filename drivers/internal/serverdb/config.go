// Package serverdb holds what the drivers of database servers (PostgreSQL,
// MySQL) share beyond sqlstore: how one database is reached.
package serverdb

import (
	"log/slog"
	"time"
)

// Config is how to reach one database on a server.
type Config struct {
	// DSN is the datastore DSN (postgres://…, mysql://…). An empty database
	// name means the driver's DefaultDatabase.
	DSN string
	// CAFile, CertFile and KeyFile configure TLS to the server.
	CAFile, CertFile, KeyFile string
	// MaxOpenConns bounds the snapshot-reader pool (0: the driver's
	// DefaultMaxOpenConns); MaxIdleConns the idle ones (0: as many as open).
	MaxOpenConns, MaxIdleConns int
	// ConnMaxLifetime recycles connections (0: never).
	ConnMaxLifetime time.Duration
	Logger          *slog.Logger
}
