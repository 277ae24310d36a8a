package sqlite

import (
	"os"
	"syscall"
)

// fdatasync flushes f's data (and the size, if it grew), not its times, as
// SQLite does on Linux.
func fdatasync(f *os.File) error {
	return syscall.Fdatasync(int(f.Fd()))
}
