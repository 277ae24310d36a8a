package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/strata-db/strata/drivers/sqlstore"
	"github.com/strata-db/strata/migrations"
	"github.com/strata-db/strata/pkg/kv"
)

// DefaultReaders is the size of the snapshot-reader pool.
const DefaultReaders = 8

// Dialect is SQLite's sqlstore.Dialect.
type Dialect struct{}

var (
	_ sqlstore.Dialect = Dialect{}
	_ sqlstore.Clock   = Dialect{}
)

func (Dialect) Name() string { return "sqlite" }

func (Dialect) Types() migrations.Types {
	return migrations.Types{Key: "BLOB", Blob: "BLOB", TableOptions: "WITHOUT ROWID"}
}

func (Dialect) Rebind(q string) string { return q }

func (Dialect) ForUpdate() string { return "" }

func (Dialect) UpsertKV(lease bool) string { return sqlstore.UpsertExcluded(lease) }

// NowMillis is SQLite's clock in milliseconds (julianday keeps them):
// Dialect implements sqlstore.Clock.
func (Dialect) NowMillis() string {
	return "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
}

func (Dialect) DeleteSuperseded() string {
	// By primary key only: an exclusive store's log has no index on names.
	return `DELETE FROM strata_log WHERE (revision, sub) IN (
		SELECT p.revision, p.sub FROM strata_log s JOIN strata_log p ON p.revision = s.prev_revision AND p.name = s.name
		WHERE s.revision > ? AND s.revision <= ? AND s.prev_revision > 0 AND p.deleted = 0)`
}

func (Dialect) Classify(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: %v", kv.ErrConflict, err)
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN:
			return fmt.Errorf("%w: %v", kv.ErrUnavailable, err)
		}
	}
	return err
}

func (Dialect) BeginRead(ctx context.Context, db *sql.DB) (*sql.Tx, error) {
	return db.BeginTx(ctx, nil)
}

// BeginWrite starts BEGIN IMMEDIATE (the writer pool's _txlock): the
// transaction holds SQLite's write lock from its first statement.
func (Dialect) BeginWrite(ctx context.Context, db *sql.DB) (*sql.Tx, error) {
	return db.BeginTx(ctx, nil)
}

// Path returns the file a sqlite:// DSN names, and its extra query.
func Path(dsn string) (string, url.Values, error) {
	rest, ok := strings.CutPrefix(dsn, "sqlite://")
	if !ok {
		return "", nil, fmt.Errorf("sqlite: DSN %q does not start with sqlite://", dsn)
	}
	path, query, _ := strings.Cut(rest, "?")
	if path == "" {
		return "", nil, errors.New("sqlite: DSN names no file")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", nil, fmt.Errorf("sqlite: DSN query: %w", err)
	}
	return path, q, nil
}

// Options are the choices of OpenWith.
type Options struct {
	// Shared lets other processes open the database while this store has
	// it (tests that stand in for a shared PostgreSQL with one file): no
	// lock is taken, and each write transaction reads its keys afresh.
	Shared bool
}

// Open opens (creating if needed) the database a sqlite:// DSN names, for
// this process alone: another process that has it open makes Open fail.
func Open(ctx context.Context, dsn string, log *slog.Logger) (*sqlstore.Store, error) {
	return OpenWith(ctx, dsn, log, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, dsn string, log *slog.Logger, opt Options) (_ *sqlstore.Store, err error) {
	path, extra, err := Path(dsn)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: create directory: %w", err)
	}
	unlock := func() error { return nil }
	exclusive := false
	if !opt.Shared {
		switch u, err := lockFile(path); {
		case err == nil:
			unlock, exclusive = sync.OnceValue(u), true
		case errors.Is(err, errors.ErrUnsupported):
		default:
			return nil, err
		}
	}
	defer func() {
		if err != nil {
			unlock()
		}
	}()
	// The writer never checkpoints: the checkpointer does, off the commit
	// path (see checkpoint.go). Unless the DSN chooses its own synchronous
	// mode, the writer's COMMIT does not sync and commits are synced in
	// groups (see walsync.go): as durable as synchronous=FULL.
	groupSync := !hasPragma(extra, "synchronous")
	wsync := "FULL"
	if groupSync {
		wsync = "NORMAL"
	}
	// temp_store(MEMORY) keeps the statement journal of the multi-row
	// writes in memory: otherwise it spills to a temporary file, whose
	// writes cost as much as the WAL's. A shared file's writer updates
	// strata_kv at random places: 8 MiB of page cache instead of SQLite's
	// 2 MiB cut the page reads from the OS under random Puts from 6.4 to
	// 4.3 per Put. An owner's writer appends to the log only, and keeps
	// SQLite's 2 MiB.
	cacheKiB := 2048
	if !exclusive {
		cacheKiB = 8192
	}
	wdb, err := sql.Open("sqlite", connString(path, extra, "immediate", wsync)+
		fmt.Sprintf("&_pragma=wal_autocheckpoint(0)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-%d)", cacheKiB))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	wdb.SetConnMaxIdleTime(0)
	// The writer creates the file and switches it to WAL before readers open.
	if err := wdb.PingContext(ctx); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// Readers keep FULL: the checkpoints they run sync the WAL and the file.
	// Their page caches are 1 MiB each instead of SQLite's 2 MiB: an owner
	// reads the latest values from memory, so readers read recent log pages
	// (watch events) and the rows of past revisions.
	rdb, err := sql.Open("sqlite", connString(path, extra, "deferred", "FULL")+"&_pragma=cache_size(-1024)")
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	rdb.SetMaxOpenConns(DefaultReaders)
	rdb.SetMaxIdleConns(DefaultReaders)
	rdb.SetConnMaxIdleTime(0)
	rdb.SetConnMaxLifetime(0)
	cp := startCheckpointer(rdb, wdb, log)
	cfg := sqlstore.Config{Dialect: Dialect{}, WriteDB: wdb, ReadDB: rdb, Logger: log, BeforeWrite: cp.beforeWrite,
		Exclusive: exclusive, AfterMigrate: fitSchema(exclusive),
		OnClose: func() error { return errors.Join(cp.close(), unlock()) }}
	if groupSync {
		cfg.Sync = walSync(path)
	}
	st, err := sqlstore.Open(ctx, cfg)
	if err != nil {
		cp.close()
		wdb.Close()
		rdb.Close()
		return nil, err
	}
	if err := syncDir(path); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// fitSchema returns the step after migration that fits the database to
// how the store reads it.
//
// A store that owns its file keeps the log's index by key and the latest
// values in memory (sqlstore.Config.Exclusive) and reads every other value
// from the log: the index
// on the log's names and the table of latest values, each of which a
// random Put would write a page of, are not kept (strata_kv is emptied and
// marked stale). A partial index on lease finds a lease's keys.
//
// A store that shares its file with other processes reads in SQL through
// both: the index is built again if it is missing, and strata_kv is filled
// again from the log if it is stale.
func fitSchema(exclusive bool) func(ctx context.Context, db *sql.DB) error {
	stmts := []string{
		"CREATE INDEX IF NOT EXISTS strata_log_lease ON strata_log (lease) WHERE lease <> 0",
		"DROP INDEX IF EXISTS strata_log_name",
		"DELETE FROM strata_kv",
		"INSERT INTO strata_meta (name, value) VALUES ('kv_stale', 1) ON CONFLICT (name) DO NOTHING",
	}
	if !exclusive {
		stmts = []string{
			"CREATE INDEX IF NOT EXISTS strata_log_name ON strata_log (name, revision)",
			`INSERT INTO strata_kv (name, value, create_revision, mod_revision, version, lease)
			SELECT l.name, l.value, l.create_revision, l.revision, l.version, l.lease FROM strata_log l
			WHERE EXISTS (SELECT 1 FROM strata_meta WHERE name = 'kv_stale') AND l.deleted = 0 AND NOT EXISTS (
				SELECT 1 FROM strata_log n WHERE n.name = l.name
				AND (n.revision > l.revision OR (n.revision = l.revision AND n.sub > l.sub)))`,
			"DELETE FROM strata_meta WHERE name = 'kv_stale'",
		}
	}
	return func(ctx context.Context, db *sql.DB) error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for _, stmt := range stmts {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("sqlite: fit schema: %w", err)
			}
		}
		return tx.Commit()
	}
}

// connString is the modernc DSN of path with the DSN's extra query;
// synchronous is the mode used unless the DSN sets one.
func connString(path string, extra url.Values, txlock, synchronous string) string {
	q := url.Values{}
	for k, vs := range extra {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	q.Add("_pragma", "journal_mode(WAL)")
	if !hasPragma(extra, "synchronous") {
		q.Add("_pragma", "synchronous("+synchronous+")")
	}
	if !hasPragma(extra, "busy_timeout") {
		q.Add("_pragma", "busy_timeout(30000)")
	}
	q.Set("_txlock", txlock)
	return "file:" + path + "?" + q.Encode()
}

func hasPragma(q url.Values, name string) bool {
	for _, v := range q["_pragma"] {
		if strings.HasPrefix(strings.ToLower(v), name) {
			return true
		}
	}
	return false
}
