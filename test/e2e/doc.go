// Package e2e runs the strata binary as a user would: built with go build,
// started as a subprocess on a temporary SQLite database and a loopback port,
// and driven by a real etcdctl (v3.7.3, built by build-etcdctl.sh) and by
// clientv3. Where etcd's behaviour is the reference, every command also runs
// against an embedded etcd and the two outputs are compared after
// normalising what must differ (IDs, raft terms and indexes, sizes, versions,
// endpoints, timings, lease IDs, hashes).
//
// It covers the operational contract too: SIGKILL during writes loses no
// acknowledged write and leaves no partial Txn, an acknowledged compaction
// survives SIGKILL, SIGTERM stops gracefully with exit status 0, and the
// command line lists its flags and rejects bad endpoints without a panic.
//
// Run it with
//
//	go test ./test/e2e/
//
// TestMain builds ./cmd/strata from the work tree (or uses the binary named
// by STRATA_E2E_BIN) and runs build-etcdctl.sh, which caches etcdctl under
// .cache/etcdctl (the first build needs the module proxy and takes about a
// minute; later runs work offline). The package takes about 40 s on two
// cores.
package e2e
