package sqlite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// walSync returns the function that makes every commit written to the WAL
// of the database at path durable: one fdatasync of the WAL file covers all
// the frames written before it, however many commits they hold.
//
// This is what synchronous=FULL does inside each COMMIT, taken out of the
// commit so that one sync serves a group of commits and the writer goes on
// with the next batch meanwhile (sqlstore's syncGate). The writer runs with
// synchronous=NORMAL: its COMMIT writes the WAL frames without syncing, and
// checkpoints still sync the WAL before copying it into the database file
// and sync the database file before the WAL restarts.
//
// The file is opened for each sync, so a WAL that SQLite removed and
// created again is never missed. No WAL file means nothing is pending:
// SQLite removes it only after checkpointing it into a synced database.
func walSync(path string) func() error {
	wal := path + "-wal"
	return func() error {
		f, err := os.Open(wal)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("sqlite: open WAL to sync: %w", err)
		}
		err = fdatasync(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("sqlite: sync WAL: %w", err)
		}
		return nil
	}
}

// syncDir makes the directory entries of path's directory durable (the WAL
// file created beside the database).
func syncDir(path string) error {
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("sqlite: open directory to sync: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sqlite: sync directory: %w", err)
	}
	return nil
}
