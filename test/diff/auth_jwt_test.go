package diff

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/strata-db/strata/endpoint"
	"github.com/strata-db/strata/test/testserver"
)

// jwtOption writes a fresh RSA key pair and returns etcd's --auth-token
// for JWTs signed with it.
func jwtOption(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	priv := filepath.Join(dir, "key.pem")
	pub := filepath.Join(dir, "pub.pem")
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for path, block := range map[string]*pem.Block{
		priv: {Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)},
		pub:  {Type: "PUBLIC KEY", Bytes: pubDER},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return fmt.Sprintf("jwt,pub-key=%s,priv-key=%s,sign-method=RS256,ttl=10m", pub, priv)
}

// TestAuthJWTStaleRevision compares JWT tokens, which carry the auth
// revision they were issued at: once the store changes, a key operation
// under an older token fails with "revision of auth store is old", where
// admin checks and a user reading itself do not look at it.
func TestAuthJWTStaleRevision(t *testing.T) {
	for _, b := range Backends() {
		t.Run(b, func(t *testing.T) {
			testserver.RequireBackend(t, b)
			opt := jwtOption(t)
			e := testserver.StartEtcdWith(t, func(c *embed.Config) { c.AuthToken = opt })
			var s *testserver.Server
			if b == "etcd" {
				s = testserver.StartEtcdWith(t, func(c *embed.Config) { c.AuthToken = opt })
			} else {
				s = testserver.StartStrata(t, testserver.Options{Backend: b, Configure: func(c *endpoint.Config) { c.AuthToken = opt }})
			}
			p := NewPair(t, e.Name, e.Endpoint, s.Name, s.Endpoint)
			p.CheckAll(t, []AuthCall{
				{Name: "root", Call: UserAdd("root", "rootpw")},
				{Name: "root role", Call: UserGrantRole("root", "root")},
				{Name: "role", Call: RoleAdd("r")},
				{Name: "grant", Call: RoleGrant("r", "k", "", authpb.READWRITE)},
				{Name: "user", Call: UserAdd("u", "upw")},
				{Name: "user role", Call: UserGrantRole("u", "r")},
				{Name: "enable", Call: AuthEnable()},
			})
			root := p.MustAuthenticate(t, "root", "rootpw")
			u := p.MustAuthenticate(t, "u", "upw")
			p.CheckAll(t, []AuthCall{
				{Name: "put current token", As: u, Call: PutCall(aput("k", false, 0))},
				{Name: "change store", As: root, Call: RoleGrant("r", "k2", "", authpb.READ)},
				{Name: "range stale token", As: u, Call: RangeCall(rng("k", ""))},
				{Name: "put stale token", As: u, Call: PutCall(aput("k", false, 0))},
				{Name: "txn stale token", As: u, Call: TxnCall(&pb.TxnRequest{Success: []*pb.RequestOp{opPut("k")}})},
				{Name: "delete stale token", As: u, Call: DeleteCall(adel("k", "", false))},
				{Name: "watch stale token", As: u, Call: WatchCreateCall(&pb.WatchCreateRequest{Key: []byte("k")})},
				{Name: "user get self stale", As: u, Call: UserGet("u")},
				{Name: "auth status stale", As: u, Call: AuthStatus()},
				{Name: "root stale admin", As: root, Call: UserList()},
				{Name: "root stale range", As: root, Call: RangeCall(rng("k", ""))},
				{Name: "garbage jwt", Call: WithToken("a.b.c", RangeCall(rng("k", "")))},
			})
			u = p.MustAuthenticate(t, "u", "upw")
			p.CheckAll(t, []AuthCall{
				{Name: "range fresh token", As: u, Call: RangeCall(rng("k", ""))},
				{Name: "range k2 fresh token", As: u, Call: RangeCall(rng("k2", ""))},
			})
		})
	}
}
