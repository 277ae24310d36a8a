package diff

import (
	"testing"

	"go.etcd.io/etcd/api/v3/authpb"
)

// TestAuthManagement compares user and role management with auth
// disabled, where anyone may manage them: every answer, header revision
// and error, and the auth revision AuthStatus reports after each change.
func TestAuthManagement(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		p.Apply(t, Step{Key: "k", Value: "v"})
		p.CheckAll(t, []AuthCall{
			{Name: "status fresh", Call: AuthStatus()},
			{Name: "user add", Call: UserAdd("alice", "pw")},
			{Name: "user add empty name", Call: UserAdd("", "pw")},
			{Name: "user add duplicate", Call: UserAdd("alice", "other")},
			{Name: "user add empty password", Call: UserAdd("nopw-empty", "")},
			{Name: "user add no-password", Call: UserAddNoPassword("bob")},
			{Name: "user get", Call: UserGet("alice")},
			{Name: "user get missing", Call: UserGet("nobody")},
			{Name: "user list", Call: UserList()},
			{Name: "status after users", Call: AuthStatus()},
			{Name: "role add", Call: RoleAdd("reader")},
			{Name: "role add empty", Call: RoleAdd("")},
			{Name: "role add duplicate", Call: RoleAdd("reader")},
			{Name: "role add 2", Call: RoleAdd("writer")},
			{Name: "role get empty", Call: RoleGet("reader")},
			{Name: "role get missing", Call: RoleGet("nobody")},
			{Name: "role get root before add", Call: RoleGet("root")},
			{Name: "grant nil perm", Call: RoleGrant("reader", "", "", -1)},
			{Name: "grant empty key", Call: RoleGrant("reader", "", "", authpb.READ)},
			{Name: "grant end below key", Call: RoleGrant("reader", "b", "a", authpb.READ)},
			{Name: "grant end equal key", Call: RoleGrant("reader", "b", "b", authpb.READ)},
			{Name: "grant missing role", Call: RoleGrant("nobody", "a", "", authpb.READ)},
			{Name: "grant key", Call: RoleGrant("reader", "foo", "", authpb.READ)},
			{Name: "grant range", Call: RoleGrant("reader", "a", "c", authpb.READ)},
			{Name: "grant prefix", Call: RoleGrant("reader", "dir/", "dir0", authpb.READWRITE)},
			{Name: "grant from-key", Call: RoleGrant("reader", "zz", "\x00", authpb.WRITE)},
			{Name: "grant same key other end", Call: RoleGrant("reader", "a", "b", authpb.WRITE)},
			{Name: "grant same key point", Call: RoleGrant("reader", "a", "", authpb.READWRITE)},
			{Name: "grant update type", Call: RoleGrant("reader", "foo", "", authpb.READWRITE)},
			{Name: "grant all keys", Call: RoleGrant("writer", "\x00", "\x00", authpb.READWRITE)},
			{Name: "role get perms", Call: RoleGet("reader")},
			{Name: "revoke missing perm", Call: RoleRevoke("reader", "foo", "x")},
			{Name: "revoke missing role", Call: RoleRevoke("nobody", "foo", "")},
			{Name: "revoke perm", Call: RoleRevoke("reader", "a", "c")},
			{Name: "role get after revoke", Call: RoleGet("reader")},
			{Name: "role list", Call: RoleList()},
			{Name: "grant role missing user", Call: UserGrantRole("nobody", "reader")},
			{Name: "grant role missing role", Call: UserGrantRole("alice", "nobody")},
			{Name: "grant role", Call: UserGrantRole("alice", "writer")},
			{Name: "grant role 2", Call: UserGrantRole("alice", "reader")},
			{Name: "grant role again", Call: UserGrantRole("alice", "reader")},
			{Name: "grant root role without role", Call: UserGrantRole("bob", "root")},
			{Name: "user get roles", Call: UserGet("alice")},
			{Name: "status after grants", Call: AuthStatus()},
			{Name: "revoke role not granted", Call: UserRevokeRole("bob", "reader")},
			{Name: "revoke role missing user", Call: UserRevokeRole("nobody", "reader")},
			{Name: "revoke role", Call: UserRevokeRole("alice", "writer")},
			{Name: "change password", Call: UserChangePassword("alice", "pw2")},
			{Name: "change password missing", Call: UserChangePassword("nobody", "x")},
			{Name: "change password no-password user", Call: UserChangePassword("bob", "x")},
			{Name: "role delete", Call: RoleDelete("reader")},
			{Name: "role delete missing", Call: RoleDelete("reader")},
			{Name: "user get after role delete", Call: UserGet("alice")},
			{Name: "user delete", Call: UserDelete("alice")},
			{Name: "user delete missing", Call: UserDelete("alice")},
			{Name: "role add root", Call: RoleAdd("root")},
			{Name: "role get root", Call: RoleGet("root")},
			{Name: "grant root role perm", Call: RoleGrant("root", "x", "", authpb.READ)},
			{Name: "role get root after grant", Call: RoleGet("root")},
			{Name: "role delete root disabled", Call: RoleDelete("root")},
			{Name: "user list end", Call: UserList()},
			{Name: "role list end", Call: RoleList()},
			{Name: "status end", Call: AuthStatus()},
		})
	})
}

// TestAuthEnableDisable compares enabling and disabling auth: the refusals
// without a root user or root role, the root-only rules once enabled, and
// the auth revision before and after.
func TestAuthEnableDisable(t *testing.T) {
	ForEachBackend(t, func(t *testing.T, p *Pair) {
		p.CheckAll(t, []AuthCall{
			{Name: "disable when disabled", Call: AuthDisable()},
			{Name: "enable without root", Call: AuthEnable()},
			{Name: "root add", Call: UserAdd("root", "rootpw")},
			{Name: "enable without root role", Call: AuthEnable()},
			{Name: "grant root role", Call: UserGrantRole("root", "root")},
			{Name: "status before enable", Call: AuthStatus()},
			{Name: "enable", Call: AuthEnable()},
			{Name: "status after enable", Call: AuthStatus()},
			{Name: "enable without token", Call: AuthEnable()},
			{Name: "user add without token", Call: UserAdd("u", "p")},
			{Name: "disable without token", Call: AuthDisable()},
		})
		root := p.MustAuthenticate(t, "root", "rootpw")
		p.CheckAll(t, []AuthCall{
			{Name: "enable again", As: root, Call: AuthEnable()},
			{Name: "status as root", As: root, Call: AuthStatus()},
			{Name: "delete root", As: root, Call: UserDelete("root")},
			{Name: "revoke root role from root", As: root, Call: UserRevokeRole("root", "root")},
			{Name: "delete root role missing", As: root, Call: RoleDelete("root")},
			{Name: "role add root", As: root, Call: RoleAdd("root")},
			{Name: "delete root role", As: root, Call: RoleDelete("root")},
			{Name: "user add as root", As: root, Call: UserAdd("u", "p")},
			{Name: "user list as root", As: root, Call: UserList()},
			{Name: "disable", As: root, Call: AuthDisable()},
			{Name: "status after disable", Call: AuthStatus()},
			{Name: "delete root when disabled", Call: UserDelete("root")},
			{Name: "enable with root deleted", Call: AuthEnable()},
			{Name: "status end", Call: AuthStatus()},
		})
	})
}
