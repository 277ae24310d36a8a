package multi

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/strata-db/strata/endpoint"
	"github.com/strata-db/strata/test/testserver"
)

// authDelay bounds how long an auth change made through one server may
// take to reach the others: the poll interval (100 ms by default) plus a
// read, with room for a busy machine.
const authDelay = 2 * time.Second

// kvOn dials server i with raw etcdserverpb clients (no retries, no token
// refresh), so a test sees exactly what the server answers to a token.
func (c *cluster) kvOn(t *testing.T, i int) (pb.KVClient, pb.AuthClient) {
	t.Helper()
	conn, err := grpc.NewClient(c.endpoints[i], grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewKVClient(conn), pb.NewAuthClient(conn)
}

func withToken(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, rpctypes.TokenFieldNameGRPC, token)
}

// eventually retries fn until it returns nil or authDelay has passed.
func eventually(t *testing.T, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(authDelay)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %v", what, authDelay, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func wantErr(err, want error) error {
	if !errors.Is(rpctypes.Error(err), rpctypes.Error(want)) {
		return errors.New("got " + errString(err) + ", want " + want.Error())
	}
	return nil
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// TestAuthAcrossInstances: auth is set up and enabled through one server;
// a token issued by one server is accepted by the others; permission
// changes, a user's deletion and disabling auth made through one server
// take effect at the others within authDelay.
func TestAuthAcrossInstances(t *testing.T) {
	forEachShared(t, func(t *testing.T, c *cluster) {
		ctx := ctxT(t, time.Minute)
		a := c.clients[0]
		enableAuth(ctx, t, a,
			func() error { _, err := a.RoleAdd(ctx, "r"); return err },
			func() error {
				_, err := a.RoleGrantPermission(ctx, "r", "k", "", clientv3.PermissionType(clientv3.PermReadWrite))
				return err
			},
			func() error { _, err := a.UserAdd(ctx, "u", "upw"); return err },
			func() error { _, err := a.UserGrantRole(ctx, "u", "r"); return err },
		)
		kv1, _ := c.kvOn(t, 1)
		kv2, _ := c.kvOn(t, 2)
		// Each server reads a token with the auth state it has seen; one
		// that has not seen auth enabled ignores the token, and the write
		// then fails as anonymous (as an etcd member behind the leader's
		// apply does).
		for i, kv := range []pb.KVClient{kv1, kv2} {
			eventually(t, fmt.Sprintf("anonymous put refused at server %d", i+1), func() error {
				_, err := kv.Put(ctx, &pb.PutRequest{Key: []byte("k"), Value: []byte("anon")})
				return wantErr(err, rpctypes.ErrGRPCUserEmpty)
			})
		}

		// A token from server 0, used at servers 1 and 2.
		_, auth0 := c.kvOn(t, 0)
		ar, err := auth0.Authenticate(ctx, &pb.AuthenticateRequest{Name: "u", Password: "upw"})
		if err != nil {
			t.Fatal(err)
		}
		for i, kv := range []pb.KVClient{kv1, kv2} {
			if _, err := kv.Put(withToken(ctx, ar.Token), &pb.PutRequest{Key: []byte("k"), Value: []byte("u")}); err != nil {
				t.Fatalf("server %d: put with server 0's token: %v", i+1, err)
			}
		}

		// A revocation through server 0 reaches server 2.
		root := rootClient(t, c.endpoints[0])
		if _, err := root.RoleRevokePermission(ctx, "r", "k", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := kv2.Put(withToken(ctx, ar.Token), &pb.PutRequest{Key: []byte("k"), Value: []byte("late")}); err == nil {
			t.Errorf("server 2: a write was permitted after the revocation committed")
		}
		eventually(t, "read refused at server 2 after the revocation", func() error {
			_, err := kv2.Range(withToken(ctx, ar.Token), &pb.RangeRequest{Key: []byte("k")})
			return wantErr(err, rpctypes.ErrGRPCPermissionDenied)
		})

		// Deleting the user through server 0 drops its token at server 1.
		if _, err := root.UserDelete(ctx, "u"); err != nil {
			t.Fatal(err)
		}
		eventually(t, "token of a deleted user refused at server 1", func() error {
			_, err := kv1.Range(withToken(ctx, ar.Token), &pb.RangeRequest{Key: []byte("k")})
			return wantErr(err, rpctypes.ErrGRPCInvalidAuthToken)
		})

		// Disabling through server 0 opens server 2.
		if _, err := root.AuthDisable(ctx); err != nil {
			t.Fatal(err)
		}
		eventually(t, "anonymous put accepted at server 2 after disable", func() error {
			_, err := kv2.Put(ctx, &pb.PutRequest{Key: []byte("k"), Value: []byte("open")})
			return err
		})
	})
}

func rootClient(t *testing.T, endpoint string) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, Username: "root", Password: "rootpw",
		DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// enableAuth adds root (password rootpw) through a, runs the steps, and
// enables auth.
func enableAuth(ctx context.Context, t *testing.T, a *clientv3.Client, steps ...func() error) {
	t.Helper()
	steps = append([]func() error{
		func() error { _, err := a.UserAdd(ctx, "root", "rootpw"); return err },
		func() error { _, err := a.UserGrantRole(ctx, "root", "root"); return err },
	}, append(steps, func() error { _, err := a.AuthEnable(ctx); return err })...)
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
}

// tokenRounds is how many tokens TestAuthTokenUsedAtOnce issues.
const tokenRounds = 10

// TestAuthTokenUsedAtOnce: a fresh token of server 0, used at the other
// servers at the same moment, is accepted by all of them. Each first use
// extends the token in the database; two extensions within one
// millisecond write the expiry the row already has, which is no reason to
// refuse the token.
func TestAuthTokenUsedAtOnce(t *testing.T) {
	forEachShared(t, func(t *testing.T, c *cluster) {
		ctx := ctxT(t, time.Minute)
		enableAuth(ctx, t, c.clients[0])
		var kvs []pb.KVClient
		for i := 1; i < instances; i++ {
			kv, _ := c.kvOn(t, i)
			eventually(t, fmt.Sprintf("anonymous read refused at server %d", i), func() error {
				_, err := kv.Range(ctx, &pb.RangeRequest{Key: []byte("k")})
				return wantErr(err, rpctypes.ErrGRPCUserEmpty)
			})
			kvs = append(kvs, kv)
		}
		_, auth0 := c.kvOn(t, 0)
		for range tokenRounds {
			ar, err := auth0.Authenticate(ctx, &pb.AuthenticateRequest{Name: "root", Password: "rootpw"})
			if err != nil {
				t.Fatal(err)
			}
			errs := make([]error, len(kvs))
			var wg sync.WaitGroup
			for i, kv := range kvs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = kv.Range(withToken(ctx, ar.Token), &pb.RangeRequest{Key: []byte("k")})
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("server %d: read with a fresh token of server 0: %v", i+1, err)
				}
			}
		}
	})
}

// TestAuthTokenTTLAcrossInstances: a simple token kept alive by use at one
// server is alive at the others, and expires at all of them once unused
// for the TTL.
func TestAuthTokenTTLAcrossInstances(t *testing.T) {
	const ttl = 2 * time.Second
	for _, b := range sharedBackends {
		t.Run(b, func(t *testing.T) {
			testserver.RequireBackend(t, b)
			dsn := testserver.FreshDSN(t, b)
			c := &cluster{backend: b}
			for range 2 {
				s := testserver.StartStrata(t, testserver.Options{Backend: b, DSN: dsn, Configure: func(cfg *endpoint.Config) {
					cfg.AuthTokenTTL, cfg.BcryptCost = ttl, 4
				}})
				c.endpoints = append(c.endpoints, s.Endpoint)
			}
			ctx := ctxT(t, time.Minute)
			kv0, auth0 := c.kvOn(t, 0)
			kv1, _ := c.kvOn(t, 1)
			for _, step := range []func() error{
				func() error {
					_, err := auth0.UserAdd(ctx, &pb.AuthUserAddRequest{Name: "root", Password: "pw"})
					return err
				},
				func() error {
					_, err := auth0.UserGrantRole(ctx, &pb.AuthUserGrantRoleRequest{User: "root", Role: "root"})
					return err
				},
				func() error { _, err := auth0.AuthEnable(ctx, &pb.AuthEnableRequest{}); return err },
			} {
				if err := step(); err != nil {
					t.Fatal(err)
				}
			}
			ar, err := auth0.Authenticate(ctx, &pb.AuthenticateRequest{Name: "root", Password: "pw"})
			if err != nil {
				t.Fatal(err)
			}
			tctx := withToken(ctx, ar.Token)
			get := func(kv pb.KVClient) error {
				_, err := kv.Range(tctx, &pb.RangeRequest{Key: []byte("k")})
				return err
			}
			if err := get(kv1); err != nil {
				t.Fatalf("server 1, fresh token of server 0: %v", err)
			}
			for end := time.Now().Add(2 * ttl); time.Now().Before(end); time.Sleep(ttl / 8) {
				if err := get(kv0); err != nil {
					t.Fatalf("server 0, token in use: %v", err)
				}
			}
			if err := get(kv1); err != nil {
				t.Fatalf("server 1, token kept alive at server 0 for 2 TTL: %v", err)
			}
			time.Sleep(ttl + ttl/2)
			for i, kv := range []pb.KVClient{kv0, kv1} {
				if err := wantErr(get(kv), rpctypes.ErrGRPCInvalidAuthToken); err != nil {
					t.Errorf("server %d, token unused for 1.5 TTL: %v", i, err)
				}
			}
		})
	}
}
