// Package lin checks that Strata is linearizable: several clients run
// concurrent Put, Delete, Txn, Get, Range and lease operations on a small
// keyspace of an empty server, and porcupine checks the recorded history
// against a sequential model of etcd (revisions, versions, leases
// included).
//
// The server is chosen by STRATA_CONFORMANCE_BACKEND: "sqlite" (default),
// "postgres", "mysql" (with STRATA_TEST_POSTGRES / STRATA_TEST_MYSQL) or
// "etcd", a real embedded etcd, the reference. test/conformance/run lin
// BACKEND runs it.
package lin
