package multi

import (
	"slices"
	"testing"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/strata-db/strata/test/testserver"
)

// TestMembersKept checks that a member MemberAdd records is in the
// database: a server started later on it lists the member with the same ID
// and can change it, and on a shared database (PostgreSQL, MySQL) a server
// running beside the one that added it lists it at once.
func TestMembersKept(t *testing.T) {
	for _, b := range testserver.Backends() {
		t.Run(b, func(t *testing.T) {
			testserver.RequireBackend(t, b)
			dsn := testserver.FreshDSN(t, b)
			ctx := ctxT(t, 30*time.Second)
			s1 := testserver.StartStrata(t, testserver.Options{Backend: b, DSN: dsn})
			c1 := s1.Client(t)
			add, err := c1.MemberAddAsLearner(ctx, []string{"http://10.1.0.1:2380"})
			if err != nil {
				t.Fatalf("MemberAddAsLearner: %v", err)
			}
			id := add.Member.ID
			listed := func(c *clientv3.Client, want bool) {
				t.Helper()
				l, err := c.MemberList(ctx)
				if err != nil {
					t.Fatalf("MemberList: %v", err)
				}
				i := slices.IndexFunc(l.Members, func(m *etcdserverpb.Member) bool { return m.ID == id })
				if (i >= 0) != want {
					t.Fatalf("member %x listed = %v, want %v: %v", id, i >= 0, want, l.Members)
				}
				if want && (!l.Members[i].IsLearner || !slices.Equal(l.Members[i].PeerURLs, []string{"http://10.1.0.1:2380"})) {
					t.Fatalf("member %x is %v", id, l.Members[i])
				}
			}
			if b != "sqlite" {
				// A second server on the same database, running.
				listed(testserver.StartStrata(t, testserver.Options{Backend: b, DSN: dsn}).Client(t), true)
			}
			s1.Close()
			c2 := testserver.StartStrata(t, testserver.Options{Backend: b, DSN: dsn}).Client(t)
			listed(c2, true)
			if _, err := c2.MemberRemove(ctx, id); err != nil {
				t.Fatalf("MemberRemove on the new server: %v", err)
			}
			listed(c2, false)
			if _, err := c2.MemberRemove(ctx, id); err == nil || err.Error() != rpctypes.ErrMemberNotFound.Error() {
				t.Fatalf("MemberRemove again: %v, want %v", err, rpctypes.ErrMemberNotFound)
			}
		})
	}
}
