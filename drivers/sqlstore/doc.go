// Package sqlstore is the one SQL implementation of kv.Backend, shared by
// every database: the canonical statements live here, and a small Dialect
// supplies what differs (placeholders, upsert, the revision lock, error
// classification).
package sqlstore
