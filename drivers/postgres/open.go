package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/strata-db/strata/drivers/internal/connlock"
	"github.com/strata-db/strata/drivers/internal/serverdb"
	"github.com/strata-db/strata/drivers/sqlstore"
	"github.com/strata-db/strata/pkg/kv"
)

// Defaults of Config.
const (
	DefaultDatabase     = "kubernetes"
	DefaultMaxOpenConns = 16
	// writeConns is the size of the write pool: the writer, a compaction
	// step, the migration lock and the connections holding locks.
	writeConns            = 8
	defaultConnectTimeout = 5 * time.Second
	migrateLockName       = "migrate"
)

// Config is how to reach one PostgreSQL database (postgres:// or
// postgresql://). CAFile, CertFile and KeyFile set sslrootcert, sslcert and
// sslkey; with any of them and no sslmode in the DSN, sslmode is
// verify-full.
type Config = serverdb.Config

// Backend is a Strata store in PostgreSQL, with the capabilities of a
// database shared by several processes.
type Backend struct {
	*sqlstore.Store
	*connlock.Locker
	notify   *notifier
	identity string
}

var (
	_ kv.Backend   = (*Backend)(nil)
	_ kv.Compactor = (*Backend)(nil)
	_ kv.Notifier  = (*Backend)(nil)
	_ kv.Locker    = (*Backend)(nil)
)

// ConnConfig turns a Strata DSN and TLS files into pgx's configuration.
func ConnConfig(cfg Config) (*pgx.ConnConfig, error) {
	u, err := url.Parse(cfg.DSN)
	if err != nil {
		return nil, fmt.Errorf("postgres: DSN: %w", err)
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return nil, fmt.Errorf("postgres: DSN scheme %q is not postgres://", u.Scheme)
	}
	if strings.Trim(u.Path, "/") == "" {
		u.Path = "/" + DefaultDatabase
	}
	q := u.Query()
	for param, file := range map[string]string{"sslrootcert": cfg.CAFile, "sslcert": cfg.CertFile, "sslkey": cfg.KeyFile} {
		if file != "" {
			q.Set(param, file)
			if !q.Has("sslmode") {
				q.Set("sslmode", "verify-full")
			}
		}
	}
	if !q.Has("connect_timeout") {
		q.Set("connect_timeout", fmt.Sprint(int(defaultConnectTimeout/time.Second)))
	}
	u.RawQuery = q.Encode()
	cc, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("postgres: DSN: %w", err)
	}
	if _, set := cc.RuntimeParams["jit"]; !set {
		// JIT compiling pays for long analytic queries, not for Strata's
		// lookups: a poll of one revision's events took 30 ms with it
		// (while the log had no statistics) and 0.2 ms without.
		cc.RuntimeParams["jit"] = "off"
	}
	return cc, nil
}

// Open connects to the database the DSN names, creating it if needed, and
// applies the schema.
func Open(ctx context.Context, cfg Config) (*Backend, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cc, err := ConnConfig(cfg)
	if err != nil {
		return nil, err
	}
	if err := ensureDatabase(ctx, cc, cfg.Logger); err != nil {
		return nil, err
	}
	wdb := stdlib.OpenDB(*cc)
	wdb.SetMaxOpenConns(writeConns)
	wdb.SetMaxIdleConns(writeConns)
	wdb.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	rdb := stdlib.OpenDB(*cc)
	open := cmp(cfg.MaxOpenConns, DefaultMaxOpenConns)
	rdb.SetMaxOpenConns(open)
	rdb.SetMaxIdleConns(cmp(cfg.MaxIdleConns, open))
	rdb.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	locker := connlock.New(wdb, lockDialect{})
	st, err := openStore(ctx, wdb, rdb, cfg.Logger)
	if err != nil {
		wdb.Close()
		rdb.Close()
		return nil, err
	}
	b := &Backend{Store: st, Locker: locker, identity: "postgres:" + cc.Host + "/" + cc.Database}
	b.notify = startNotifier(cc, wdb, cfg.Logger)
	return b, nil
}

func cmp(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// openStore applies the schema while holding an advisory lock, so that
// processes starting together on a fresh database migrate it once.
func openStore(ctx context.Context, wdb, rdb *sql.DB, log *slog.Logger) (*sqlstore.Store, error) {
	conn, err := wdb.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", Dialect{}.Classify(err))
	}
	defer func() {
		_ = conn.Raw(func(any) error { return errBadConn }) // discard: releases the lock
		conn.Close()
	}()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", lockKey(migrateLockName)); err != nil {
		return nil, fmt.Errorf("postgres: migration lock: %w", Dialect{}.Classify(err))
	}
	return sqlstore.Open(ctx, sqlstore.Config{Dialect: Dialect{}, WriteDB: wdb, ReadDB: rdb, Logger: log})
}

// ensureDatabase creates the database cc names if it does not exist.
func ensureDatabase(ctx context.Context, cc *pgx.ConnConfig, log *slog.Logger) error {
	c, err := pgx.ConnectConfig(ctx, cc)
	if err == nil {
		return c.Close(ctx)
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "3D000" { // invalid_catalog_name
		return fmt.Errorf("postgres: connect to %s: %w", cc.Host, Dialect{}.Classify(err))
	}
	admin := cc.Copy()
	admin.Database = "postgres"
	c, err = pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return fmt.Errorf("postgres: connect to create database %q: %w", cc.Database, Dialect{}.Classify(err))
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{cc.Database}.Sanitize())
	if errors.As(err, &pe) && pe.Code == "42P04" { // duplicate_database: another process won
		err = nil
	}
	if err != nil {
		return fmt.Errorf("postgres: create database %q: %w", cc.Database, err)
	}
	log.Info("created database", "database", cc.Database)
	return nil
}

// Close stops the notifier, releases the locks and closes the pools.
func (b *Backend) Close() error {
	b.notify.close()
	return errors.Join(b.Locker.Close(), b.Store.Close())
}

// Identity names the database, for the cluster ID.
func (b *Backend) Identity() string { return b.identity }

// MaxKeyBytes is the longest key this backend stores.
func (b *Backend) MaxKeyBytes() int { return MaxKeyBytes }

// Size reports the database's size on disk, as etcd reports its backend.
func (b *Backend) Size(ctx context.Context) (total, inUse int64, err error) {
	err = b.DB().QueryRowContext(ctx, "SELECT pg_database_size(current_database())").Scan(&total)
	return total, total, err
}

// lockKey maps a lock name to an advisory lock key. Advisory locks are
// scoped to the database, so Strata clusters in other databases of the
// same server do not contend.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("strata/" + name))
	return int64(h.Sum64())
}

// lockDialect takes session advisory locks.
type lockDialect struct{}

func (lockDialect) TryLock(ctx context.Context, conn *sql.Conn, name string) (bool, error) {
	var ok bool
	err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", lockKey(name)).Scan(&ok)
	return ok, err
}

func (lockDialect) Unlock(ctx context.Context, conn *sql.Conn, name string) error {
	_, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", lockKey(name))
	return err
}
