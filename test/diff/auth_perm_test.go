package diff

import (
	"testing"

	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
)

// authFixture is a store with auth enabled: root (root role) and u (role
// r: READWRITE foo, READ [a, c), WRITE w, READWRITE the prefix dir/, READ
// from zz on), some keys, and two leases granted by root: 200 holding foo
// (which u may write) and 300 holding x (which u may not).
type authFixture struct {
	root, user *Creds
}

func setupAuth(t *testing.T, p *Pair) *authFixture {
	t.Helper()
	p.Apply(t, Step{Key: "foo", Value: "1"}, Step{Key: "x", Value: "2"}, Step{Key: "a", Value: "3"},
		Step{Key: "b", Value: "4"}, Step{Key: "w", Value: "5"}, Step{Key: "dir/x", Value: "6"}, Step{Key: "zz1", Value: "7"})
	p.CheckAll(t, []AuthCall{
		{Name: "setup root", Call: UserAdd("root", "rootpw")},
		{Name: "setup root role", Call: UserGrantRole("root", "root")},
		{Name: "setup role", Call: RoleAdd("r")},
		{Name: "setup grant foo", Call: RoleGrant("r", "foo", "", authpb.READWRITE)},
		{Name: "setup grant a-c", Call: RoleGrant("r", "a", "c", authpb.READ)},
		{Name: "setup grant w", Call: RoleGrant("r", "w", "", authpb.WRITE)},
		{Name: "setup grant dir/", Call: RoleGrant("r", "dir/", "dir0", authpb.READWRITE)},
		{Name: "setup grant zz", Call: RoleGrant("r", "zz", "\x00", authpb.READ)},
		{Name: "setup user", Call: UserAdd("u", "upw")},
		{Name: "setup user role", Call: UserGrantRole("u", "r")},
		{Name: "setup enable", Call: AuthEnable()},
	})
	f := &authFixture{root: p.MustAuthenticate(t, "root", "rootpw"), user: p.MustAuthenticate(t, "u", "upw")}
	p.CheckAll(t, []AuthCall{
		{Name: "setup lease 200", As: f.root, Call: LeaseGrantCall(200, 60)},
		{Name: "setup lease 300", As: f.root, Call: LeaseGrantCall(300, 60)},
		{Name: "setup foo on 200", As: f.root, Call: PutCall(&pb.PutRequest{Key: []byte("foo"), Value: []byte("l"), Lease: 200})},
		{Name: "setup x on 300", As: f.root, Call: PutCall(&pb.PutRequest{Key: []byte("x"), Value: []byte("l"), Lease: 300})},
	})
	return f
}

func rng(key, end string) *pb.RangeRequest {
	return &pb.RangeRequest{Key: []byte(key), RangeEnd: []byte(end)}
}

func aput(key string, prevKV bool, lease int64) *pb.PutRequest {
	return &pb.PutRequest{Key: []byte(key), Value: []byte("v"), PrevKv: prevKV, Lease: lease}
}

func adel(key, end string, prevKV bool) *pb.DeleteRangeRequest {
	return &pb.DeleteRangeRequest{Key: []byte(key), RangeEnd: []byte(end), PrevKv: prevKV}
}

func opRange(key string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestRange{RequestRange: rng(key, "")}}
}

func opPut(key string) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestPut{RequestPut: aput(key, false, 0)}}
}

func opDel(key string, prevKV bool) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestDeleteRange{RequestDeleteRange: adel(key, "", prevKV)}}
}

func opTxn(t *pb.TxnRequest) *pb.RequestOp {
	return &pb.RequestOp{Request: &pb.RequestOp_RequestTxn{RequestTxn: t}}
}

func cmpVersion(key string) *pb.Compare {
	return &pb.Compare{Key: []byte(key), Target: pb.Compare_VERSION, Result: pb.Compare_GREATER,
		TargetUnion: &pb.Compare_Version{Version: 0}}
}

// TestAuthKVPermissions compares Range, Put, DeleteRange, Txn and Compact
// as a user with some permissions, as root and without a token.
func TestAuthKVPermissions(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		f := setupAuth(t, p)
		u, root := f.user, f.root
		p.CheckAll(t, []AuthCall{
			{Name: "range no token", Call: RangeCall(rng("foo", ""))},
			{Name: "range key", As: u, Call: RangeCall(rng("foo", ""))},
			{Name: "range key denied", As: u, Call: RangeCall(rng("x", ""))},
			{Name: "range granted range", As: u, Call: RangeCall(rng("a", "c"))},
			{Name: "range inside range", As: u, Call: RangeCall(rng("a", "b"))},
			{Name: "range past range", As: u, Call: RangeCall(rng("a", "d"))},
			{Name: "range prefix", As: u, Call: RangeCall(rng("dir/", "dir0"))},
			{Name: "range from-key", As: u, Call: RangeCall(rng("zz", "\x00"))},
			{Name: "range from-key inside", As: u, Call: RangeCall(rng("zz5", "\x00"))},
			{Name: "range all", As: u, Call: RangeCall(rng("\x00", "\x00"))},
			{Name: "range write-only key", As: u, Call: RangeCall(rng("w", ""))},
			{Name: "range inverted", As: u, Call: RangeCall(rng("b", "a"))},
			{Name: "range as root", As: root, Call: RangeCall(rng("\x00", "\x00"))},
			{Name: "put no token", Call: PutCall(aput("foo", false, 0))},
			{Name: "put key", As: u, Call: PutCall(aput("foo", false, 0))},
			{Name: "put denied", As: u, Call: PutCall(aput("x", false, 0))},
			{Name: "put read-only key", As: u, Call: PutCall(aput("a", false, 0))},
			{Name: "put write-only", As: u, Call: PutCall(aput("w", false, 0))},
			{Name: "put write-only prev_kv", As: u, Call: PutCall(aput("w", true, 0))},
			{Name: "put prefix", As: u, Call: PutCall(aput("dir/y", true, 0))},
			{Name: "put prefix end", As: u, Call: PutCall(aput("dir0", false, 0))},
			{Name: "put on lease of denied key", As: u, Call: PutCall(aput("foo", false, 300))},
			{Name: "put on lease of own key", As: u, Call: PutCall(aput("dir/z", false, 200))},
			{Name: "put on missing lease", As: u, Call: PutCall(aput("foo", false, 999))},
			{Name: "delete no token", Call: DeleteCall(adel("foo", "", false))},
			{Name: "delete denied", As: u, Call: DeleteCall(adel("x", "", false))},
			{Name: "delete read-only range", As: u, Call: DeleteCall(adel("a", "c", false))},
			{Name: "delete write-only prev_kv", As: u, Call: DeleteCall(adel("w", "", true))},
			{Name: "delete write-only", As: u, Call: DeleteCall(adel("w", "", false))},
			{Name: "delete prefix prev_kv", As: u, Call: DeleteCall(adel("dir/", "dir0", true))},
			{Name: "txn read-only", As: u, Call: TxnCall(&pb.TxnRequest{Compare: []*pb.Compare{cmpVersion("foo")},
				Success: []*pb.RequestOp{opRange("a")}, Failure: []*pb.RequestOp{opRange("zz1")}})},
			{Name: "txn read-only denied failure", As: u, Call: TxnCall(&pb.TxnRequest{Compare: []*pb.Compare{cmpVersion("foo")},
				Success: []*pb.RequestOp{opRange("a")}, Failure: []*pb.RequestOp{opRange("x")}})},
			{Name: "txn compare denied", As: u, Call: TxnCall(&pb.TxnRequest{Compare: []*pb.Compare{cmpVersion("x")},
				Success: []*pb.RequestOp{opPut("foo")}})},
			{Name: "txn success denied", As: u, Call: TxnCall(&pb.TxnRequest{Compare: []*pb.Compare{cmpVersion("foo")},
				Success: []*pb.RequestOp{opPut("x")}})},
			{Name: "txn failure denied", As: u, Call: TxnCall(&pb.TxnRequest{Compare: []*pb.Compare{cmpVersion("foo")},
				Success: []*pb.RequestOp{opPut("foo")}, Failure: []*pb.RequestOp{opDel("x", false)}})},
			{Name: "txn delete prev_kv write-only", As: u, Call: TxnCall(&pb.TxnRequest{
				Success: []*pb.RequestOp{opDel("w", true)}})},
			{Name: "txn nested denied", As: u, Call: TxnCall(&pb.TxnRequest{Success: []*pb.RequestOp{opPut("foo"),
				opTxn(&pb.TxnRequest{Success: []*pb.RequestOp{opRange("x")}})}})},
			{Name: "txn allowed", As: u, Call: TxnCall(&pb.TxnRequest{Compare: []*pb.Compare{cmpVersion("foo")},
				Success: []*pb.RequestOp{opPut("foo"), opRange("a"), opDel("w", false),
					opTxn(&pb.TxnRequest{Success: []*pb.RequestOp{opPut("dir/n")}})}})},
			{Name: "txn no token", Call: TxnCall(&pb.TxnRequest{Success: []*pb.RequestOp{opRange("foo")}})},
			{Name: "compact no token", Call: CompactCall(2)},
			{Name: "compact as user", As: u, Call: CompactCall(2)},
			{Name: "compact as root", As: root, Call: CompactCall(2)},
			{Name: "range after all", As: root, Call: RangeCall(rng("\x00", "\x00"))},
		})
	})
}

// TestAuthOtherServices compares the lease, watch, maintenance, cluster
// and auth services as a user, as root and without a token.
func TestAuthOtherServices(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		f := setupAuth(t, p)
		u, root := f.user, f.root
		p.CheckAll(t, []AuthCall{
			{Name: "lease grant no token", Call: LeaseGrantCall(400, 60)},
			{Name: "lease grant as user", As: u, Call: LeaseGrantCall(400, 60)},
			{Name: "lease ttl no token", Call: LeaseTTLCall(200, false)},
			{Name: "lease ttl keys as user", As: u, Call: LeaseTTLCall(200, true)},
			{Name: "lease ttl keys denied", As: u, Call: LeaseTTLCall(300, true)},
			{Name: "lease ttl denied without keys", As: u, Call: LeaseTTLCall(300, false)},
			{Name: "lease ttl missing", As: u, Call: LeaseTTLCall(999, true)},
			{Name: "lease leases no token", Call: LeaseLeasesCall()},
			{Name: "lease leases as user", As: u, Call: LeaseLeasesCall()},
			{Name: "lease leases as root", As: root, Call: LeaseLeasesCall()},
			{Name: "keepalive no token", Call: KeepAliveCall(200)},
			{Name: "keepalive as user", As: u, Call: KeepAliveCall(200)},
			{Name: "keepalive denied", As: u, Call: KeepAliveCall(300)},
			{Name: "keepalive missing", As: u, Call: KeepAliveCall(999)},
			{Name: "lease revoke no token", Call: LeaseRevokeCall(300)},
			{Name: "lease revoke denied", As: u, Call: LeaseRevokeCall(300)},
			{Name: "lease revoke own", As: u, Call: LeaseRevokeCall(400)},
			{Name: "lease revoke as root", As: root, Call: LeaseRevokeCall(300)},
			{Name: "lease leases after revoke", As: u, Call: LeaseLeasesCall()},
			{Name: "watch no token", Call: WatchCreateCall(&pb.WatchCreateRequest{Key: []byte("foo")})},
			{Name: "watch as user", As: u, Call: WatchCreateCall(&pb.WatchCreateRequest{Key: []byte("foo")})},
			{Name: "watch denied", As: u, Call: WatchCreateCall(&pb.WatchCreateRequest{Key: []byte("x")})},
			{Name: "watch range denied", As: u, Call: WatchCreateCall(&pb.WatchCreateRequest{Key: []byte("a"), RangeEnd: []byte("z")})},
			{Name: "watch prefix", As: u, Call: WatchCreateCall(&pb.WatchCreateRequest{Key: []byte("dir/"), RangeEnd: []byte("dir0")})},
			{Name: "watch empty key", As: u, Call: WatchCreateCall(&pb.WatchCreateRequest{})},
			{Name: "watch negative revision", As: u, Call: WatchCreateCall(&pb.WatchCreateRequest{Key: []byte("x"), StartRevision: -1})},
			{Name: "watch as root", As: root, Call: WatchCreateCall(&pb.WatchCreateRequest{Key: []byte("\x00"), RangeEnd: []byte("\x00")})},
			{Name: "status no token", Call: StatusShape()},
			{Name: "status as user", As: u, Call: StatusShape()},
			{Name: "hashkv no token", Call: HashKVShape()},
			{Name: "hashkv as user", As: u, Call: HashKVShape()},
			{Name: "hashkv as root", As: root, Call: HashKVShape()},
			{Name: "defrag as user", As: u, Call: DefragShape()},
			{Name: "defrag as root", As: root, Call: DefragShape()},
			{Name: "snapshot as user", As: u, Call: SnapshotShape()},
			{Name: "move leader as user", As: u, Call: MoveLeaderShape()},
			{Name: "alarm list no token", Call: AlarmCall(pb.AlarmRequest_GET)},
			{Name: "alarm list as user", As: u, Call: AlarmCall(pb.AlarmRequest_GET)},
			{Name: "alarm disarm as user", As: u, Call: AlarmCall(pb.AlarmRequest_DEACTIVATE)},
			{Name: "alarm disarm as root", As: root, Call: AlarmCall(pb.AlarmRequest_DEACTIVATE)},
			{Name: "member list no token", Call: MemberListShape()},
			{Name: "member list as user", As: u, Call: MemberListShape()},
			{Name: "member add as user", As: u, Call: MemberAddShape()},
			{Name: "member remove as user", As: u, Call: MemberRemoveShape()},
			{Name: "member update as user", As: u, Call: MemberUpdateShape()},
			{Name: "member promote as user", As: u, Call: MemberPromoteShape()},
			{Name: "member remove unknown as root", As: root, Call: MemberRemoveShape()},
			{Name: "member update unknown as root", As: root, Call: MemberUpdateShape()},
			{Name: "member promote unknown as root", As: root, Call: MemberPromoteShape()},
			{Name: "auth status no token", Call: AuthStatus()},
			{Name: "user list as user", As: u, Call: UserList()},
			{Name: "user get self", As: u, Call: UserGet("u")},
			{Name: "user get other", As: u, Call: UserGet("root")},
			{Name: "user get missing no token", Call: UserGet("")},
			{Name: "role get own", As: u, Call: RoleGet("r")},
			{Name: "role get other", As: u, Call: RoleGet("root")},
			{Name: "role list as user", As: u, Call: RoleList()},
			{Name: "user add as user", As: u, Call: UserAdd("x", "y")},
			{Name: "role add no token", Call: RoleAdd("x")},
			{Name: "passwd self as user", As: u, Call: UserChangePassword("u", "z")},
			{Name: "user get as root", As: root, Call: UserGet("u")},
		})
	})
}
