// Package compactor is etcd's automatic compaction (etcd's v3compactor):
// in periodic mode it keeps the history of the last retention period, in
// revision mode the last N revisions. On a datastore shared by several
// Strata processes one of them compacts at a time: the one holding the
// kv.Locker lock LockName.
package compactor
