package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/strata-db/strata/pkg/kv"
)

var _ kv.LeaseClock = (*Store)(nil)

// Clock is the optional Dialect capability that reads the database's
// clock. With it, every process on every host measures lease expiry on the
// same clock; without it, each process uses its own clock, and hosts must
// keep their clocks in step.
type Clock interface {
	// NowMillis is an SQL expression for the database's current time in
	// milliseconds since the Unix epoch, as a BIGINT.
	NowMillis() string
}

// leaseStatements are the canonical SQL of the lease clock. The time now is
// read once per transaction (dbNow) and passed as a parameter.
type leaseStatements struct {
	now      string // "" without a Clock dialect
	renew    string
	renewAll string
	expiry   string
	all      string
	due      string
}

const expiryCols = "SELECT id, ttl, expires_at FROM strata_lease"

func newLeaseStatements(d Dialect) leaseStatements {
	r := d.Rebind
	q := leaseStatements{
		renew:    r("UPDATE strata_lease SET expires_at = ? + ttl * 1000 WHERE id = ? AND (expires_at = 0 OR expires_at > ?)"),
		renewAll: r("UPDATE strata_lease SET expires_at = ? + ttl * 1000"),
		expiry:   r(expiryCols + " WHERE id = ?"),
		all:      r(expiryCols + " ORDER BY expires_at, id"),
		due:      r(expiryCols + " WHERE expires_at <= ? ORDER BY expires_at, id LIMIT ?"),
	}
	if c, ok := d.(Clock); ok {
		q.now = "SELECT " + c.NowMillis()
	}
	return q
}

// dbNow reads the database's time in milliseconds, or this process's time
// where the dialect has no Clock.
func (s *Store) dbNow(ctx context.Context, tx *sql.Tx) (int64, error) {
	if s.lq.now == "" {
		return time.Now().UnixMilli(), nil
	}
	var now int64
	if err := tx.QueryRowContext(ctx, s.lq.now).Scan(&now); err != nil {
		return 0, fmt.Errorf("sqlstore: database time: %w", err)
	}
	return now, nil
}

// RenewLeases renews each lease that has not expired, in one transaction.
func (s *Store) RenewLeases(ctx context.Context, ids []int64) (now int64, renewed []kv.LeaseExpiry, err error) {
	err = s.leaseWrite(ctx, func(tx *sql.Tx) error {
		if now, err = s.dbNow(ctx, tx); err != nil {
			return err
		}
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, s.lq.renew, now, id, now)
			if err != nil {
				return fmt.Errorf("sqlstore: renew lease: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				continue
			}
			l, err := s.leaseExpiry(ctx, tx, id)
			if err != nil {
				return err
			}
			if l != nil {
				renewed = append(renewed, *l)
			}
		}
		return nil
	})
	return now, renewed, err
}

// RenewAllLeases renews every lease and returns them all.
func (s *Store) RenewAllLeases(ctx context.Context) (now int64, all []kv.LeaseExpiry, err error) {
	err = s.leaseWrite(ctx, func(tx *sql.Tx) error {
		if now, err = s.dbNow(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.lq.renewAll, now); err != nil {
			return fmt.Errorf("sqlstore: renew all leases: %w", err)
		}
		all, err = leaseRows(tx.QueryContext(ctx, s.lq.all))
		return err
	})
	return now, all, err
}

// LeaseExpiries reads the given leases, or all of them, in expiry order.
func (s *Store) LeaseExpiries(ctx context.Context, ids []int64) (now int64, ls []kv.LeaseExpiry, err error) {
	err = s.leaseRead(ctx, func(tx *sql.Tx) error {
		if now, err = s.dbNow(ctx, tx); err != nil {
			return err
		}
		if ids == nil {
			ls, err = leaseRows(tx.QueryContext(ctx, s.lq.all))
			return err
		}
		for _, id := range ids {
			l, err := s.leaseExpiry(ctx, tx, id)
			if err != nil {
				return err
			}
			if l != nil {
				ls = append(ls, *l)
			}
		}
		return nil
	})
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].ExpiresAt < ls[j].ExpiresAt })
	return now, ls, err
}

// DueLeases reads the expired and unclocked leases through the expiry
// index.
func (s *Store) DueLeases(ctx context.Context, limit int) (now int64, due []kv.LeaseExpiry, err error) {
	err = s.leaseRead(ctx, func(tx *sql.Tx) error {
		if now, err = s.dbNow(ctx, tx); err != nil {
			return err
		}
		due, err = leaseRows(tx.QueryContext(ctx, s.lq.due, now, limit))
		return err
	})
	return now, due, err
}

func (s *Store) leaseExpiry(ctx context.Context, tx *sql.Tx, id int64) (*kv.LeaseExpiry, error) {
	var l kv.LeaseExpiry
	err := tx.QueryRowContext(ctx, s.lq.expiry, id).Scan(&l.ID, &l.TTL, &l.ExpiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: lease expiry: %w", err)
	}
	return &l, nil
}

func leaseRows(rows *sql.Rows, err error) ([]kv.LeaseExpiry, error) {
	if err != nil {
		return nil, fmt.Errorf("sqlstore: lease expiries: %w", err)
	}
	defer rows.Close()
	var out []kv.LeaseExpiry
	for rows.Next() {
		var l kv.LeaseExpiry
		if err := rows.Scan(&l.ID, &l.TTL, &l.ExpiresAt); err != nil {
			return nil, fmt.Errorf("sqlstore: scan lease expiry: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// leaseWrite runs fn in a write transaction and returns once it is
// durable, as a keepalive answered by etcd was.
func (s *Store) leaseWrite(ctx context.Context, fn func(*sql.Tx) error) error {
	wait, err := s.writeTx(ctx, fn)
	if err != nil {
		return err
	}
	return wait()
}

func (s *Store) leaseRead(ctx context.Context, fn func(*sql.Tx) error) error {
	return s.readTx(ctx, fn)
}
