package watchpoll

import "errors"

// Sentinel errors.
var (
	// ErrClosed is returned by a Stream or Hub used after Close.
	ErrClosed = errors.New("watchpoll: closed")
	// ErrNoBackend is returned by New without a backend.
	ErrNoBackend = errors.New("watchpoll: a backend is required")
)

// The cancel reasons etcd's mvcc package sends, word for word.
const (
	reasonCompacted   = "etcdserver: mvcc: required revision has been compacted"
	reasonEmptyRange  = "mvcc: watcher range is empty"
	reasonDuplicateID = "mvcc: duplicate watch ID provided on the WatchStream"
)
