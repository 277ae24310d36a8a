package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/strata-db/strata/drivers/sqlite"
	"github.com/strata-db/strata/migrations"
	"github.com/strata-db/strata/pkg/kv"
)

// schemaAt creates a database file holding only the first n migrations and
// one key written the way schema 1 stores it.
func schemaAt(t *testing.T, n int) string {
	t.Helper()
	path := t.TempDir() + "/state.db"
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all, err := migrations.All(sqlite.Dialect{}.Types())
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{migrations.Bootstrap}
	for _, m := range all[:n] {
		stmts = append(stmts, m.Statements...)
		stmts = append(stmts, fmt.Sprintf("INSERT INTO strata_schema (version) VALUES (%d)", m.Version))
	}
	stmts = append(stmts,
		`INSERT INTO strata_log (revision, sub, name, value, create_revision, version, lease, deleted, prev_revision) VALUES (2, 0, X'61', X'31', 2, 1, 0, 0, 0)`,
		`INSERT INTO strata_kv (name, value, create_revision, mod_revision, version, lease) VALUES (X'61', X'31', 2, 2, 1, 0)`,
		`UPDATE strata_meta SET value = 2 WHERE name = 'revision'`)
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return path
}

func TestOlderSchemaIsUpgradedInPlace(t *testing.T) {
	if migrations.Latest() < 2 {
		t.Skip("only one schema version exists")
	}
	path := schemaAt(t, 1)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, "sqlite://"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var v int
	if err := st.DB().QueryRow("SELECT MAX(version) FROM strata_schema").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != migrations.Latest() {
		t.Fatalf("schema version %d after open, want %d", v, migrations.Latest())
	}
	err = st.Read(ctx, func(tx kv.ReadTxn) error {
		cur, _, err := tx.Revisions(ctx)
		if err != nil {
			return err
		}
		kvs, err := tx.Range(ctx, kv.SingleKey([]byte("a")), 0, 0, false)
		if err != nil {
			return err
		}
		if cur != 2 || len(kvs) != 1 || string(kvs[0].Value) != "1" {
			t.Errorf("after upgrade: revision %d, keys %v", cur, kvs)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := schemaAt(t, migrations.Latest())
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("INSERT INTO strata_schema (version) VALUES (999)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(context.Background(), "sqlite://"+path, nil)
	if !errors.Is(err, kv.ErrSchemaTooNew) {
		t.Fatalf("open of a schema-999 database: %v, want ErrSchemaTooNew", err)
	}
}
