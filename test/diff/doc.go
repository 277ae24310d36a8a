// Package diff is Strata's differential test harness: it runs the same etcd
// v3 gRPC requests against a real embedded etcd (the oracle) and against a
// Strata server, and fails when the answers differ.
//
// Responses are compared in full (headers, more, count, prev_kv, nested txn
// responses) after Normalize clears the header fields that must differ
// between two clusters: cluster_id, member_id and raft_term. Errors are
// compared by gRPC status code and message.
//
// Use ForEachBackend to get a Pair per enabled Strata backend, then the
// Pair's Range/Put/DeleteRange/Txn/Compact helpers (or Check for any other
// RPC). The package's own tests are hand-written tables per RPC and a seeded
// random operation generator; STRATA_DIFF_SEED and STRATA_DIFF_OPS tune it.
package diff
