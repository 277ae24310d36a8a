//go:build !unix

package sqlite

import "errors"

// lockFile is not available here: the store then runs as shared.
func lockFile(string) (func() error, error) {
	return nil, errors.ErrUnsupported
}
