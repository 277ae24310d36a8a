package sqlstore

import "github.com/strata-db/strata/pkg/kv"

// valueCacheBytes bounds the memory the cache of latest values takes: about
// 240,000 keys of 256-byte values. Past it, values are read from the log.
const valueCacheBytes = 96 << 20

// cachedKVBytes is about what one cached value takes besides its key and
// value: the kv.KeyValue and the slices' rounding.
const cachedKVBytes = 96

// valueCache keeps, for the keys of the history, the value and metadata of
// their newest row, so that a read of the latest values reads no SQL: a
// store without strata_kv would otherwise read each key's row by primary
// key, scattered over the log, where strata_kv kept them side by side.
//
// A value enters when a write transaction flushes its row (history.add) or
// when a read had to read the row from the log (fill), and leaves when its
// key is written again, its row rolls back or is pruned. It is used only
// for that row (keyRows.cached): a read at an older revision, or one that
// does not see the newest row yet, reads the log. The cache lives under the
// history's lock.
type valueCache struct {
	max, bytes int
}

func kvBytes(v *kv.KeyValue) int { return len(v.Key) + len(v.Value) + cachedKVBytes }

// put makes v (its row's value) k's cached latest value, if it fits.
func (c *valueCache) put(k *keyRows, v *kv.KeyValue) {
	c.drop(k)
	if n := kvBytes(v); c.bytes+n <= c.max {
		k.latest = v
		c.bytes += n
	}
}

// set caches the value of row r, just appended to k.
func (c *valueCache) set(k *keyRows, r logRow) {
	if r.c.Deleted {
		c.drop(k)
		return
	}
	c.put(k, normalize(&kv.KeyValue{Key: r.c.KV.Key, Value: r.c.KV.Value, CreateRevision: r.c.KV.CreateRevision,
		ModRevision: r.rev, Version: r.c.KV.Version, Lease: r.c.KV.Lease}))
	k.latestSub = int32(r.c.Sub)
}

// drop forgets k's cached value.
func (c *valueCache) drop(k *keyRows) {
	if k.latest != nil {
		c.bytes -= kvBytes(k.latest)
		k.latest = nil
	}
}

// cached returns a copy of k's value at row, if the cache holds it.
func (k *keyRows) cached(row rowRef) *kv.KeyValue {
	if k.latest == nil || k.latest.ModRevision != row.rev || k.latestSub != row.sub {
		return nil
	}
	return shallowCopy(k.latest)
}

// fill caches the values read from the log for rows, where each is still
// its key's newest row and the cache has room.
func (h *history) fill(rows []rowRef, kvs []*kv.KeyValue) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, v := range kvs {
		k, ok := h.tree.Get(&keyRows{name: string(v.Key)})
		if !ok || k.latest != nil || len(k.rows) == 0 || k.rows[len(k.rows)-1] != rows[i] {
			continue
		}
		h.values.put(k, shallowCopy(v))
		k.latestSub = rows[i].sub
	}
}
