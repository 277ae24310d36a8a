package diff

import (
	"context"

	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"
)

// Calls of the Auth service, for the auth scenarios.

func authCall[R proto.Message](f func(ctx context.Context, s *Side) (R, error)) Call {
	return func(ctx context.Context, s *Side) (proto.Message, error) { return f(ctx, s) }
}

// UserAdd adds a user with a password.
func UserAdd(name, password string) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthUserAddResponse, error) {
		return s.Auth.UserAdd(ctx, &pb.AuthUserAddRequest{Name: name, Password: password})
	})
}

// UserAddNoPassword adds a user that cannot authenticate by password.
func UserAddNoPassword(name string) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthUserAddResponse, error) {
		return s.Auth.UserAdd(ctx, &pb.AuthUserAddRequest{Name: name, Options: &authpb.UserAddOptions{NoPassword: true}})
	})
}

func UserGet(name string) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthUserGetResponse, error) {
		return s.Auth.UserGet(ctx, &pb.AuthUserGetRequest{Name: name})
	})
}

func UserList() Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthUserListResponse, error) {
		return s.Auth.UserList(ctx, &pb.AuthUserListRequest{})
	})
}

func UserDelete(name string) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthUserDeleteResponse, error) {
		return s.Auth.UserDelete(ctx, &pb.AuthUserDeleteRequest{Name: name})
	})
}

func UserChangePassword(name, password string) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthUserChangePasswordResponse, error) {
		return s.Auth.UserChangePassword(ctx, &pb.AuthUserChangePasswordRequest{Name: name, Password: password})
	})
}

func UserGrantRole(user, role string) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthUserGrantRoleResponse, error) {
		return s.Auth.UserGrantRole(ctx, &pb.AuthUserGrantRoleRequest{User: user, Role: role})
	})
}

func UserRevokeRole(user, role string) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthUserRevokeRoleResponse, error) {
		return s.Auth.UserRevokeRole(ctx, &pb.AuthUserRevokeRoleRequest{Name: user, Role: role})
	})
}

func RoleAdd(name string) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthRoleAddResponse, error) {
		return s.Auth.RoleAdd(ctx, &pb.AuthRoleAddRequest{Name: name})
	})
}

func RoleGet(name string) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthRoleGetResponse, error) {
		return s.Auth.RoleGet(ctx, &pb.AuthRoleGetRequest{Role: name})
	})
}

func RoleList() Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthRoleListResponse, error) {
		return s.Auth.RoleList(ctx, &pb.AuthRoleListRequest{})
	})
}

func RoleDelete(name string) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthRoleDeleteResponse, error) {
		return s.Auth.RoleDelete(ctx, &pb.AuthRoleDeleteRequest{Role: name})
	})
}

// RoleGrant grants typ on [key, end) (end "": the key alone; "\x00": from
// key on). A nil perm is sent when typ is -1.
func RoleGrant(role, key, end string, typ authpb.Permission_Type) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthRoleGrantPermissionResponse, error) {
		r := &pb.AuthRoleGrantPermissionRequest{Name: role}
		if typ >= 0 {
			r.Perm = &authpb.Permission{PermType: typ, Key: []byte(key), RangeEnd: []byte(end)}
		}
		return s.Auth.RoleGrantPermission(ctx, r)
	})
}

func RoleRevoke(role, key, end string) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthRoleRevokePermissionResponse, error) {
		return s.Auth.RoleRevokePermission(ctx, &pb.AuthRoleRevokePermissionRequest{Role: role, Key: []byte(key), RangeEnd: []byte(end)})
	})
}

func AuthEnable() Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthEnableResponse, error) {
		return s.Auth.AuthEnable(ctx, &pb.AuthEnableRequest{})
	})
}

func AuthDisable() Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthDisableResponse, error) {
		return s.Auth.AuthDisable(ctx, &pb.AuthDisableRequest{})
	})
}

func AuthStatus() Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AuthStatusResponse, error) {
		return s.Auth.AuthStatus(ctx, &pb.AuthStatusRequest{})
	})
}

// Key calls.

func RangeCall(r *pb.RangeRequest) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.RangeResponse, error) { return s.KV.Range(ctx, r) })
}

func PutCall(r *pb.PutRequest) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.PutResponse, error) { return s.KV.Put(ctx, r) })
}

func DeleteCall(r *pb.DeleteRangeRequest) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.DeleteRangeResponse, error) { return s.KV.DeleteRange(ctx, r) })
}

func TxnCall(r *pb.TxnRequest) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.TxnResponse, error) { return s.KV.Txn(ctx, r) })
}

func CompactCall(rev int64) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.CompactionResponse, error) {
		return s.KV.Compact(ctx, &pb.CompactionRequest{Revision: rev, Physical: true})
	})
}
