package bench

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for the bulk load
	clientv3 "go.etcd.io/etcd/client/v3"
	_ "modernc.org/sqlite"

	mysqldrv "github.com/go-sql-driver/mysql"

	"github.com/strata-db/strata/test/testserver"
)

// History shape: liveKeys keys under historyPrefix, written over and over
// until the log holds historyRows rows (STRATA_BENCH_HISTORY_ROWS
// overrides it).
const (
	liveKeys      = 10_000
	historyPrefix = "/registry/history/"
	pageSize      = 500
)

func historyRows() int {
	if n, err := strconv.Atoi(os.Getenv("STRATA_BENCH_HISTORY_ROWS")); err == nil && n >= liveKeys {
		return n
	}
	return 1_000_000
}

// BenchmarkHistory: a paginated list (limit 500) of 10k live keys with 1M
// rows of history under them, next to the same list with no history; then
// the compaction of that history while a client writes, reporting the
// longest Put during it.
func BenchmarkHistory(b *testing.B) {
	for _, be := range testserver.Backends() {
		b.Run(be, func(b *testing.B) {
			testserver.RequireBackend(b, be)
			bare := historyServer(b, be, liveKeys)
			full := historyServer(b, be, historyRows())
			b.Run("list-no-history", func(b *testing.B) { benchList(b, bare) })
			b.Run("list-1M-history", func(b *testing.B) { benchList(b, full) })
			var res compactResult
			b.Run("compact", func(b *testing.B) { benchCompact(b, full, &res) })
		})
	}
}

// historyServer loads rows log rows (liveKeys keys, rows/liveKeys versions
// each) straight into a fresh database and starts Strata on it.
func historyServer(b *testing.B, backend string, rows int) *clientv3.Client {
	b.Helper()
	dsn := testserver.FreshDSN(b, backend)
	// Strata creates the schema; the load goes in behind it, then a new
	// server starts on the loaded database.
	testserver.StartStrata(b, testserver.Options{Backend: backend, DSN: dsn}).Close()
	driver, src := sqlSource(b, backend, dsn)
	db, err := sql.Open(driver, src)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	for _, q := range loadStatements(backend, rows) {
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("load: %v\n%s", err, q)
		}
	}
	// As autovacuum / InnoDB's statistics would after such a load.
	for _, q := range map[string][]string{"postgres": {"VACUUM ANALYZE strata_log", "VACUUM ANALYZE strata_kv"},
		"mysql": {"ANALYZE TABLE strata_log, strata_kv"}, "sqlite": {"ANALYZE"}}[backend] {
		if _, err := db.Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	b.Logf("%s: loaded %d log rows in %v", backend, rows, time.Since(start).Round(time.Millisecond))
	return testserver.StartStrata(b, testserver.Options{Backend: backend, DSN: dsn}).Client(b)
}

func sqlSource(b *testing.B, backend, dsn string) (string, string) {
	switch backend {
	case "postgres":
		return "pgx", dsn
	case "mysql":
		mc, err := mysqldrv.ParseDSN(strings.TrimPrefix(dsn, "mysql://"))
		if err != nil {
			b.Fatal(err)
		}
		return "mysql", mc.FormatDSN()
	default:
		return "sqlite", "file:" + strings.TrimPrefix(dsn, "sqlite://") + "?_pragma=busy_timeout(10000)"
	}
}

// loadStatements writes revision r = i+1 for i in 1..rows: key (i-1) mod
// liveKeys, version (i-1)/liveKeys + 1, each row superseding the one
// liveKeys revisions before.
func loadStatements(backend string, rows int) []string {
	last := rows + 1
	var series, key, val, div string
	switch backend {
	case "postgres":
		series = fmt.Sprintf("generate_series(1, %d) AS g(i)", rows)
		key = fmt.Sprintf("convert_to('%s' || lpad(((i-1) %% %d)::text, 5, '0'), 'UTF8')", historyPrefix, liveKeys)
		val = "convert_to(repeat('x', 256), 'UTF8')"
		div = fmt.Sprintf("(i-1) / %d", liveKeys)
	case "mysql":
		series = fmt.Sprintf("(SELECT seq AS i FROM seq_1_to_%d) g", rows)
		key = fmt.Sprintf("CAST(CONCAT('%s', LPAD((i-1) %% %d, 5, '0')) AS BINARY)", historyPrefix, liveKeys)
		val = "CAST(REPEAT('x', 256) AS BINARY)"
		div = fmt.Sprintf("FLOOR((i-1) / %d)", liveKeys)
	default:
		series = fmt.Sprintf("(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM s WHERE i < %d) SELECT i FROM s) g", rows)
		key = fmt.Sprintf("CAST('%s' || printf('%%05d', (i-1) %% %d) AS BLOB)", historyPrefix, liveKeys)
		val = "CAST(printf('%.256c', 'x') AS BLOB)"
		div = fmt.Sprintf("(i-1) / %d", liveKeys)
	}
	return []string{
		fmt.Sprintf(`INSERT INTO strata_log (revision, sub, name, value, create_revision, version, lease, deleted, prev_revision)
			SELECT i+1, 0, %s, %s, 2 + (i-1) %% %d, %s + 1, 0, 0, CASE WHEN i > %d THEN i+1-%d ELSE 0 END FROM %s`,
			key, val, liveKeys, div, liveKeys, liveKeys, series),
		fmt.Sprintf(`INSERT INTO strata_kv (name, value, create_revision, mod_revision, version, lease)
			SELECT name, value, create_revision, revision, version, lease FROM strata_log WHERE revision > %d`, last-liveKeys),
		fmt.Sprintf("UPDATE strata_meta SET value = %d WHERE name = 'revision'", last),
	}
}

// benchList: one op is a full paginated list of the prefix, 500 keys a page.
func benchList(b *testing.B, c *clientv3.Client) {
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		key, n := historyPrefix, 0
		for {
			r, err := c.Get(ctx, key, clientv3.WithRange(clientv3.GetPrefixRangeEnd(historyPrefix)), clientv3.WithLimit(pageSize))
			if err != nil {
				b.Fatal(err)
			}
			n += len(r.Kvs)
			if !r.More {
				break
			}
			key = string(r.Kvs[len(r.Kvs)-1].Key) + "\x00"
		}
		if n != liveKeys {
			b.Fatalf("listed %d keys, want %d", n, liveKeys)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000/float64(liveKeys/pageSize), "ms/page")
}

// compactResult keeps the one compaction's numbers: the benchmark function
// runs more than once, but there is history to remove only the first time.
type compactResult struct {
	took, maxPut time.Duration
}

// benchCompact compacts all history but the live rows (physically, waiting
// for it) while one client writes; it reports the time taken and the
// longest Put.
func benchCompact(b *testing.B, c *clientv3.Client, res *compactResult) {
	defer func() {
		b.ReportMetric(res.took.Seconds(), "compact-s")
		b.ReportMetric(float64(res.maxPut.Milliseconds()), "max-put-ms")
	}()
	if res.took > 0 {
		return
	}
	ctx := context.Background()
	g, err := c.Get(ctx, "x")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	maxPut := make(chan time.Duration, 1)
	go func() {
		var worst time.Duration
		for i := 0; ; i++ {
			select {
			case <-done:
				maxPut <- worst
				return
			default:
			}
			t0 := time.Now()
			if _, err := c.Put(ctx, fmt.Sprintf("/bench/during-compaction/%d", i%100), "v"); err != nil {
				b.Error(err)
			}
			worst = max(worst, time.Since(t0))
		}
	}()
	time.Sleep(200 * time.Millisecond)
	b.ResetTimer()
	start := time.Now()
	if _, err := c.Compact(ctx, g.Header.Revision, clientv3.WithCompactPhysical()); err != nil {
		b.Fatal(err)
	}
	res.took = time.Since(start)
	close(done)
	res.maxPut = <-maxPut
}
