package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/authpb"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/pkg/kv"
)

var _ kv.AuthTokens = (*Store)(nil)

// authStatements are the canonical SQL of etcd's auth store.
type authStatements struct {
	meta       string
	setMeta    string
	users      string
	roles      string
	insertUser string
	deleteUser string
	insertRole string
	deleteRole string
	tokenIndex string
	putToken   string
	delTokens  string
	delAll     string
	getToken   string
	touchToken string
	clockNew   string
	sweep      string
}

func newAuthStatements(d Dialect) authStatements {
	r := d.Rebind
	return authStatements{
		meta:       r("SELECT name, value FROM strata_meta WHERE name IN ('auth_enabled', 'auth_revision')"),
		setMeta:    r("UPDATE strata_meta SET value = ? WHERE name = ?"),
		users:      r("SELECT data FROM strata_auth_user ORDER BY name"),
		roles:      r("SELECT data FROM strata_auth_role ORDER BY name"),
		insertUser: r("INSERT INTO strata_auth_user (name, data) VALUES (?, ?)"),
		deleteUser: r("DELETE FROM strata_auth_user WHERE name = ?"),
		insertRole: r("INSERT INTO strata_auth_role (name, data) VALUES (?, ?)"),
		deleteRole: r("DELETE FROM strata_auth_role WHERE name = ?"),
		tokenIndex: r("SELECT value FROM strata_meta WHERE name = 'auth_token_index'"),
		putToken:   r("INSERT INTO strata_auth_token (token, name, expires_at) VALUES (?, ?, 0)"),
		delTokens:  r("DELETE FROM strata_auth_token WHERE name = ?"),
		delAll:     r("DELETE FROM strata_auth_token"),
		getToken:   r("SELECT token, name, expires_at FROM strata_auth_token WHERE token = ?"),
		touchToken: r("UPDATE strata_auth_token SET expires_at = ? WHERE token = ? AND (expires_at = 0 OR expires_at > ?)"),
		clockNew:   r("UPDATE strata_auth_token SET expires_at = ? WHERE expires_at = 0"),
		sweep:      r("DELETE FROM strata_auth_token WHERE expires_at > 0 AND expires_at <= ?"),
	}
}

func (t *txn) AuthMeta(ctx context.Context) (kv.AuthMeta, error) {
	rows, err := t.query(ctx, t.s.aq.meta)
	if err != nil {
		return kv.AuthMeta{}, fmt.Errorf("sqlstore: read auth state: %w", err)
	}
	defer rows.Close()
	var m kv.AuthMeta
	for rows.Next() {
		var name string
		var v int64
		if err := rows.Scan(&name, &v); err != nil {
			return kv.AuthMeta{}, fmt.Errorf("sqlstore: read auth state: %w", err)
		}
		switch name {
		case "auth_enabled":
			m.Enabled = v != 0
		case "auth_revision":
			m.Revision = uint64(v)
		}
	}
	return m, rows.Err()
}

func (t *txn) AuthUsers(ctx context.Context) ([]*authpb.User, error) {
	var out []*authpb.User
	err := t.scanRecords(ctx, t.s.aq.users, func(b []byte) error {
		u := &authpb.User{}
		out = append(out, u)
		return proto.Unmarshal(b, u)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read auth users: %w", err)
	}
	return out, nil
}

func (t *txn) AuthRoles(ctx context.Context) ([]*authpb.Role, error) {
	var out []*authpb.Role
	err := t.scanRecords(ctx, t.s.aq.roles, func(b []byte) error {
		r := &authpb.Role{}
		out = append(out, r)
		return proto.Unmarshal(b, r)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlstore: read auth roles: %w", err)
	}
	return out, nil
}

func (t *txn) scanRecords(ctx context.Context, query string, fn func([]byte) error) error {
	rows, err := t.query(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (t *txn) SetAuthMeta(ctx context.Context, m kv.AuthMeta) error {
	enabled := int64(0)
	if m.Enabled {
		enabled = 1
	}
	if _, err := t.exec(ctx, t.s.aq.setMeta, enabled, "auth_enabled"); err != nil {
		return fmt.Errorf("sqlstore: set auth_enabled: %w", err)
	}
	if _, err := t.exec(ctx, t.s.aq.setMeta, int64(m.Revision), "auth_revision"); err != nil {
		return fmt.Errorf("sqlstore: set auth_revision: %w", err)
	}
	return nil
}

// putRecord replaces the record of key: a delete and an insert, the same
// statements in every dialect (auth and membership records change
// rarely). ins takes the key, m encoded, then extra.
func (t *txn) putRecord(ctx context.Context, del, ins string, key any, m proto.Message, extra ...any) error {
	b, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := t.exec(ctx, del, key); err != nil {
		return err
	}
	_, err = t.exec(ctx, ins, append([]any{key, b}, extra...)...)
	return err
}

func (t *txn) PutAuthUser(ctx context.Context, u *authpb.User) error {
	if err := t.putRecord(ctx, t.s.aq.deleteUser, t.s.aq.insertUser, u.Name, u); err != nil {
		return fmt.Errorf("sqlstore: put auth user: %w", err)
	}
	return nil
}

func (t *txn) DeleteAuthUser(ctx context.Context, name string) error {
	if _, err := t.exec(ctx, t.s.aq.deleteUser, []byte(name)); err != nil {
		return fmt.Errorf("sqlstore: delete auth user: %w", err)
	}
	return t.DeleteAuthTokens(ctx, name)
}

func (t *txn) PutAuthRole(ctx context.Context, r *authpb.Role) error {
	if err := t.putRecord(ctx, t.s.aq.deleteRole, t.s.aq.insertRole, r.Name, r); err != nil {
		return fmt.Errorf("sqlstore: put auth role: %w", err)
	}
	return nil
}

func (t *txn) DeleteAuthRole(ctx context.Context, name string) error {
	if _, err := t.exec(ctx, t.s.aq.deleteRole, []byte(name)); err != nil {
		return fmt.Errorf("sqlstore: delete auth role: %w", err)
	}
	return nil
}

func (t *txn) NextAuthTokenIndex(ctx context.Context) (int64, error) {
	var n int64
	if err := t.queryRow(ctx, t.s.aq.tokenIndex).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: read auth token index: %w", err)
	}
	n++
	if _, err := t.exec(ctx, t.s.aq.setMeta, n, "auth_token_index"); err != nil {
		return 0, fmt.Errorf("sqlstore: set auth token index: %w", err)
	}
	return n, nil
}

func (t *txn) PutAuthToken(ctx context.Context, token, name string) error {
	if _, err := t.exec(ctx, t.s.aq.putToken, []byte(token), []byte(name)); err != nil {
		return fmt.Errorf("sqlstore: put auth token: %w", err)
	}
	return nil
}

func (t *txn) DeleteAuthTokens(ctx context.Context, name string) error {
	var err error
	if name == "" {
		_, err = t.exec(ctx, t.s.aq.delAll)
	} else {
		_, err = t.exec(ctx, t.s.aq.delTokens, []byte(name))
	}
	if err != nil {
		return fmt.Errorf("sqlstore: delete auth tokens: %w", err)
	}
	return nil
}

// LookupAuthToken reads one token and the database's time.
func (s *Store) LookupAuthToken(ctx context.Context, token string) (tk kv.AuthToken, found bool, now int64, err error) {
	err = s.leaseRead(ctx, func(tx *sql.Tx) error {
		if now, err = s.dbNow(ctx, tx); err != nil {
			return err
		}
		var tok, name []byte
		err := tx.QueryRowContext(ctx, s.aq.getToken, []byte(token)).Scan(&tok, &name, &tk.ExpiresAt)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("sqlstore: read auth token: %w", err)
		}
		tk.Token, tk.Name, found = string(tok), string(name), true
		return nil
	})
	return tk, found, now, err
}

// TouchAuthToken extends a token that has not expired to now + ttl.
func (s *Store) TouchAuthToken(ctx context.Context, token string, ttlMillis int64) (ok bool, err error) {
	err = s.leaseWrite(ctx, func(tx *sql.Tx) error {
		now, err := s.dbNow(ctx, tx)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.aq.touchToken, now+ttlMillis, []byte(token), now)
		if err != nil {
			return fmt.Errorf("sqlstore: touch auth token: %w", err)
		}
		n, err := res.RowsAffected()
		ok = n > 0
		return err
	})
	return ok, err
}

// SweepAuthTokens clocks the unclocked tokens and removes the expired ones.
func (s *Store) SweepAuthTokens(ctx context.Context, ttlMillis int64) (removed int64, err error) {
	err = s.leaseWrite(ctx, func(tx *sql.Tx) error {
		now, err := s.dbNow(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.aq.clockNew, now+ttlMillis); err != nil {
			return fmt.Errorf("sqlstore: clock auth tokens: %w", err)
		}
		res, err := tx.ExecContext(ctx, s.aq.sweep, now)
		if err != nil {
			return fmt.Errorf("sqlstore: sweep auth tokens: %w", err)
		}
		removed, err = res.RowsAffected()
		return err
	})
	return removed, err
}
