package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
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

// TestRequestsAboveFlowWindows: with --max-request-bytes raised, requests
// larger than the server's fixed gRPC flow-control windows (2 MiB per
// stream, 8 MiB per connection) still arrive whole, alone and several at
// once on one connection.
func TestRequestsAboveFlowWindows(t *testing.T) {
	p := startStrata(t, freshDSN(t), "--max-request-bytes", strconv.Itoa(12<<20))
	cli := newClient(t, p.Addr, func(c *clientv3.Config) {
		c.MaxCallSendMsgSize, c.MaxCallRecvMsgSize = 16<<20, 16<<20
	})
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	values := map[string]string{"big": strings.Repeat("b", 10<<20)}
	for i := range 4 {
		values[fmt.Sprintf("mid-%d", i)] = strings.Repeat(strconv.Itoa(i), 3<<20)
	}
	var wg sync.WaitGroup
	for k, v := range values {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := cli.Put(ctx, k, v); err != nil {
				t.Errorf("put %s (%d bytes): %v", k, len(v), err)
			}
		}()
	}
	wg.Wait()
	for k, v := range values {
		r, err := cli.Get(ctx, k)
		if err != nil {
			t.Fatalf("get %s: %v", k, err)
		}
		if len(r.Kvs) != 1 || string(r.Kvs[0].Value) != v {
			t.Errorf("get %s: the value read back is not the one put", k)
		}
	}
}
