package mysql

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/strata-db/strata/pkg/kv"
	"github.com/strata-db/strata/test/testdb"
)

func TestDriverConfig(t *testing.T) {
	mc, err := DriverConfig(Config{DSN: "mysql://u:p@tcp(db.example:3306)/"})
	if err != nil {
		t.Fatal(err)
	}
	if mc.DBName != DefaultDatabase || mc.Addr != "db.example:3306" || mc.User != "u" || !mc.InterpolateParams {
		t.Fatalf("config %+v", mc)
	}
	if !strings.Contains(mc.Params["sql_mode"], "STRICT_ALL_TABLES") {
		t.Fatalf("sql_mode %q lacks STRICT_ALL_TABLES", mc.Params["sql_mode"])
	}
	if _, err := DriverConfig(Config{DSN: "postgres://u@h/db"}); err == nil {
		t.Fatal("a postgres DSN was accepted")
	}
	if _, err := DriverConfig(Config{DSN: "mysql://u@tcp(h:3306)/db", CAFile: "testdata/missing.pem"}); err == nil {
		t.Fatal("a missing CA file was accepted")
	}
}

func TestLockNames(t *testing.T) {
	d := lockDialect{db: strings.Repeat("d", 80)}
	if n := d.name("expirer"); len(n) > maxLockName {
		t.Fatalf("lock name %q longer than %d", n, maxLockName)
	}
	if a, b := (lockDialect{db: "a"}).name("x"), (lockDialect{db: "b"}).name("x"); a == b {
		t.Fatal("lock names of two databases collide")
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want error
	}{
		{&mysqldrv.MySQLError{Number: erLockDeadlock}, kv.ErrConflict},
		{&mysqldrv.MySQLError{Number: erLockWaitTimeout}, kv.ErrConflict},
		{&mysqldrv.MySQLError{Number: erServerShutdown}, kv.ErrUnavailable},
		{&mysqldrv.MySQLError{Number: erOptionPreventsRO}, kv.ErrUnavailable},
		{mysqldrv.ErrInvalidConn, kv.ErrUnavailable},
	}
	for _, c := range cases {
		if got := (Dialect{}).Classify(c.err); !errors.Is(got, c.want) {
			t.Errorf("Classify(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func open(t *testing.T, dsn string) *Backend {
	t.Helper()
	b, err := Open(context.Background(), Config{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLocker: one holder at a time across processes; a killed connection
// closes lost; a release lets the other take it.
func TestLocker(t *testing.T) {
	dsn := testdb.FreshDSN(t, "mysql")
	a, b := open(t, dsn), open(t, dsn)
	ctx := context.Background()
	held, _, release, err := a.TryLock(ctx, "expirer")
	if err != nil || !held {
		t.Fatalf("a: held %v, err %v", held, err)
	}
	if held, _, _, err := b.TryLock(ctx, "expirer"); err != nil || held {
		t.Fatalf("b took a held lock: %v %v", held, err)
	}
	release()
	var lost <-chan struct{}
	waitFor(t, func() bool {
		h, l, _, _ := b.TryLock(ctx, "expirer")
		lost = l
		return h
	})
	var id int64
	name := lockDialect{db: dbName(t, dsn)}.name("expirer")
	if err := a.DB().QueryRowContext(ctx, "SELECT IS_USED_LOCK(?)", name).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DB().ExecContext(ctx, "KILL ?", id); err != nil {
		t.Fatal(err)
	}
	select {
	case <-lost:
	case <-time.After(10 * time.Second):
		t.Fatal("lost not closed after the lock's connection was killed")
	}
	waitFor(t, func() bool { h, _, _, _ := a.TryLock(ctx, "expirer"); return h })
}

func dbName(t *testing.T, dsn string) string {
	mc, err := DriverConfig(Config{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	return mc.DBName
}

// TestStrictMode: a key longer than the column fails instead of being
// truncated.
func TestStrictMode(t *testing.T) {
	b := open(t, testdb.FreshDSN(t, "mysql"))
	ctx := context.Background()
	err := b.Write(ctx, func(tx kv.WriteTxn) error {
		rev, _, err := tx.Revisions(ctx)
		if err != nil {
			return err
		}
		long := []byte(strings.Repeat("k", MaxKeyBytes+1))
		return tx.Append(ctx, rev+1, []kv.Change{{KV: &kv.KeyValue{Key: long, CreateRevision: rev + 1, ModRevision: rev + 1, Version: 1}}})
	})
	if err == nil {
		t.Fatal("an over-long key was stored")
	}
}

// TestUpdateCountsMatchedRows: an UPDATE that finds a row and leaves it as
// it was reports the row, as in PostgreSQL and SQLite. The store reads 0
// rows as "not found or expired": a simple token touched by two servers
// within one millisecond gets the expiry it already has, and must stay
// valid.
func TestUpdateCountsMatchedRows(t *testing.T) {
	b := open(t, testdb.FreshDSN(t, "mysql"))
	ctx := context.Background()
	if err := b.Write(ctx, func(tx kv.WriteTxn) error { return tx.PutAuthToken(ctx, "tok.1", "u") }); err != nil {
		t.Fatal(err)
	}
	res, err := b.DB().ExecContext(ctx, "UPDATE strata_auth_token SET expires_at = expires_at WHERE token = ?", []byte("tok.1"))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("an unchanged row: %d rows, %v; want 1", n, err)
	}
}
