// Package testdb creates the databases Strata's tests run on: a fresh,
// empty database per test on the PostgreSQL or MySQL server an environment
// variable names, dropped when the test ends. It imports nothing of
// Strata's, so the drivers' own tests can use it.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// The environment variables that enable the backends of shared databases.
// Each holds an administrator's DSN; every test gets a database of its own
// on that server, dropped when the test ends.
const (
	EnvPostgres = "STRATA_TEST_POSTGRES" // e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
	EnvMySQL    = "STRATA_TEST_MYSQL"    // e.g. mysql://root@tcp(127.0.0.1:3306)/mysql
)

// adminTimeout bounds creating or dropping a test database.
const adminTimeout = 30 * time.Second

// Backends lists every Strata backend. Run a suite over all of them: a
// backend that is not enabled skips (see RequireBackend), so the test
// output says how to enable it.
func Backends() []string { return []string{"sqlite", "postgres", "mysql"} }

// EnabledBackends lists the backends this environment enables: SQLite
// always, the others when their variable is set.
func EnabledBackends() []string {
	var out []string
	for _, b := range Backends() {
		if Enabled(b) {
			out = append(out, b)
		}
	}
	return out
}

// Enabled reports whether backend's tests run in this environment.
func Enabled(backend string) bool {
	switch backend {
	case "postgres":
		return os.Getenv(EnvPostgres) != ""
	case "mysql":
		return os.Getenv(EnvMySQL) != ""
	default:
		return true
	}
}

// RequireBackend skips t, saying how to enable backend, when it is not
// enabled. When it is enabled and its server is unreachable, the test
// fails later, where it creates its database.
func RequireBackend(t testing.TB, backend string) {
	t.Helper()
	switch {
	case backend == "postgres" && !Enabled(backend):
		t.Skipf("postgres backend disabled: set %s=postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable to run it", EnvPostgres)
	case backend == "mysql" && !Enabled(backend):
		t.Skipf("mysql backend disabled: set %s='mysql://root@tcp(127.0.0.1:3306)/mysql' to run it", EnvMySQL)
	}
}

// FreshDSN returns the DSN of a new, empty database on backend, removed
// when the test ends. It skips t if backend is not enabled.
func FreshDSN(t testing.TB, backend string) string {
	t.Helper()
	RequireBackend(t, backend)
	dsn, err := freshDSN(t, backend)
	if err != nil {
		t.Fatalf("strata-%s: %v", backend, err)
	}
	return dsn
}

func freshDSN(t testing.TB, backend string) (string, error) {
	switch backend {
	case "sqlite":
		return "sqlite://" + t.TempDir() + "/state.db", nil
	case "postgres":
		return freshPostgres(t, os.Getenv(EnvPostgres))
	case "mysql":
		return freshMySQL(t, os.Getenv(EnvMySQL))
	default:
		return "", fmt.Errorf("unknown backend %q", backend)
	}
}

func testDBName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "strata_test_" + hex.EncodeToString(b[:])
}

func freshPostgres(t testing.TB, admin string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	c, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("%s=%s: %w", EnvPostgres, admin, err)
	}
	defer c.Close(context.Background())
	name := testDBName()
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create test database: %w", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err == nil {
			_, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func freshMySQL(t testing.TB, admin string) (string, error) {
	mc, err := mysqldrv.ParseDSN(strings.TrimPrefix(admin, "mysql://"))
	if err != nil {
		return "", fmt.Errorf("%s: %w", EnvMySQL, err)
	}
	mc.DBName = ""
	db, err := sql.Open("mysql", mc.FormatDSN())
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	name := testDBName()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		db.Close()
		return "", fmt.Errorf("%s=%s: create test database: %w", EnvMySQL, admin, err)
	}
	t.Cleanup(func() {
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	mc.DBName = name
	return "mysql://" + mc.FormatDSN(), nil
}
