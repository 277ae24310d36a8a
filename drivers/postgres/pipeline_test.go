package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/strata-db/strata/pkg/kv"
	"github.com/strata-db/strata/test/testdb"
)

// put writes key=value at the next revision in one write transaction, as
// the engine does: prefetch, revisions, append, set the revision. between,
// if set, runs once the revisions are read.
func put(ctx context.Context, b *Backend, between func() error, keys ...string) error {
	return b.Write(ctx, func(tx kv.WriteTxn) error {
		var names [][]byte
		for _, k := range keys {
			names = append(names, []byte(k))
		}
		if err := tx.Prefetch(ctx, names); err != nil {
			return err
		}
		rev, _, err := tx.Revisions(ctx)
		if err != nil {
			return err
		}
		if between != nil {
			if err := between(); err != nil {
				return err
			}
		}
		rev++
		var changes []kv.Change
		for i, k := range names {
			prev, err := tx.Range(ctx, kv.SingleKey(k), 0, 0, false)
			if err != nil {
				return err
			}
			v := &kv.KeyValue{Key: k, Value: []byte("v"), CreateRevision: rev, Version: 1}
			if len(prev) == 1 {
				v.CreateRevision, v.Version = prev[0].CreateRevision, prev[0].Version+1
			}
			changes = append(changes, kv.Change{Sub: int64(i), KV: v})
		}
		if err := tx.Append(ctx, rev, changes); err != nil {
			return err
		}
		return tx.SetRevision(ctx, rev)
	})
}

// state reads the revision and the versions of keys.
func state(t *testing.T, b *Backend, keys ...string) string {
	t.Helper()
	out := ""
	err := b.Read(context.Background(), func(tx kv.ReadTxn) error {
		rev, _, err := tx.Revisions(context.Background())
		if err != nil {
			return err
		}
		out = fmt.Sprintf("rev %d", rev)
		for _, k := range keys {
			kvs, err := tx.Range(context.Background(), kv.SingleKey([]byte(k)), 0, 0, false)
			if err != nil {
				return err
			}
			if len(kvs) == 1 {
				out += fmt.Sprintf(" %s@%d.v%d", k, kvs[0].ModRevision, kvs[0].Version)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// openSessions counts this database's sessions in a transaction, seen from
// a connection of its own (a pool would drop such a session when it
// handed it out).
func openSessions(t *testing.T, dsn string) int {
	t.Helper()
	ctx := context.Background()
	cc, err := ConnConfig(Config{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	c, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND state LIKE 'idle in transaction%'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestPipelinedWriteFailsWhole: a statement that fails in the pipeline of
// a write transaction's last writes (a trigger refuses one key) fails the
// transaction as a whole: nothing of it is visible, the connection is not
// left in the aborted transaction, and the next writes succeed.
func TestPipelinedWriteFailsWhole(t *testing.T) {
	dsn := testdb.FreshDSN(t, "postgres")
	b := open(t, dsn)
	ctx := context.Background()
	if _, err := b.DB().ExecContext(ctx, `CREATE FUNCTION refuse_boom() RETURNS trigger AS $$
		BEGIN IF NEW.name = 'boom'::bytea THEN RAISE EXCEPTION 'boom refused'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.DB().ExecContext(ctx, `CREATE TRIGGER refuse_boom BEFORE INSERT ON strata_log
		FOR EACH ROW EXECUTE FUNCTION refuse_boom()`); err != nil {
		t.Fatal(err)
	}
	if err := put(ctx, b, nil, "a"); err != nil {
		t.Fatal(err)
	}
	before := state(t, b, "a", "b", "boom")
	if before != "rev 2 a@2.v1" {
		t.Fatalf("after the first put: %s", before)
	}
	err := put(ctx, b, nil, "a", "b", "boom")
	if err == nil || !strings.Contains(err.Error(), "boom refused") {
		t.Fatalf("put with a refused key: %v, want the trigger's error", err)
	}
	if got := state(t, b, "a", "b", "boom"); got != before {
		t.Fatalf("after the failed put: %s, want %s", got, before)
	}
	if n := openSessions(t, dsn); n != 0 {
		t.Fatalf("%d sessions left in a transaction (holding the revision lock)", n)
	}
	for i := range 10 {
		if err := put(ctx, b, nil, "a", "b"); err != nil {
			t.Fatalf("put %d after the failure: %v", i, err)
		}
	}
	if got, want := state(t, b, "a", "b"), "rev 12 a@12.v11 b@12.v10"; got != want {
		t.Fatalf("after 10 more puts: %s, want %s", got, want)
	}
}

// TestPipelinedWriteConnectionLost: the writer's session is killed between
// the pipeline that reads the revisions and the one that commits. The
// write fails as unavailable, nothing of it is visible, and the next write
// runs on a new connection.
func TestPipelinedWriteConnectionLost(t *testing.T) {
	b := open(t, testdb.FreshDSN(t, "postgres"))
	ctx := context.Background()
	if err := put(ctx, b, nil, "a"); err != nil {
		t.Fatal(err)
	}
	kill := func() error {
		// The writer's session waits, in its transaction, for the commit.
		var n int
		err := b.DB().QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND state = 'idle in transaction'`).Scan(&n)
		if err == nil && n != 1 {
			err = fmt.Errorf("%d sessions in a transaction, want the writer's", n)
		}
		return err
	}
	err := put(ctx, b, kill, "a", "b")
	if !errors.Is(err, kv.ErrUnavailable) {
		t.Fatalf("put on a killed session: %v, want %v", err, kv.ErrUnavailable)
	}
	if got, want := state(t, b, "a", "b"), "rev 2 a@2.v1"; got != want {
		t.Fatalf("after the failed put: %s, want %s", got, want)
	}
	if err := put(ctx, b, nil, "a", "b"); err != nil {
		t.Fatalf("put after the lost connection: %v", err)
	}
	if got, want := state(t, b, "a", "b"), "rev 3 a@3.v2 b@3.v1"; got != want {
		t.Fatalf("after the next put: %s, want %s", got, want)
	}
}
