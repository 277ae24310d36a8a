package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"

	"github.com/strata-db/strata/drivers/sqlite"
	"github.com/strata-db/strata/endpoint"
	"github.com/strata-db/strata/pkg/mvcc"
)

// snapshotRestore writes the snapshot's database to the SQLite file of
// --endpoint: first beside it, then checked by opening it (schema version
// and revisions), then linked into place, never over an existing file.
func snapshotRestore(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata snapshot restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dsn := fs.String("endpoint", endpoint.DefaultEndpoint, "the SQLite datastore to create: sqlite://path")
	file, err := parseFile(fs, args)
	if err != nil {
		return err
	}
	path, _, err := sqlite.Path(*dsn)
	if err != nil {
		return fmt.Errorf("restore writes a SQLite database: %w", err)
	}
	for _, p := range []string{path, path + "-wal"} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s exists; restore never overwrites a database (move it away first)", p)
		}
	}
	tmp := path + ".restoring"
	defer removeDB(tmp)
	if err := copySnapshot(file, tmp, stderr); err != nil {
		return err
	}
	info, err := inspect(tmp, false)
	if err != nil {
		return fmt.Errorf("the restored database does not open: %w", err)
	}
	if err := os.Link(tmp, path); err != nil { // fails if path appeared meanwhile
		return err
	}
	fmt.Fprintf(stdout, "restored revision %d (%d keys) to %s; start it with: strata --endpoint sqlite://%s\n",
		info.Revision, info.TotalKey, path, path)
	return nil
}

// snapshotStatus prints what a snapshot holds. It works on a copy, so the
// snapshot file is never modified.
func snapshotStatus(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("strata snapshot status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("write-out", "table", "output format: table or json")
	file, err := parseFile(fs, args)
	if err != nil {
		return err
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("--write-out must be table or json, not %q", *format)
	}
	dir, err := os.MkdirTemp("", "strata-snapshot-status-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db := filepath.Join(dir, "state.db")
	if err := copySnapshot(file, db, stderr); err != nil {
		return err
	}
	info, err := inspect(db, true)
	if err != nil {
		return err
	}
	if st, err := os.Stat(file); err == nil {
		info.TotalSize = st.Size()
	}
	if *format == "json" {
		return json.NewEncoder(stdout).Encode(info)
	}
	fmt.Fprintf(stdout, "%-10s %-10s %-10s %-12s %s\n", "HASH", "REVISION", "TOTAL KEYS", "TOTAL SIZE", "COMPACTED")
	fmt.Fprintf(stdout, "%-10x %-10d %-10d %-12s %d\n", info.Hash, info.Revision, info.TotalKey, humanBytes(info.TotalSize), info.Compacted)
	return nil
}

// snapshotInfo is what status reports, with etcdutl's JSON names. Hash is
// HashKV at the snapshot's revision: it equals what the server answered to
// `etcdctl endpoint hashkv --rev REVISION` while the history was kept.
type snapshotInfo struct {
	Hash      uint32 `json:"hash"`
	Revision  int64  `json:"revision"`
	Compacted int64  `json:"compactRevision"`
	TotalKey  int64  `json:"totalKey"`
	TotalSize int64  `json:"totalSize"`
}

// inspect opens the database at path (applying the schema migrations, so
// an incompatible file is refused) and reads its revision and key count,
// and with hash its HashKV.
func inspect(path string, hash bool) (snapshotInfo, error) {
	var info snapshotInfo
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	st, err := sqlite.Open(ctx, "sqlite://"+path, log)
	if err != nil {
		return info, err
	}
	store, err := mvcc.New(ctx, mvcc.Config{Backend: st, Logger: log})
	if err != nil {
		st.Close()
		return info, err
	}
	err = func() error {
		if info.Revision, info.Compacted, err = store.CurrentRevision(ctx); err != nil {
			return err
		}
		all := &pb.RangeRequest{Key: []byte{0}, RangeEnd: []byte{0}, CountOnly: true}
		resp, err := store.Range(ctx, all)
		if err != nil {
			return err
		}
		info.TotalKey = resp.Count
		if hash {
			info.Hash, _, _, _, err = store.HashKV(ctx, 0)
		}
		return err
	}()
	return info, errors.Join(err, store.Close(), st.Close())
}

// removeDB removes a SQLite file and its WAL and shared-memory files.
func removeDB(path string) {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		os.Remove(p)
	}
}
