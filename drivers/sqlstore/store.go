package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/strata-db/strata/migrations"
	"github.com/strata-db/strata/pkg/kv"
)

// Config is one store's connections and dialect.
type Config struct {
	Dialect Dialect
	// WriteDB runs write transactions; ReadDB runs snapshot reads. They may
	// be the same pool.
	WriteDB *sql.DB
	ReadDB  *sql.DB
	Logger  *slog.Logger
	// OnClose, if set, runs first in Close (to join a driver's background
	// work before the pools close).
	OnClose func() error
	// Sync, if set, makes every commit of WriteDB made so far durable: the
	// database's COMMIT does not sync by itself. Commits are then synced in
	// groups (see syncGate), and WriteDB must be a pool of one connection.
	Sync func() error
	// BeforeWrite, if set, runs before each write transaction begins, with
	// no transaction open on WriteDB (SQLite checkpoints there so that its
	// WAL can restart under a steady write load).
	BeforeWrite func(ctx context.Context) error
	// Exclusive declares that no one else writes the database while the
	// store is open (SQLite, whose driver locks the file). The store then
	// keeps the index of the log by key and the latest values in memory
	// (see history) and reads through them, so its database needs neither
	// an index on strata_log's names nor strata_kv; a write transaction
	// takes the revisions from it too (txn.Revisions).
	Exclusive bool
	//
	// AfterMigrate, if set, runs once the schema is migrated and before
	// any statement is prepared (SQLite adds or drops the name index of
	// the log there, as the store reads it).
	AfterMigrate func(ctx context.Context, db *sql.DB) error
}

// Store implements kv.Backend over SQL.
type Store struct {
	d    Dialect
	wdb  *sql.DB
	rdb  *sql.DB
	log  *slog.Logger
	q    statements
	lq   leaseStatements
	aq   authStatements
	mq   memberStatements
	bulk bulkStatements
	// wstmts and rstmts are the prepared statements of each pool.
	wstmts  *stmtCache
	rstmts  *stmtCache
	onClose func() error
	// gate groups the syncs of commits when Config.Sync is set; nil when
	// every COMMIT is durable by itself.
	gate *syncGate
	// beforeWrite is Config.BeforeWrite.
	beforeWrite func(ctx context.Context) error
	exclusive   bool
	// writeMu serializes the write transactions of an exclusive store
	// through their commit or rollback in the history: a rollback takes
	// out the last rows of its keys, which must be its own.
	writeMu sync.Mutex
	// hist is the in-memory index of the log of an exclusive store, or nil.
	hist *history
	// lastRev and lastCompacted are the revisions of a store without a
	// history as its last committed write transaction read or set them
	// (0: none yet), guarded by lastMu (KnownRevisions).
	lastMu                 sync.Mutex
	lastRev, lastCompacted int64
	// pipe is the dialect when it pipelines (see Pipeliner), for a store
	// whose commits are durable by themselves and that keeps no history.
	pipe Pipeliner
}

var (
	_ kv.Backend   = (*Store)(nil)
	_ kv.Compactor = (*Store)(nil)
)

// Open migrates the schema and returns the store.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Dialect == nil || cfg.WriteDB == nil || cfg.ReadDB == nil {
		return nil, errors.New("sqlstore: dialect and databases are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Sync != nil && cfg.WriteDB.Stats().MaxOpenConnections != 1 {
		return nil, errors.New("sqlstore: a Sync needs a write pool of exactly one connection")
	}
	s := &Store{d: cfg.Dialect, wdb: cfg.WriteDB, rdb: cfg.ReadDB, log: cfg.Logger, q: newStatements(cfg.Dialect),
		lq: newLeaseStatements(cfg.Dialect), aq: newAuthStatements(cfg.Dialect), mq: newMemberStatements(cfg.Dialect), bulk: newBulkStatements(cfg.Dialect),
		wstmts: newStmtCache(), rstmts: newStmtCache(), onClose: cfg.OnClose, beforeWrite: cfg.BeforeWrite, exclusive: cfg.Exclusive}
	if cfg.Sync != nil {
		s.gate = newSyncGate(cfg.Sync)
	}
	if p, ok := cfg.Dialect.(Pipeliner); ok && cfg.Sync == nil && cfg.BeforeWrite == nil && !cfg.Exclusive {
		s.pipe = p
	}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	if cfg.AfterMigrate != nil {
		if err := cfg.AfterMigrate(ctx, s.wdb); err != nil {
			return nil, s.d.Classify(err)
		}
	}
	var logReads []string // the history's reads of rows by primary key
	if cfg.Exclusive {
		logReads = s.bulk.getRows
	}
	if err := s.wstmts.prepare(ctx, s.wdb, s.q, s.lq, s.aq, s.bulk.all(), logReads); err != nil {
		return nil, err
	}
	if err := s.rstmts.prepare(ctx, s.rdb, s.q, s.lq, s.aq, logReads); err != nil {
		s.wstmts.close()
		return nil, err
	}
	if cfg.Exclusive {
		start := time.Now()
		var rows int
		err := s.readTx(ctx, func(tx *sql.Tx) (err error) {
			s.hist, rows, err = loadHistory(ctx, &txn{s: s, tx: tx})
			return err
		})
		if err != nil {
			s.wstmts.close()
			s.rstmts.close()
			return nil, err
		}
		s.log.Info("indexed the log in memory", "rows", rows, "keys", s.hist.keys.len(),
			"took", time.Since(start).Round(time.Millisecond))
	}
	return s, nil
}

// Close closes both pools and returns the first error.
func (s *Store) Close() error {
	var err error
	if s.onClose != nil {
		err = s.onClose()
	}
	s.wstmts.close()
	s.rstmts.close()
	if werr := s.wdb.Close(); err == nil {
		err = werr
	}
	if s.rdb != s.wdb {
		if rerr := s.rdb.Close(); err == nil {
			err = rerr
		}
	}
	return err
}

// DB returns the write pool, for driver-specific extras (size, vacuum).
func (s *Store) DB() *sql.DB { return s.wdb }

func (s *Store) migrate(ctx context.Context) error {
	all, err := migrations.All(s.d.Types())
	if err != nil {
		return err
	}
	if _, err := s.wdb.ExecContext(ctx, migrations.Bootstrap); err != nil {
		return fmt.Errorf("sqlstore: bootstrap schema: %w", s.d.Classify(err))
	}
	tx, err := s.d.BeginWrite(ctx, s.wdb)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", s.d.Classify(err))
	}
	defer tx.Rollback()
	var have sql.NullInt64
	if err := tx.QueryRowContext(ctx, "SELECT MAX(version) FROM strata_schema").Scan(&have); err != nil {
		return fmt.Errorf("sqlstore: read schema version: %w", err)
	}
	if int(have.Int64) > len(all) {
		return fmt.Errorf("%w: database has schema version %d, this binary knows up to %d", kv.ErrSchemaTooNew, have.Int64, len(all))
	}
	for _, m := range all[have.Int64:] {
		for _, stmt := range m.Statements {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("sqlstore: migration %d (%s): %w", m.Version, m.Name, err)
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.Rebind("INSERT INTO strata_schema (version) VALUES (?)"), m.Version); err != nil {
			return fmt.Errorf("sqlstore: record migration %d: %w", m.Version, err)
		}
		s.log.Info("applied schema migration", "version", m.Version, "name", m.Name)
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if s.gate != nil {
		// Not numbered: no reader runs yet. Sync what the migration wrote.
		return s.gate.sync()
	}
	return nil
}

// Read runs fn in a snapshot.
func (s *Store) Read(ctx context.Context, fn func(kv.ReadTxn) error) error {
	return s.readTx(ctx, func(tx *sql.Tx) error { return fn(&txn{s: s, tx: tx}) })
}

// Write runs fn in one write transaction holding the revision lock, and
// returns once its commit is durable.
func (s *Store) Write(ctx context.Context, fn func(kv.WriteTxn) error) error {
	wait, err := s.WriteAsync(ctx, fn)
	if err != nil {
		return err
	}
	return wait()
}

// WriteAsync is Write returning once the commit is visible; wait returns
// once it is durable. Without a sync gate the commit is durable already.
func (s *Store) WriteAsync(ctx context.Context, fn func(kv.WriteTxn) error) (wait func() error, err error) {
	var t *txn
	if s.exclusive {
		s.writeMu.Lock()
		defer s.writeMu.Unlock()
	}
	if s.pipe != nil {
		t, err = s.writePipelined(ctx, s.pipe, fn)
		wait = noWait
	} else {
		wait, err = s.writeTx(ctx, func(tx *sql.Tx) error {
			t = &txn{s: s, tx: tx, write: true}
			if err := fn(t); err != nil {
				return err
			}
			return t.flush(ctx)
		})
	}
	if s.hist != nil && t != nil && t.wb != nil {
		if err == nil {
			b := t.wb
			s.hist.commit(max(b.rev, b.histRev), b.compacted, b.revsKnown || b.compactSet)
		} else {
			s.hist.rollback(t.wb.histNames)
		}
	}
	if err == nil && s.hist == nil && t.wb != nil && t.wb.revsKnown {
		s.lastMu.Lock()
		if t.wb.rev >= s.lastRev {
			s.lastRev, s.lastCompacted = t.wb.rev, t.wb.compacted
		}
		s.lastMu.Unlock()
	}
	return wait, err
}

// readTx runs fn in a read transaction on the reader pool. With a sync
// gate it returns only once every commit it could have seen is durable.
func (s *Store) readTx(ctx context.Context, fn func(*sql.Tx) error) error {
	err := s.inTx(s.d.BeginRead(ctx, s.rdb))(fn, (*sql.Tx).Commit)
	if err == nil && s.gate != nil {
		err = s.gate.waitIssued()
	}
	return err
}

// writeTx runs fn in a write transaction on the writer pool; wait returns
// once its commit is durable.
func (s *Store) writeTx(ctx context.Context, fn func(*sql.Tx) error) (wait func() error, err error) {
	if s.beforeWrite != nil {
		if err := s.beforeWrite(ctx); err != nil {
			return nil, s.d.Classify(err)
		}
	}
	commit := (*sql.Tx).Commit
	var seq uint64
	if s.gate != nil {
		commit = func(tx *sql.Tx) error {
			var err error
			seq, err = s.gate.commit(tx.Commit)
			return err
		}
	}
	if err := s.inTx(s.d.BeginWrite(ctx, s.wdb))(fn, commit); err != nil {
		return nil, err
	}
	if s.gate == nil {
		return noWait, nil
	}
	return func() error { return s.gate.wait(seq) }, nil
}

func noWait() error { return nil }

// inTx takes the result of a Begin and returns a runner that calls fn in
// that transaction, commits if fn succeeds, rolls back otherwise, and
// translates driver errors through the dialect.
func (s *Store) inTx(tx *sql.Tx, err error) func(fn func(*sql.Tx) error, commit func(*sql.Tx) error) error {
	return func(fn func(*sql.Tx) error, commit func(*sql.Tx) error) error {
		if err != nil {
			return s.d.Classify(err)
		}
		defer tx.Rollback()
		if err := fn(tx); err != nil {
			return s.d.Classify(err)
		}
		return s.d.Classify(commit(tx))
	}
}
