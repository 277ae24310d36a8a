package kv

import (
	"bytes"

	"go.etcd.io/etcd/api/v3/mvccpb"
)

// KeyValue is etcd's key-value record; Strata stores and returns it unchanged.
type KeyValue = mvccpb.KeyValue

// Range is the half-open key interval [Start, End). A nil End means no upper
// bound; a single key k is [k, k+"\x00").
type Range struct {
	Start []byte
	End   []byte
}

// SingleKey returns the range holding exactly key.
func SingleKey(key []byte) Range {
	end := make([]byte, len(key)+1)
	copy(end, key)
	return Range{Start: key, End: end}
}

// FromEtcd turns etcd's (key, range_end) pair into a Range: an empty range_end
// is the single key, "\x00" is every key from key on, anything else is
// [key, range_end).
func FromEtcd(key, rangeEnd []byte) Range {
	switch {
	case len(rangeEnd) == 0:
		return SingleKey(key)
	case len(rangeEnd) == 1 && rangeEnd[0] == 0:
		return Range{Start: key}
	default:
		return Range{Start: key, End: rangeEnd}
	}
}

// Contains reports whether key lies in r.
func (r Range) Contains(key []byte) bool {
	return bytes.Compare(key, r.Start) >= 0 && (r.End == nil || bytes.Compare(key, r.End) < 0)
}

// IsSingleKey reports whether r holds exactly one key: [k, k+"\x00").
func (r Range) IsSingleKey() bool {
	n := len(r.Start)
	return len(r.End) == n+1 && r.End[n] == 0 && bytes.Equal(r.End[:n], r.Start)
}

// Empty reports whether no key can lie in r.
func (r Range) Empty() bool {
	return r.End != nil && bytes.Compare(r.Start, r.End) >= 0
}

// Change is one row of the log: a key written or deleted at (Revision, Sub).
// For a delete, KV holds the key and ModRevision only, as etcd's tombstone
// events do. PrevRevision is the mod revision of the key's row before this one
// (0 when the key did not exist).
type Change struct {
	Sub          int64
	Deleted      bool
	KV           *KeyValue
	PrevRevision int64
}

// Event is a Change as the watch poller reads it back, with the previous
// value of the key when it is still in the log.
type Event struct {
	Change
	Prev *KeyValue
}

// Lease is a granted lease as stored.
type Lease struct {
	ID  int64
	TTL int64
}

// Usage is what a store holds for its users: the log rows kept (every
// revision of every key not yet compacted away, tombstones included), the
// bytes of their keys and values, and the leases granted. It is independent
// of how the database lays those out on disk.
type Usage struct {
	Rows   int64
	Bytes  int64
	Leases int64
}
