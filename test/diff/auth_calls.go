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

// Lease, maintenance, cluster and watch calls.

func LeaseGrantCall(id, ttl int64) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.LeaseGrantResponse, error) {
		return s.Lease.LeaseGrant(ctx, &pb.LeaseGrantRequest{ID: id, TTL: ttl})
	})
}

func LeaseRevokeCall(id int64) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.LeaseRevokeResponse, error) {
		return s.Lease.LeaseRevoke(ctx, &pb.LeaseRevokeRequest{ID: id})
	})
}

// LeaseTTLCall asks for a lease's TTL; the remaining TTL is cleared, as it
// ticks on its own.
func LeaseTTLCall(id int64, keys bool) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.LeaseTimeToLiveResponse, error) {
		r, err := s.Lease.LeaseTimeToLive(ctx, &pb.LeaseTimeToLiveRequest{ID: id, Keys: keys})
		if r != nil && r.TTL > 0 {
			r.TTL = 1
		}
		return r, err
	})
}

func LeaseLeasesCall() Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.LeaseLeasesResponse, error) {
		return s.Lease.LeaseLeases(ctx, &pb.LeaseLeasesRequest{})
	})
}

// KeepAliveCall sends one keepalive on a fresh stream and returns the
// answer or the error that ended the stream.
func KeepAliveCall(id int64) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.LeaseKeepAliveResponse, error) {
		st, err := s.Lease.LeaseKeepAlive(ctx)
		if err != nil {
			return nil, err
		}
		defer st.CloseSend()
		if err := st.Send(&pb.LeaseKeepAliveRequest{ID: id}); err != nil {
			return nil, err
		}
		r, err := st.Recv()
		if r != nil && r.TTL > 0 {
			r.TTL = 1
		}
		return r, err
	})
}

// Shape calls answer only whether the call succeeded (their answers hold
// sizes, hashes and versions that differ between two servers).

func shape[R proto.Message](f func(ctx context.Context, s *Side) (R, error)) Call {
	return func(ctx context.Context, s *Side) (proto.Message, error) {
		if _, err := f(ctx, s); err != nil {
			return nil, err
		}
		return &pb.ResponseHeader{}, nil
	}
}

func StatusShape() Call {
	return shape(func(ctx context.Context, s *Side) (*pb.StatusResponse, error) {
		return s.Maintenance.Status(ctx, &pb.StatusRequest{})
	})
}

func HashKVShape() Call {
	return shape(func(ctx context.Context, s *Side) (*pb.HashKVResponse, error) {
		return s.Maintenance.HashKV(ctx, &pb.HashKVRequest{})
	})
}

func DefragShape() Call {
	return shape(func(ctx context.Context, s *Side) (*pb.DefragmentResponse, error) {
		return s.Maintenance.Defragment(ctx, &pb.DefragmentRequest{})
	})
}

func MemberListShape() Call {
	return shape(func(ctx context.Context, s *Side) (*pb.MemberListResponse, error) {
		return s.Cluster.MemberList(ctx, &pb.MemberListRequest{})
	})
}

func MemberAddShape() Call {
	return shape(func(ctx context.Context, s *Side) (*pb.MemberAddResponse, error) {
		return s.Cluster.MemberAdd(ctx, &pb.MemberAddRequest{PeerURLs: []string{"http://127.0.0.1:1"}})
	})
}

func MemberRemoveShape() Call {
	return shape(func(ctx context.Context, s *Side) (*pb.MemberRemoveResponse, error) {
		return s.Cluster.MemberRemove(ctx, &pb.MemberRemoveRequest{ID: 4242})
	})
}

func MemberUpdateShape() Call {
	return shape(func(ctx context.Context, s *Side) (*pb.MemberUpdateResponse, error) {
		return s.Cluster.MemberUpdate(ctx, &pb.MemberUpdateRequest{ID: 4242, PeerURLs: []string{"http://127.0.0.1:1"}})
	})
}

func MemberPromoteShape() Call {
	return shape(func(ctx context.Context, s *Side) (*pb.MemberPromoteResponse, error) {
		return s.Cluster.MemberPromote(ctx, &pb.MemberPromoteRequest{ID: 4242})
	})
}

func MoveLeaderShape() Call {
	return shape(func(ctx context.Context, s *Side) (*pb.MoveLeaderResponse, error) {
		return s.Maintenance.MoveLeader(ctx, &pb.MoveLeaderRequest{TargetID: 1})
	})
}

// SnapshotShape reads the first message of a snapshot.
func SnapshotShape() Call {
	return shape(func(ctx context.Context, s *Side) (*pb.SnapshotResponse, error) {
		st, err := s.Maintenance.Snapshot(ctx, &pb.SnapshotRequest{})
		if err != nil {
			return nil, err
		}
		return st.Recv()
	})
}

func AlarmCall(action pb.AlarmRequest_AlarmAction) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.AlarmResponse, error) {
		return s.Maintenance.Alarm(ctx, &pb.AlarmRequest{Action: action, Alarm: pb.AlarmType_NOSPACE})
	})
}

// WatchCreateCall opens a stream, creates one watch and returns the first
// response (the created one, or etcd's refusal). A watch created is
// cancelled by closing the stream.
func WatchCreateCall(r *pb.WatchCreateRequest) Call {
	return authCall(func(ctx context.Context, s *Side) (*pb.WatchResponse, error) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		st, err := s.Watch.Watch(ctx)
		if err != nil {
			return nil, err
		}
		if err := st.Send(&pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{CreateRequest: r}}); err != nil {
			return nil, err
		}
		resp, err := st.Recv()
		if resp != nil && !resp.Canceled {
			resp.WatchId = 0 // IDs are the servers' to choose
		}
		return resp, err
	})
}
