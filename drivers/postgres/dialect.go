package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/strata-db/strata/drivers/sqlstore"
	"github.com/strata-db/strata/migrations"
	"github.com/strata-db/strata/pkg/kv"
)

// MaxKeyBytes is the longest key stored. PostgreSQL refuses a btree index
// row above 2704 bytes (a third of a page); 2048 leaves room for the
// revision and the row header, and is the same limit as the MySQL backend.
const MaxKeyBytes = 2048

// Dialect is PostgreSQL's sqlstore.Dialect.
type Dialect struct{}

var _ sqlstore.Dialect = Dialect{}

func (Dialect) Name() string { return "postgres" }

func (Dialect) Types() migrations.Types {
	return migrations.Types{Key: "BYTEA", Blob: "BYTEA"}
}

// Rebind numbers the canonical "?" placeholders as $1, $2, ... The
// canonical statements hold no "?" inside a literal.
func (Dialect) Rebind(q string) string {
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (Dialect) ForUpdate() string { return " FOR UPDATE" }

func (Dialect) UpsertKV(lease bool) string { return sqlstore.UpsertExcluded(lease) }

// NowMillis is the server's clock (clock_timestamp: the time of the
// statement, not the start of the transaction) in milliseconds.
func (Dialect) NowMillis() string {
	return "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"
}

// EventsWithPrev is sqlstore's statement with each previous row read by a
// LATERAL subquery: one index lookup per event whatever the planner
// estimates. The joins of the default statement were planned as hash joins
// over sequential scans of the whole log while the log had no statistics
// yet (a young database, before autovacuum's first ANALYZE): a poll of one
// revision took 200-350 ms under strata-bench's watch load.
func (Dialect) EventsWithPrev() string {
	return `SELECT l.revision, l.sub, l.name, l.value, l.create_revision, l.version, l.lease, l.deleted, l.prev_revision,
			p.value, p.create_revision, p.version, p.lease, p.revision
		FROM strata_log l
		LEFT JOIN LATERAL (SELECT q.prev_revision FROM strata_log q
			WHERE q.name = l.name AND q.revision = l.revision AND q.sub < l.sub AND q.deleted = 0
				AND l.prev_revision = l.revision
			ORDER BY q.sub DESC LIMIT 1) q ON TRUE
		LEFT JOIN LATERAL (SELECT p.value, p.create_revision, p.version, p.lease, p.revision FROM strata_log p
			WHERE p.name = l.name AND p.deleted = 0 AND p.revision < l.revision
				AND p.revision = COALESCE(q.prev_revision, l.prev_revision)
			LIMIT 1) p ON TRUE
		WHERE l.revision > ? AND l.revision <= ? ORDER BY l.revision, l.sub LIMIT ?`
}

func (Dialect) DeleteSuperseded() string {
	return `DELETE FROM strata_log o USING strata_log s
		WHERE s.revision > ? AND s.revision <= ? AND s.prev_revision > 0
		AND o.name = s.name AND o.revision = s.prev_revision AND o.deleted = 0`
}

// Classify maps PostgreSQL's SQLSTATE classes and connection failures to
// kv.ErrConflict and kv.ErrUnavailable.
func (Dialect) Classify(err error) error {
	if err == nil {
		return nil
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "40001", pe.Code == "40P01", pe.Code == "55P03":
			// serialization failure, deadlock, lock not available
			return fmt.Errorf("%w: %v", kv.ErrConflict, err)
		case strings.HasPrefix(pe.Code, "08"), // connection exception
			strings.HasPrefix(pe.Code, "57P"), // admin/crash shutdown, cannot connect now
			strings.HasPrefix(pe.Code, "53"),  // insufficient resources, too many connections
			pe.Code == "25006":                // read-only transaction: a standby after failover
			return fmt.Errorf("%w: %v", kv.ErrUnavailable, err)
		}
		return err
	}
	if isConnError(err) {
		return fmt.Errorf("%w: %v", kv.ErrUnavailable, err)
	}
	return err
}

func isConnError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &ne) || errors.As(err, &ce) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "conn closed")
}

// BeginRead starts a REPEATABLE READ, READ ONLY transaction: one snapshot,
// taken at its first statement.
func (Dialect) BeginRead(ctx context.Context, db *sql.DB) (*sql.Tx, error) {
	return db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
}

// BeginWrite starts a READ COMMITTED transaction. Its first statement locks
// the revision row; every later statement takes a fresh snapshot, so it sees
// the commits of every writer that held the lock before.
func (Dialect) BeginWrite(ctx context.Context, db *sql.DB) (*sql.Tx, error) {
	return db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
}

var _ sqlstore.Pipeliner = Dialect{}

// BeginWriteSQL begins a READ COMMITTED transaction, as BeginWrite.
func (Dialect) BeginWriteSQL() string { return "BEGIN ISOLATION LEVEL READ COMMITTED" }

// Pipeline sends stmts as one pgx batch: PostgreSQL's pipeline mode, one
// round trip for all of them (and one more the first time a statement is
// seen on the connection, to prepare it).
func (Dialect) Pipeline(ctx context.Context, conn *sql.Conn, stmts []sqlstore.PipeStmt) error {
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("postgres: pipeline on a %T connection", dc)
		}
		b := &pgx.Batch{}
		for _, st := range stmts {
			b.Queue(st.Query, st.Args...)
		}
		br := c.Conn().SendBatch(ctx, b)
		err := readBatch(br, stmts)
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// readBatch reads the results of stmts in order, up to the first failure.
func readBatch(br pgx.BatchResults, stmts []sqlstore.PipeStmt) error {
	for _, st := range stmts {
		if st.Scan == nil {
			if _, err := br.Exec(); err != nil {
				return err
			}
			continue
		}
		rows, err := br.Query()
		if err != nil {
			return err
		}
		err = st.Scan(rows)
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
		if err != nil {
			return err
		}
	}
	return nil
}
