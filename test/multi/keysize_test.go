package multi

import (
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/strata-db/strata/test/testserver"
)

// maxKey is the longest key the PostgreSQL and MySQL backends store.
const maxKey = 2048

// TestKeySizeLimit: a key of the limit is stored and read back byte for
// byte; one byte more fails with InvalidArgument, in a Put and in a Txn
// branch, and nothing is written.
func TestKeySizeLimit(t *testing.T) {
	for _, b := range sharedBackends {
		t.Run(b, func(t *testing.T) {
			cl := testserver.StartStrata(t, testserver.Options{Backend: b}).Client(t)
			ctx := ctxT(t, 30*time.Second)
			ok := strings.Repeat("k\xff", maxKey/2)
			if _, err := cl.Put(ctx, ok, "v"); err != nil {
				t.Fatalf("Put of a %d-byte key: %v", len(ok), err)
			}
			g, err := cl.Get(ctx, ok)
			if err != nil || len(g.Kvs) != 1 || string(g.Kvs[0].Key) != ok {
				t.Fatalf("Get of a %d-byte key: %v %v", len(ok), err, g)
			}
			long := ok + "x"
			_, err = cl.Put(ctx, long, "v")
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "key is too large") {
				t.Fatalf("Put of a %d-byte key: %v, want InvalidArgument", len(long), err)
			}
			_, err = cl.Txn(ctx).Then(clientv3.OpTxn(nil, []clientv3.Op{clientv3.OpPut(long, "v")}, nil)).Commit()
			if status.Code(err) != codes.InvalidArgument {
				t.Fatalf("Txn putting a %d-byte key: %v, want InvalidArgument", len(long), err)
			}
			if g, err := cl.Get(ctx, "", clientv3.WithFromKey()); err != nil || g.Header.Revision != 2 {
				t.Fatalf("after the refusals: %v, revision %d, want 2", err, g.Header.Revision)
			}
		})
	}
}
