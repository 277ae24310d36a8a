package postgres

import (
	"context"
	"strings"
	"testing"

	"github.com/strata-db/strata/test/testdb"
)

// TestEventsPlanWithoutStatistics: on a log of 50k rows that was never
// analyzed (a young database), a poll of one revision's events with their
// previous values reads through indexes, not by scanning the log, and is
// not JIT compiled.
func TestEventsPlanWithoutStatistics(t *testing.T) {
	b := open(t, testdb.FreshDSN(t, "postgres"))
	ctx := context.Background()
	for _, q := range []string{
		`ALTER TABLE strata_log SET (autovacuum_enabled = false)`,
		`INSERT INTO strata_log (revision, sub, name, value, create_revision, version, lease, deleted, prev_revision)
			SELECT i, 0, convert_to('k' || (i % 5000), 'UTF8'), '\x00', 1 + i % 5000, i / 5000 + 1, 0, 0,
				CASE WHEN i > 5000 THEN i - 5000 ELSE 0 END
			FROM generate_series(2, 50001) AS i`,
	} {
		if _, err := b.DB().ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	var tuples float64
	if err := b.DB().QueryRowContext(ctx, `SELECT reltuples FROM pg_class WHERE relname = 'strata_log'`).Scan(&tuples); err != nil {
		t.Fatal(err)
	}
	if tuples >= 0 {
		t.Fatalf("strata_log has statistics (reltuples %v): the test needs a log never analyzed", tuples)
	}
	var jit string
	if err := b.DB().QueryRowContext(ctx, `SHOW jit`).Scan(&jit); err != nil || jit != "off" {
		t.Fatalf("jit is %q (%v) on the store's connections, want off", jit, err)
	}
	d := Dialect{}
	rows, err := b.DB().QueryContext(ctx, "EXPLAIN ANALYZE "+d.Rebind(d.EventsWithPrev()), 40000, 40001, 2001)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if p := plan.String(); strings.Contains(p, "Seq Scan") || strings.Contains(p, "JIT") {
		t.Fatalf("the events statement scans the log or is JIT compiled:\n%s", p)
	}
}
