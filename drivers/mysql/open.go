package mysql

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

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
	writeConns         = 8
	defaultDialTimeout = 5 * time.Second
	// migrateLockWait is how long a starting process waits for another one
	// migrating the same database.
	migrateLockWait = 60 * time.Second
	migrateLockName = "migrate"
	// maxLockName is MySQL's limit on GET_LOCK names.
	maxLockName = 64
)

// Config is how to reach one MySQL or MariaDB database: the part of the
// DSN after mysql:// is a go-sql-driver DSN.
type Config = serverdb.Config

// Backend is a Strata store in MySQL or MariaDB, with the capabilities of
// a database shared by several processes.
type Backend struct {
	*sqlstore.Store
	*connlock.Locker
	identity string
}

var (
	_ kv.Backend   = (*Backend)(nil)
	_ kv.Compactor = (*Backend)(nil)
	_ kv.Locker    = (*Backend)(nil)
)

// DriverConfig turns a Strata DSN and TLS files into go-sql-driver's
// configuration, before the per-pool session settings.
func DriverConfig(cfg Config) (*mysqldrv.Config, error) {
	rest, ok := strings.CutPrefix(cfg.DSN, "mysql://")
	if !ok {
		return nil, fmt.Errorf("mysql: DSN %q does not start with mysql://", cfg.DSN)
	}
	mc, err := mysqldrv.ParseDSN(rest)
	if err != nil {
		return nil, fmt.Errorf("mysql: DSN: %w", err)
	}
	if mc.DBName == "" {
		mc.DBName = DefaultDatabase
	}
	if mc.Timeout == 0 {
		mc.Timeout = defaultDialTimeout
	}
	if cfg.CAFile != "" || cfg.CertFile != "" || cfg.KeyFile != "" {
		if mc.TLS, err = tlsConfig(cfg, mc.Addr); err != nil {
			return nil, err
		}
	}
	// One round trip per statement: parameters are interpolated by the
	// driver (bytes as _binary literals) instead of prepared server-side.
	mc.InterpolateParams = true
	// An UPDATE reports the rows it matched, as in PostgreSQL and SQLite,
	// not only those whose value changed: the store reads "0 rows" as "not
	// found or expired", and a simple token or lease extended twice in one
	// millisecond is set to the expiry it already has.
	mc.ClientFoundRows = true
	if mc.Params == nil {
		mc.Params = map[string]string{}
	}
	mode := "@@sql_mode"
	if m, ok := mc.Params["sql_mode"]; ok {
		mode = m
	}
	mc.Params["sql_mode"] = "CONCAT(" + mode + ", ',STRICT_ALL_TABLES')"
	mc.Params["time_zone"] = "'+00:00'"
	if cfg.Logger != nil {
		mc.Logger = driverLog{cfg.Logger}
	}
	return mc, nil
}

// driverLog sends go-sql-driver's messages (a connection found dead,
// mostly) to the store's logger at debug level instead of the standard
// logger.
type driverLog struct{ log *slog.Logger }

func (l driverLog) Print(v ...any) { l.log.Debug("mysql driver", "msg", fmt.Sprint(v...)) }

func tlsConfig(cfg Config, addr string) (*tls.Config, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("mysql: CA file: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("mysql: CA file %s holds no certificate", cfg.CAFile)
		}
	}
	if cfg.CertFile != "" || cfg.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("mysql: client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// Open connects to the database the DSN names, creating it if needed, and
// applies the schema.
func Open(ctx context.Context, cfg Config) (*Backend, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	mc, err := DriverConfig(cfg)
	if err != nil {
		return nil, err
	}
	isoVar, err := ensureDatabase(ctx, mc, cfg.Logger)
	if err != nil {
		return nil, err
	}
	wdb, err := pool(mc, isoVar, "'READ-COMMITTED'")
	if err != nil {
		return nil, err
	}
	wdb.SetMaxOpenConns(writeConns)
	wdb.SetMaxIdleConns(writeConns)
	wdb.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	rdb, err := pool(mc, isoVar, "'REPEATABLE-READ'")
	if err != nil {
		wdb.Close()
		return nil, err
	}
	open := orDefault(cfg.MaxOpenConns, DefaultMaxOpenConns)
	rdb.SetMaxOpenConns(open)
	rdb.SetMaxIdleConns(orDefault(cfg.MaxIdleConns, open))
	rdb.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	ld := lockDialect{db: mc.DBName}
	st, err := openStore(ctx, wdb, rdb, ld, cfg.Logger)
	if err != nil {
		wdb.Close()
		rdb.Close()
		return nil, err
	}
	return &Backend{Store: st, Locker: connlock.New(wdb, ld), identity: "mysql:" + mc.Addr + "/" + mc.DBName}, nil
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// pool opens a pool whose sessions run at the given isolation level.
func pool(mc *mysqldrv.Config, isoVar, level string) (*sql.DB, error) {
	c := mc.Clone()
	c.Params[isoVar] = level
	conn, err := mysqldrv.NewConnector(c)
	if err != nil {
		return nil, fmt.Errorf("mysql: %w", err)
	}
	return sql.OpenDB(conn), nil
}

// ensureDatabase creates the database if it does not exist and returns the
// name of the session isolation variable (tx_isolation on MariaDB before
// 11.1 and MySQL 5.7, transaction_isolation on MySQL 8).
func ensureDatabase(ctx context.Context, mc *mysqldrv.Config, log *slog.Logger) (string, error) {
	admin := mc.Clone()
	admin.DBName = ""
	conn, err := mysqldrv.NewConnector(admin)
	if err != nil {
		return "", fmt.Errorf("mysql: %w", err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	res, err := db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+quoteIdent(mc.DBName))
	if err != nil {
		return "", fmt.Errorf("mysql: create database %q on %s: %w", mc.DBName, mc.Addr, Dialect{}.Classify(err))
	}
	if n, _ := res.RowsAffected(); n > 0 {
		log.Info("created database", "database", mc.DBName)
	}
	var level string
	if err := db.QueryRowContext(ctx, "SELECT @@transaction_isolation").Scan(&level); err == nil {
		return "transaction_isolation", nil
	}
	return "tx_isolation", nil
}

func quoteIdent(s string) string {
	return "`" + strings.ReplaceAll(s, "`", "``") + "`"
}

// openStore applies the schema while holding a named lock, so that
// processes starting together on a fresh database migrate it once.
func openStore(ctx context.Context, wdb, rdb *sql.DB, ld lockDialect, log *slog.Logger) (*sqlstore.Store, error) {
	conn, err := wdb.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("mysql: connect: %w", Dialect{}.Classify(err))
	}
	defer func() {
		_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // discard: releases the lock
		conn.Close()
	}()
	var got sql.NullInt64
	if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, ?)", ld.name(migrateLockName), int(migrateLockWait/time.Second)).Scan(&got); err != nil {
		return nil, fmt.Errorf("mysql: migration lock: %w", Dialect{}.Classify(err))
	}
	if got.Int64 != 1 {
		return nil, errors.New("mysql: another process held the migration lock too long")
	}
	return sqlstore.Open(ctx, sqlstore.Config{Dialect: Dialect{}, WriteDB: wdb, ReadDB: rdb, Logger: log})
}

// Identity names the database, for the cluster ID.
func (b *Backend) Identity() string { return b.identity }

// MaxKeyBytes is the longest key this backend stores.
func (b *Backend) MaxKeyBytes() int { return MaxKeyBytes }

// Close releases the locks and closes the pools.
func (b *Backend) Close() error {
	return errors.Join(b.Locker.Close(), b.Store.Close())
}

// Size reports the tables' size, as etcd reports its backend: allocated,
// and allocated minus InnoDB's free space.
func (b *Backend) Size(ctx context.Context) (total, inUse int64, err error) {
	var t, free sql.NullInt64
	err = b.DB().QueryRowContext(ctx, `SELECT SUM(data_length + index_length), SUM(data_free)
		FROM information_schema.tables WHERE table_schema = DATABASE()`).Scan(&t, &free)
	return t.Int64, t.Int64 - free.Int64, err
}

// lockDialect takes GET_LOCK locks. Their names are server-wide, so they
// carry the database name; names longer than MySQL's 64 characters are
// hashed.
type lockDialect struct{ db string }

func (d lockDialect) name(lock string) string {
	n := "strata/" + d.db + "/" + lock
	if len(n) <= maxLockName {
		return n
	}
	h := sha256.Sum256([]byte(n))
	return "strata/" + hex.EncodeToString(h[:])[:maxLockName-len("strata/")]
}

func (d lockDialect) TryLock(ctx context.Context, conn *sql.Conn, lock string) (bool, error) {
	var got sql.NullInt64
	err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", d.name(lock)).Scan(&got)
	return got.Int64 == 1, err
}

func (d lockDialect) Unlock(ctx context.Context, conn *sql.Conn, lock string) error {
	_, err := conn.ExecContext(ctx, "SELECT RELEASE_LOCK(?)", d.name(lock))
	return err
}
