package e2e

import (
	"strings"
	"testing"
)

// TestLimitFlags: --max-txn-ops and --max-request-bytes reject what etcd
// rejects with its --max-txn-ops and --max-request-bytes, with etcd's errors
// (api/v3rpc/rpctypes ErrGRPCTooManyOps and ErrGRPCRequestTooLarge).
func TestLimitFlags(t *testing.T) {
	p := startStrata(t, freshDSN(t), "--max-txn-ops", "2", "--max-request-bytes", "1024")

	ok := "\n\nput a 1\nput b 2\n\n"
	if r := runEtcdctl(t, p.Addr, ok, "txn"); r.Code != 0 || !strings.HasPrefix(r.Stdout, "SUCCESS") {
		t.Errorf("txn with 2 ops under --max-txn-ops 2: %s", r)
	}
	tooMany := "\n\nput a 1\nput b 2\nput c 3\n\n"
	r := runEtcdctl(t, p.Addr, tooMany, "txn")
	if r.Code == 0 || !strings.Contains(r.Stderr, "Error: etcdserver: too many operations in txn request") {
		t.Errorf("txn with 3 ops under --max-txn-ops 2: want etcd's too-many-operations error, got %s", r)
	}

	if r := runEtcdctl(t, p.Addr, "", "put", "small", strings.Repeat("x", 512)); r.Code != 0 {
		t.Errorf("512-byte put under --max-request-bytes 1024: %s", r)
	}
	r = runEtcdctl(t, p.Addr, "", "put", "big", strings.Repeat("x", 2048))
	if r.Code == 0 || !strings.Contains(r.Stderr, "Error: etcdserver: request is too large") {
		t.Errorf("2 KiB put under --max-request-bytes 1024: want etcd's request-too-large error, got %s", r)
	}
	if r := runEtcdctl(t, p.Addr, "", "get", "big"); r.Stdout != "" {
		t.Errorf("the rejected put was stored: %s", r)
	}
}
