// Package mvcc is Strata's etcd engine: it gives Range, Put, DeleteRange, Txn,
// Compact and the lease writes etcd's exact semantics over a kv.Backend.
//
// Every write is a logical operation (an etcdserverpb.InternalRaftRequest)
// applied at the next revision by a deterministic function of the database
// state and the operation: no clock, no randomness. One writer goroutine
// gathers the operations that arrive together into one backend transaction
// (group commit) and acknowledges each after the commit is durable.
package mvcc
