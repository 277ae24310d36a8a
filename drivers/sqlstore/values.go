package sqlstore

import "github.com/strata-db/strata/pkg/kv"

// valueCacheBytes bounds the memory the values of the cache take: about
// 350,000 values of 256 bytes. Past it, values are read from the log.
const valueCacheBytes = 96 << 20

// valueCache keeps, for the keys of the history, the value and metadata of
// their newest row, so that a read of the latest values reads no SQL: a
// store without strata_kv would otherwise read each key's row by primary
// key, scattered over the log, where strata_kv kept them side by side.
//
// A value enters when a write transaction flushes its row (history.add) or
// when a read had to read the row from the log (fill), and leaves when its
// key is written again or deleted, or its row rolls back (pruning keeps
// every newest row that is not a tombstone). It is used only
// for that row (keyRows.cached): a read at an older revision, or one that
// does not see the newest row yet, reads the log. The cache lives under the
// history's lock.
type valueCache struct {
	// bytes counts the values cached, each rounded up to 16 bytes as the
	// allocator does; max bounds it.
	max, bytes int
}

// cachedValue is the value and metadata of a key's newest row (the last of
// keyRows.rows, which gives its revision), when ok: the value is shared with
// the request that wrote it (or the read that read it), never changed.
// Kept inline in keyRows rather than as a kv.KeyValue: with 200k keys that
// saved 10 MiB of the live heap.
type cachedValue struct {
	value                  []byte
	create, version, lease int64
	ok                     bool
}

func valueBytes(v []byte) int { return (len(v) + 15) &^ 15 }

// put caches v as the value of k's newest row, if it fits.
func (c *valueCache) put(k *keyRows, v *kv.KeyValue) {
	c.drop(k)
	if n := valueBytes(v.Value); c.bytes+n <= c.max {
		k.latest = cachedValue{value: v.Value, create: v.CreateRevision, version: v.Version, lease: v.Lease, ok: true}
		c.bytes += n
	}
}

// set caches the value of row r, just appended to k.
func (c *valueCache) set(k *keyRows, r logRow) {
	if r.c.Deleted {
		c.drop(k)
		return
	}
	c.put(k, r.c.KV)
}

// drop forgets k's cached value.
func (c *valueCache) drop(k *keyRows) {
	if k.latest.ok {
		c.bytes -= valueBytes(k.latest.value)
		k.latest = cachedValue{}
	}
}

// cached returns k's value at row, if row is k's newest and the cache
// holds its value.
func (k *keyRows) cached(row rowRef) *kv.KeyValue {
	l := &k.latest
	if !l.ok || k.rows[len(k.rows)-1] != row {
		return nil
	}
	return l.keyValue([]byte(k.name), row.rev)
}

// keyValue is the value as a KeyValue of key at mod revision mod.
func (c *cachedValue) keyValue(key []byte, mod int64) *kv.KeyValue {
	return normalize(&kv.KeyValue{Key: key, Value: c.value, CreateRevision: c.create,
		ModRevision: mod, Version: c.version, Lease: c.lease})
}

// fill caches the values read from the log for rows, where each is still
// its key's newest row and the cache has room.
func (h *history) fill(rows []rowRef, kvs []*kv.KeyValue) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, v := range kvs {
		k, ok := h.keys.get(v.Key)
		if !ok || k.latest.ok || k.rows[len(k.rows)-1] != rows[i] {
			continue
		}
		h.values.put(k, v)
	}
}
