package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/strata-db/strata/drivers/internal/usage"
	"github.com/strata-db/strata/pkg/kv"
)

// Maintenance serves etcd's maintenance RPCs for one SQLite file: its
// size, VACUUM as Defragment, and consistent copies as Snapshot.
type Maintenance struct {
	// DB is the writer pool.
	DB *sql.DB
	// Path is the database file.
	Path string
}

// Size returns the total and in-use bytes: the pages allocated, and those
// not on the free list, as etcd reports its backend.
func (m Maintenance) Size(ctx context.Context) (total, inUse int64, err error) {
	var pages, pageSize, free int64
	if err := m.DB.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return 0, 0, err
	}
	if err := m.DB.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return 0, 0, err
	}
	if err := m.DB.QueryRowContext(ctx, "PRAGMA freelist_count").Scan(&free); err != nil {
		return 0, 0, err
	}
	return pages * pageSize, (pages - free) * pageSize, nil
}

// Usage measures what the database holds for its users (the quota is held
// against it), on a connection of its own: the writer pool has one
// connection, and writes go on while the log is read.
func (m Maintenance) Usage(ctx context.Context) (kv.Usage, error) {
	db, err := sql.Open("sqlite", "file:"+m.Path+"?_pragma=busy_timeout(30000)&_pragma=query_only(1)")
	if err != nil {
		return kv.Usage{}, fmt.Errorf("sqlite: open for usage: %w", err)
	}
	defer db.Close()
	return usage.Measure(ctx, db)
}

// Defragment rebuilds the file without its free pages (VACUUM). Writes wait
// while it runs, as they do during etcd's defragmentation.
func (m Maintenance) Defragment(ctx context.Context) error {
	if _, err := m.DB.ExecContext(ctx, "VACUUM"); err != nil {
		return fmt.Errorf("sqlite: vacuum: %w", err)
	}
	if _, err := m.DB.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return fmt.Errorf("sqlite: checkpoint: %w", err)
	}
	return nil
}

// Snapshot writes a consistent copy of the database (VACUUM INTO, from a
// read snapshot on its own connection, so writers go on) to a temporary
// file beside it and returns it; closing it removes the file.
func (m Maintenance) Snapshot(ctx context.Context) (io.ReadCloser, int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(m.Path), ".snapshot-*.db")
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: snapshot: %w", err)
	}
	name := tmp.Name()
	tmp.Close()
	os.Remove(name) // VACUUM INTO wants to create the file itself
	if err := VacuumInto(ctx, m.Path, name); err != nil {
		os.Remove(name)
		return nil, 0, err
	}
	f, err := os.Open(name)
	if err != nil {
		os.Remove(name)
		return nil, 0, fmt.Errorf("sqlite: snapshot: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		os.Remove(name)
		return nil, 0, fmt.Errorf("sqlite: snapshot: %w", err)
	}
	return removeOnClose{f}, st.Size(), nil
}

// VacuumInto writes a consistent, compact copy of the database at src to
// the new file dst.
func VacuumInto(ctx context.Context, src, dst string) error {
	db, err := sql.Open("sqlite", "file:"+src+"?_pragma=busy_timeout(30000)")
	if err != nil {
		return fmt.Errorf("sqlite: open for snapshot: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO '"+strings.ReplaceAll(dst, "'", "''")+"'"); err != nil {
		return fmt.Errorf("sqlite: vacuum into %s: %w", dst, err)
	}
	return nil
}

type removeOnClose struct{ *os.File }

func (r removeOnClose) Close() error {
	err := r.File.Close()
	if rerr := os.Remove(r.File.Name()); err == nil {
		err = rerr
	}
	return err
}
