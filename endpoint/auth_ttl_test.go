package endpoint

import (
	"context"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

// TestSimpleTokenTTL: a simple token lives while it is used and expires
// once unused for --auth-token-ttl, as etcd's.
func TestSimpleTokenTTL(t *testing.T) {
	const ttl = time.Second
	s := startTest(t, Config{AuthTokenTTL: ttl, BcryptCost: 4})
	conn, err := grpc.NewClient(s.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	kv, au := pb.NewKVClient(conn), pb.NewAuthClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, step := range []func() error{
		func() error {
			_, err := au.UserAdd(ctx, &pb.AuthUserAddRequest{Name: "root", Password: "pw"})
			return err
		},
		func() error {
			_, err := au.UserGrantRole(ctx, &pb.AuthUserGrantRoleRequest{User: "root", Role: "root"})
			return err
		},
		func() error { _, err := au.AuthEnable(ctx, &pb.AuthEnableRequest{}); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	ar, err := au.Authenticate(ctx, &pb.AuthenticateRequest{Name: "root", Password: "pw"})
	if err != nil {
		t.Fatal(err)
	}
	tctx := metadata.AppendToOutgoingContext(ctx, rpctypes.TokenFieldNameGRPC, ar.Token)
	get := func() error {
		_, err := kv.Range(tctx, &pb.RangeRequest{Key: []byte("k")})
		return err
	}
	for end := time.Now().Add(3 * ttl); time.Now().Before(end); time.Sleep(ttl / 4) {
		if err := get(); err != nil {
			t.Fatalf("token in use for %v of a %v TTL: %v", 3*ttl, ttl, err)
		}
	}
	time.Sleep(ttl + ttl/2)
	if err := get(); rpctypes.Error(err) != rpctypes.ErrInvalidAuthToken {
		t.Fatalf("token unused for 1.5 TTL: %v, want %v", err, rpctypes.ErrInvalidAuthToken)
	}
}
