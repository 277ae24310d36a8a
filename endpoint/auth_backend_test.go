package endpoint

import (
	"context"
	"testing"

	"go.etcd.io/etcd/api/v3/authpb"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/pkg/kv"
	"github.com/strata-db/strata/test/testdb"
)

// TestBackendAuthStore runs the auth store's backend contract on every
// enabled driver: records round-trip in name order, the flags and the
// token counter are kept, a user's deletion takes its tokens, and the
// token clock extends, refuses and sweeps as kv.AuthTokens says.
func TestBackendAuthStore(t *testing.T) {
	for _, b := range testdb.Backends() {
		t.Run(b, func(t *testing.T) {
			ctx := context.Background()
			cfg := Config{Endpoint: testdb.FreshDSN(t, b)}.WithDefaults()
			be, err := openBackend(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer be.Close()
			tokens, ok := be.Backend.(kv.AuthTokens)
			if !ok {
				t.Fatalf("%s backend does not expose kv.AuthTokens", b)
			}
			users := []*authpb.User{
				{Name: []byte("b"), Password: []byte("hash"), Roles: []string{"r1", "root"}, Options: &authpb.UserAddOptions{}},
				{Name: []byte("a"), Options: &authpb.UserAddOptions{NoPassword: true}},
			}
			role := &authpb.Role{Name: []byte("r1"), KeyPermission: []*authpb.Permission{
				{PermType: authpb.READWRITE, Key: []byte("k"), RangeEnd: []byte{0}}}}
			var toks [2]string
			err = be.Write(ctx, func(tx kv.WriteTxn) error {
				if m, err := tx.AuthMeta(ctx); err != nil || m != (kv.AuthMeta{Revision: 1}) {
					t.Errorf("fresh auth meta %+v (%v), want revision 1, disabled", m, err)
				}
				for _, u := range users {
					if err := tx.PutAuthUser(ctx, u); err != nil {
						return err
					}
				}
				if err := tx.PutAuthUser(ctx, users[0]); err != nil { // replace
					return err
				}
				if err := tx.PutAuthRole(ctx, role); err != nil {
					return err
				}
				if err := tx.SetAuthMeta(ctx, kv.AuthMeta{Enabled: true, Revision: 7}); err != nil {
					return err
				}
				for i, name := range []string{"b", "a"} {
					n, err := tx.NextAuthTokenIndex(ctx)
					if err != nil {
						return err
					}
					if n != int64(i+1) {
						t.Errorf("token index %d, want %d", n, i+1)
					}
					toks[i] = name + "." + string(rune('0'+n))
					if err := tx.PutAuthToken(ctx, toks[i], name); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			err = be.Read(ctx, func(tx kv.ReadTxn) error {
				m, err := tx.AuthMeta(ctx)
				if err != nil {
					return err
				}
				if m != (kv.AuthMeta{Enabled: true, Revision: 7}) {
					t.Errorf("auth meta %+v, want enabled at 7", m)
				}
				us, err := tx.AuthUsers(ctx)
				if err != nil {
					return err
				}
				if len(us) != 2 || !proto.Equal(us[0], users[1]) || !proto.Equal(us[1], users[0]) {
					t.Errorf("users %v, want a then b as written", us)
				}
				rs, err := tx.AuthRoles(ctx)
				if err != nil {
					return err
				}
				if len(rs) != 1 || !proto.Equal(rs[0], role) {
					t.Errorf("roles %v, want %v", rs, role)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			tk, found, _, err := tokens.LookupAuthToken(ctx, toks[0])
			if err != nil || !found || tk.Name != "b" || tk.ExpiresAt != 0 {
				t.Fatalf("lookup of a new token: %+v found=%t err=%v, want b, unclocked", tk, found, err)
			}
			if ok, err := tokens.TouchAuthToken(ctx, toks[0], 60_000); err != nil || !ok {
				t.Fatalf("touch: %t %v", ok, err)
			}
			if tk, _, now, _ := tokens.LookupAuthToken(ctx, toks[0]); tk.ExpiresAt <= now {
				t.Errorf("touched token expires at %d, now %d", tk.ExpiresAt, now)
			}
			if ok, err := tokens.TouchAuthToken(ctx, toks[1], -1000); err != nil || !ok {
				t.Fatalf("touch into the past: %t %v", ok, err)
			}
			if ok, _ := tokens.TouchAuthToken(ctx, toks[1], 60_000); ok {
				t.Error("an expired token was extended")
			}
			if n, err := tokens.SweepAuthTokens(ctx, 60_000); err != nil || n != 1 {
				t.Errorf("sweep removed %d (%v), want the expired token", n, err)
			}
			if err := be.Write(ctx, func(tx kv.WriteTxn) error { return tx.DeleteAuthUser(ctx, "b") }); err != nil {
				t.Fatal(err)
			}
			for _, tok := range toks {
				if _, found, _, _ := tokens.LookupAuthToken(ctx, tok); found {
					t.Errorf("token %s outlived its user or its expiry", tok)
				}
			}
		})
	}
}
