package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/strata-db/strata/pkg/kv"
)

// Pipeliner is a Dialect that can send several statements in one round
// trip (PostgreSQL's pipeline mode). A store whose dialect is one runs its
// write transactions on a connection of their own, with BEGIN and COMMIT
// as statements, and sends the statements of a transaction in few round
// trips: BEGIN with the revision lock, the revisions and the prefetched
// keys; then the buffered writes with COMMIT. A batch of Puts then costs
// two round trips instead of one per statement, and a round trip to a busy
// database server costs more than the statement itself.
type Pipeliner interface {
	Dialect
	// Pipeline runs stmts in order on conn, in one round trip. It stops at
	// the first failure and returns it; the statements after it do not run.
	Pipeline(ctx context.Context, conn *sql.Conn, stmts []PipeStmt) error
	// BeginWriteSQL is the statement that begins a write transaction.
	BeginWriteSQL() string
}

// PipeStmt is one statement of a pipeline.
type PipeStmt struct {
	Query string
	Args  []any
	// Scan, if set, reads the statement's rows; otherwise the statement is
	// executed for its effect.
	Scan func(Rows) error
}

// Rows is what Scan reads: *sql.Rows, or a driver's own rows.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// rollbackTimeout bounds the rollback of a failed pipelined transaction (a
// database that stopped answering fails it; the connection is then
// dropped).
const rollbackTimeout = 5 * time.Second

// pipeTx is the state of a pipelined write transaction.
type pipeTx struct {
	p    Pipeliner
	conn *sql.Conn
	// pending are the statements not sent yet; began reports whether BEGIN
	// was sent.
	pending []PipeStmt
	began   bool
}

// later queues a statement whose result nothing reads before the commit,
// to be sent with the next statement that needs an answer. Without a
// pipeline it runs at once.
func (t *txn) later(ctx context.Context, query string, args ...any) error {
	if t.pipe == nil {
		_, err := t.exec(ctx, query, args...)
		return err
	}
	t.pipe.pending = append(t.pipe.pending, PipeStmt{Query: query, Args: args})
	return nil
}

// send sends the queued statements and then stmts in one round trip.
func (t *txn) send(ctx context.Context, stmts ...PipeStmt) error {
	p := t.pipe
	all := append(p.pending, stmts...)
	p.pending = nil
	if len(all) == 0 {
		return nil
	}
	p.began = true // BEGIN is always the first statement queued
	return p.p.Pipeline(ctx, p.conn, all)
}

// writePipelined is WriteAsync for a store whose dialect pipelines: fn
// runs in a transaction on a connection of its own, and the commit is sent
// with the last writes. A commit is durable when it returns.
func (s *Store) writePipelined(ctx context.Context, p Pipeliner, fn func(kv.WriteTxn) error) (*txn, error) {
	conn, err := s.wdb.Conn(ctx)
	if err != nil {
		return nil, s.d.Classify(err)
	}
	defer conn.Close()
	t := &txn{s: s, write: true, pipe: &pipeTx{p: p, conn: conn}}
	t.pipe.pending = append(t.pipe.pending, PipeStmt{Query: p.BeginWriteSQL()})
	err = fn(t)
	if err == nil {
		err = t.flush(ctx)
	}
	if err == nil {
		err = t.send(ctx, PipeStmt{Query: "COMMIT"})
		if err == nil {
			return t, nil
		}
	}
	if t.pipe.began {
		// A failed statement left the transaction open and aborted, with
		// the revision row locked: roll back at once, so that another
		// process's writer does not wait for it. (A connection the
		// rollback fails on is still in a transaction; the driver drops
		// such a connection when it is next taken from the pool.)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
		_, _ = conn.ExecContext(rctx, "ROLLBACK")
		cancel()
	}
	return t, s.d.Classify(err)
}
