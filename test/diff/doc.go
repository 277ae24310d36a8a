// Package diff is Strata's differential test harness: it runs the same etcd
// v3 gRPC requests against a real embedded etcd (the oracle) and against a
// Strata server, and fails when the answers differ.
//
// Responses are compared in full (headers, more, count, prev_kv, nested txn
// responses) after Normalize clears the header fields that must differ
// between two clusters: cluster_id, member_id and raft_term. Errors are
// compared by gRPC status code and message.
//
// Use ForEachBackend to get a fresh Pair per enabled Strata backend (SQLite
// always; see Backends), then the Pair's Range/Put/DeleteRange/Txn/Compact
// helpers, RunOps over a table of Ops, or Check/Run for any other RPC. Both
// servers start at revision 1, so the same writes give the same revisions.
//
// The package's own tests are hand-written tables per RPC and a seeded
// random operation generator (Generator). Environment knobs, for tests only:
//
//	STRATA_DIFF_SEED=n|random  seed of TestRandomOps (default fixed)
//	STRATA_DIFF_OPS=n          number of random ops (default 2000)
//	STRATA_DIFF_SELFCHECK=1    pair etcd with a second etcd: checks the harness
//	STRATA_DIFF_LOG=1          log etcd's answer to every checked request
//	STRATA_TEST_POSTGRES, STRATA_TEST_MYSQL  enable those backends
package diff
