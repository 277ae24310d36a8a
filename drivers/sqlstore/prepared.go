package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"sync"
)

// stmtCache holds the statements prepared on one pool, keyed by their text.
// database/sql prepares each once per connection and reuses it, so the hot
// path skips SQL parsing. Statements are prepared at open, never lazily: a
// lazy prepare on a pool whose connections are all held by transactions
// (the single SQLite writer) would wait for itself.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt // guarded by mu
}

func newStmtCache() *stmtCache {
	return &stmtCache{m: map[string]*sql.Stmt{}}
}

// prepare prepares every non-empty string field of each statements struct,
// and every string of each []string.
func (c *stmtCache) prepare(ctx context.Context, db *sql.DB, sets ...any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var qs []string
	for _, set := range sets {
		if list, ok := set.([]string); ok {
			qs = append(qs, list...)
			continue
		}
		v := reflect.ValueOf(set)
		for i := range v.NumField() {
			if f := v.Field(i); f.Kind() == reflect.String {
				qs = append(qs, f.String())
			}
		}
	}
	for _, q := range qs {
		if _, ok := c.m[q]; ok || q == "" {
			continue
		}
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return fmt.Errorf("sqlstore: prepare %q: %w", q, err)
		}
		c.m[q] = st
	}
	return nil
}

// get returns the prepared statement for query, or nil.
func (c *stmtCache) get(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[query]
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// stmt returns query prepared for this transaction, or nil if it was not
// prepared at open. The transaction's handle of each statement is made once
// and reused (a write transaction runs the same few statements for every
// operation of its batch); the handles close with the transaction.
func (t *txn) stmt(ctx context.Context, query string) *sql.Stmt {
	if st, ok := t.stmts[query]; ok {
		return st
	}
	cache := t.s.rstmts
	if t.write {
		cache = t.s.wstmts
	}
	st := cache.get(query)
	if st == nil {
		return nil
	}
	st = t.tx.StmtContext(ctx, st)
	if t.stmts == nil {
		t.stmts = make(map[string]*sql.Stmt, 8)
	}
	t.stmts[query] = st
	return st
}

// query, exec and queryRow run a statement in the transaction: a pipelined
// transaction's on its connection, after the statements it queued (see
// txn.later).
func (t *txn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if t.pipe != nil {
		if err := t.send(ctx); err != nil {
			return nil, err
		}
		return t.pipe.conn.QueryContext(ctx, query, args...)
	}
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *txn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if t.pipe != nil {
		if err := t.send(ctx); err != nil {
			return nil, err
		}
		return t.pipe.conn.ExecContext(ctx, query, args...)
	}
	if st := t.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

// row is a *sql.Row, or the failure to send a pipelined transaction's
// queued statements before it.
type row interface{ Scan(dest ...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func (t *txn) queryRow(ctx context.Context, query string, args ...any) row {
	if t.pipe != nil {
		if err := t.send(ctx); err != nil {
			return errRow{err}
		}
		return t.pipe.conn.QueryRowContext(ctx, query, args...)
	}
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}
