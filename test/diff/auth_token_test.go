package diff

import (
	"context"
	"testing"

	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
)

// TestAuthTokens compares authentication and the life of simple tokens:
// refused passwords, bad tokens on every service, tokens dropped when
// their user is deleted or changes password, tokens ignored once auth is
// disabled.
func TestAuthTokens(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		p.Authenticate(t, "root", "x") // auth not enabled
		p.CheckAll(t, []AuthCall{
			{Name: "root", Call: UserAdd("root", "rootpw")},
			{Name: "root role", Call: UserGrantRole("root", "root")},
			{Name: "user", Call: UserAdd("u", "upw")},
			{Name: "gone", Call: UserAdd("gone", "gpw")},
			{Name: "no-password user", Call: UserAddNoPassword("np")},
			{Name: "role", Call: RoleAdd("r")},
			{Name: "grant", Call: RoleGrant("r", "k", "", authpb.READWRITE)},
			{Name: "user role", Call: UserGrantRole("u", "r")},
			{Name: "gone role", Call: UserGrantRole("gone", "r")},
			{Name: "enable", Call: AuthEnable()},
		})
		p.Authenticate(t, "u", "wrong")
		p.Authenticate(t, "nobody", "x")
		p.Authenticate(t, "np", "")
		p.Authenticate(t, "np", "x")
		p.Authenticate(t, "", "")
		root := p.MustAuthenticate(t, "root", "rootpw")
		u := p.MustAuthenticate(t, "u", "upw")
		gone := p.MustAuthenticate(t, "gone", "gpw")
		bad := func(name string, call Call) AuthCall {
			return AuthCall{Name: name, Call: WithToken("bogus.1", call)}
		}
		p.CheckAll(t, []AuthCall{
			bad("bad token range", RangeCall(rng("k", ""))),
			bad("bad token put", PutCall(aput("k", false, 0))),
			bad("bad token txn", TxnCall(&pb.TxnRequest{Success: []*pb.RequestOp{opRange("k")}})),
			bad("bad token compact", CompactCall(1)),
			bad("bad token status", AuthStatus()),
			bad("bad token user get", UserGet("u")),
			bad("bad token lease grant", LeaseGrantCall(5, 60)),
			bad("bad token keepalive", KeepAliveCall(5)),
			bad("bad token maintenance", StatusShape()),
			bad("bad token member list", MemberListShape()),
			bad("bad token watch", WatchCreateCall(&pb.WatchCreateRequest{Key: []byte("k")})),
			{Name: "malformed token", Call: WithToken("no-dot", RangeCall(rng("k", "")))},
			{Name: "bearer authorization", Call: func(ctx context.Context, s *Side) (proto.Message, error) {
				ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+u.Token(s))
				return s.KV.Range(ctx, rng("k", ""))
			}},
			{Name: "put as user", As: u, Call: PutCall(aput("k", false, 0))},
			{Name: "put as gone", As: gone, Call: PutCall(aput("k", false, 0))},
			{Name: "delete gone", As: root, Call: UserDelete("gone")},
			{Name: "put as deleted user", As: gone, Call: PutCall(aput("k", false, 0))},
			{Name: "watch as deleted user", As: gone, Call: WatchCreateCall(&pb.WatchCreateRequest{Key: []byte("k")})},
			{Name: "grant after token", As: root, Call: RoleGrant("r", "k2", "", authpb.READWRITE)},
			{Name: "token survives role change", As: u, Call: PutCall(aput("k2", false, 0))},
			{Name: "status after changes", As: u, Call: AuthStatus()},
			{Name: "change password", As: root, Call: UserChangePassword("u", "upw2")},
			{Name: "old token after password change", As: u, Call: RangeCall(rng("k", ""))},
		})
		p.Authenticate(t, "u", "upw")
		u = p.MustAuthenticate(t, "u", "upw2")
		p.CheckAll(t, []AuthCall{
			{Name: "new token", As: u, Call: RangeCall(rng("k", ""))},
			{Name: "disable", As: root, Call: AuthDisable()},
			{Name: "token after disable", As: u, Call: PutCall(aput("x", false, 0))},
			{Name: "bad token after disable", Call: WithToken("bogus.1", RangeCall(rng("x", "")))},
			{Name: "status after disable", Call: AuthStatus()},
		})
		p.Authenticate(t, "u", "upw2")
	})
}
