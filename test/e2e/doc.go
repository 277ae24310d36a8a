// Package e2e runs the strata binary as a user would: built with go build,
// started as a subprocess on a temporary SQLite database and a loopback port,
// and driven by a real etcdctl (v3.7.3, built by build-etcdctl.sh) and by
// clientv3. Where etcd's behaviour is the reference, every command also runs
// against an embedded etcd and the two outputs are compared.
//
// It covers the operational contract too: SIGKILL during writes loses no
// acknowledged write, SIGTERM stops gracefully with exit status 0, and the
// command line lists its flags and rejects backends that do not exist yet.
package e2e
