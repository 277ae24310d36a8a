package endpoint

import (
	"context"
	"fmt"
	"strings"

	"github.com/strata-db/strata/drivers/mysql"
	"github.com/strata-db/strata/drivers/postgres"
	"github.com/strata-db/strata/drivers/sqlite"
	"github.com/strata-db/strata/pkg/kv"
	"github.com/strata-db/strata/pkg/server"
)

// backend is an opened datastore.
type backend struct {
	kv.Backend
	size  server.Sizer
	usage server.UsageMeter
	// identity is what names this datastore (for the cluster ID).
	identity string
	// maxKey is the longest key the datastore stores (0: no limit).
	maxKey int
}

// OpenBackend opens (and migrates) the datastore cfg.Endpoint names, with
// cfg's TLS and pool settings, without serving it: for tools and tests that
// use the store directly. The caller closes it.
func OpenBackend(ctx context.Context, cfg Config) (kv.Backend, error) {
	be, err := openBackend(ctx, cfg.WithDefaults())
	if err != nil {
		return nil, err
	}
	return be, nil
}

// openBackend picks the driver for the DSN of cfg.
func openBackend(ctx context.Context, cfg Config) (*backend, error) {
	dsn, log := cfg.Endpoint, cfg.Logger
	scheme, _, ok := strings.Cut(dsn, "://")
	if !ok {
		return nil, fmt.Errorf("endpoint: datastore endpoint %q has no scheme; use sqlite://path, postgres://... or mysql://...", redact(dsn))
	}
	switch scheme {
	case "sqlite":
		st, err := sqlite.Open(ctx, dsn, log)
		if err != nil {
			return nil, err
		}
		path, _, _ := sqlite.Path(dsn)
		m := sqlite.Maintenance{DB: st.DB(), Path: path}
		return &backend{Backend: st, size: m, usage: m, identity: "sqlite:" + path}, nil
	case "postgres", "postgresql":
		return serverBackend(postgres.Open(ctx, serverConfig(cfg)))
	case "mysql":
		return serverBackend(mysql.Open(ctx, serverConfig(cfg)))
	default:
		return nil, fmt.Errorf("endpoint: unknown datastore scheme %q; use sqlite://path, postgres://... or mysql://...", scheme)
	}
}

// asDefrag returns the backend's defragmenter, if it has one.
func asDefrag(v any) server.Defragmenter {
	d, _ := v.(server.Defragmenter)
	return d
}

// asSnapshot returns the backend's snapshotter, if it has one.
func asSnapshot(v any) server.Snapshotter {
	s, _ := v.(server.Snapshotter)
	return s
}

// serverConfig is the connection settings of a database server's driver
// (PostgreSQL and MySQL share one Config type).
func serverConfig(cfg Config) postgres.Config {
	return postgres.Config{DSN: cfg.Endpoint, CAFile: cfg.DatastoreCAFile, CertFile: cfg.DatastoreCertFile,
		KeyFile: cfg.DatastoreKeyFile, MaxOpenConns: cfg.DatastoreMaxOpenConns, MaxIdleConns: cfg.DatastoreMaxIdleConns,
		ConnMaxLifetime: cfg.DatastoreConnMaxLifetime, Logger: cfg.Logger}
}

// serverDriver is what endpoint needs of an opened database-server driver.
type serverDriver interface {
	kv.Backend
	server.Sizer
	server.UsageMeter
	Identity() string
	MaxKeyBytes() int
}

// serverBackend wraps an opened PostgreSQL or MySQL backend.
func serverBackend[B serverDriver](b B, err error) (*backend, error) {
	if err != nil {
		return nil, err
	}
	return &backend{Backend: b, size: b, usage: b, identity: b.Identity(), maxKey: b.MaxKeyBytes()}, nil
}
