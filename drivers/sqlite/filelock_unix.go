//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on the file beside the database at path
// (path + "-lock"), so that one process at a time serves the database: the
// store then trusts what its write transactions knew of the keys
// (sqlstore.Config.Exclusive). The lock goes with the process, however it
// ends. The database file itself is not used: closing any descriptor of it
// would drop the POSIX locks SQLite holds on it in this process.
func lockFile(path string) (unlock func() error, err error) {
	f, err := os.OpenFile(path+"-lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("sqlite: %s is in use by another process (it holds %s-lock)", path, path)
		}
		return nil, fmt.Errorf("sqlite: lock %s-lock: %w", path, err)
	}
	return f.Close, nil
}
