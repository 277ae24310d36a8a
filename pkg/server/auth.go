package server

import (
	"context"
	"errors"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/pkg/auth"
)

// authenticateRetries bounds how often Authenticate checks a password again
// because the auth store changed meanwhile.
const authenticateRetries = 8

// authService is etcd's Auth service. Every call is an operation of the
// engine's writer, as every one is a raft request in etcd: the auth store
// changes deterministically with the log, and reads see every change
// committed before them.
type authService struct {
	pb.UnimplementedAuthServer
	s *Server
}

// authOp runs one auth operation for the request's user and returns
// etcd's response. A change is read back into the process's auth state
// before the answer, so the caller's next request sees it.
func (a *authService) authOp(ctx context.Context, op *pb.InternalRaftRequest, changes bool) (proto.Message, error) {
	_, ai, err := a.s.authInfo(ctx)
	if err != nil {
		return nil, toGRPC(err)
	}
	if ai != nil {
		op.Header = &pb.RequestHeader{Username: ai.Username, AuthRevision: ai.Revision}
	} else {
		op.Header = &pb.RequestHeader{}
	}
	if err := a.s.checkSize(op); err != nil {
		return nil, err
	}
	resp, err := a.s.ops.Write(ctx, op)
	if err != nil {
		return nil, toGRPC(err)
	}
	if changes {
		if _, err := a.s.auth.Refresh(ctx); err != nil {
			return nil, toGRPC(err)
		}
	}
	if h := responseHeader(resp); h != nil {
		if err := a.s.fill(ctx, h); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

// responseHeader is the header of an auth response.
func responseHeader(resp proto.Message) *pb.ResponseHeader {
	if r, ok := resp.(interface{ GetHeader() *pb.ResponseHeader }); ok {
		return r.GetHeader()
	}
	return nil
}

// hashed is the bcrypt hash of a password, computed before the operation
// is built so that applying it stays deterministic (etcd 3.5+ does the
// same).
func (a *authService) hashed(password string) (string, error) {
	h, err := a.s.auth.HashPassword(password)
	if err != nil {
		return "", status.Error(codes.Unknown, err.Error())
	}
	return h, nil
}

func (a *authService) AuthEnable(ctx context.Context, r *pb.AuthEnableRequest) (*pb.AuthEnableResponse, error) {
	resp, err := a.authOp(ctx, &pb.InternalRaftRequest{AuthEnable: r}, true)
	if err != nil {
		return nil, err
	}
	a.s.log.Info("enabled authentication")
	return resp.(*pb.AuthEnableResponse), nil
}

func (a *authService) AuthDisable(ctx context.Context, r *pb.AuthDisableRequest) (*pb.AuthDisableResponse, error) {
	resp, err := a.authOp(ctx, &pb.InternalRaftRequest{AuthDisable: r}, true)
	if err != nil {
		return nil, err
	}
	a.s.log.Info("disabled authentication")
	return resp.(*pb.AuthDisableResponse), nil
}

func (a *authService) AuthStatus(ctx context.Context, r *pb.AuthStatusRequest) (*pb.AuthStatusResponse, error) {
	resp, err := a.authOp(ctx, &pb.InternalRaftRequest{AuthStatus: r}, false)
	if err != nil {
		return nil, err
	}
	return resp.(*pb.AuthStatusResponse), nil
}

// Authenticate is etcd's: the password is checked (bcrypt, outside the
// writer) against the auth state, then the operation issues the token if
// the store has not changed since; otherwise it checks again.
func (a *authService) Authenticate(ctx context.Context, r *pb.AuthenticateRequest) (*pb.AuthenticateResponse, error) {
	st, err := a.s.auth.Refresh(ctx)
	if err != nil {
		return nil, toGRPC(err)
	}
	for attempt := 0; ; attempt++ {
		rev, err := st.CheckPassword(r.Name, r.Password)
		if err != nil {
			if !errors.Is(err, auth.ErrAuthNotEnabled) {
				a.s.log.Warn("invalid authentication was requested", "user", r.Name, "err", err)
			}
			return nil, toGRPC(err)
		}
		prefix, err := a.s.auth.TokenPrefix()
		if err != nil {
			return nil, toGRPC(err)
		}
		op := &pb.InternalRaftRequest{Header: &pb.RequestHeader{AuthRevision: rev},
			Authenticate: &pb.InternalAuthenticateRequest{Name: r.Name, SimpleToken: prefix}}
		resp, err := a.s.ops.Write(ctx, op)
		if errors.Is(err, auth.ErrStaleCheck) && attempt < authenticateRetries {
			if st, err = a.s.auth.Refresh(ctx); err != nil {
				return nil, toGRPC(err)
			}
			continue
		}
		if err != nil {
			return nil, toGRPC(err)
		}
		out := resp.(*pb.AuthenticateResponse)
		a.s.auth.Issued(ctx, out.Token, r.Name)
		a.s.log.Debug("authenticated a user", "user", r.Name)
		return out, a.s.fill(ctx, out.Header)
	}
}

func (a *authService) UserAdd(ctx context.Context, r *pb.AuthUserAddRequest) (*pb.AuthUserAddResponse, error) {
	if r.Options == nil || !r.Options.NoPassword {
		h, err := a.hashed(r.Password)
		if err != nil {
			return nil, err
		}
		r = proto.Clone(r).(*pb.AuthUserAddRequest)
		r.HashedPassword, r.Password = h, ""
	}
	resp, err := a.authOp(ctx, &pb.InternalRaftRequest{AuthUserAdd: r}, true)
	if err != nil {
		return nil, err
	}
	a.s.log.Info("added a user", "user", r.Name)
	return resp.(*pb.AuthUserAddResponse), nil
}

func (a *authService) UserDelete(ctx context.Context, r *pb.AuthUserDeleteRequest) (*pb.AuthUserDeleteResponse, error) {
	resp, err := a.authOp(ctx, &pb.InternalRaftRequest{AuthUserDelete: r}, true)
	if err != nil {
		return nil, err
	}
	a.s.log.Info("deleted a user", "user", r.Name)
	return resp.(*pb.AuthUserDeleteResponse), nil
}

func (a *authService) UserChangePassword(ctx context.Context, r *pb.AuthUserChangePasswordRequest) (*pb.AuthUserChangePasswordResponse, error) {
	if r.Password != "" {
		h, err := a.hashed(r.Password)
		if err != nil {
			return nil, err
		}
		r = proto.Clone(r).(*pb.AuthUserChangePasswordRequest)
		r.HashedPassword, r.Password = h, ""
	}
	resp, err := a.authOp(ctx, &pb.InternalRaftRequest{AuthUserChangePassword: r}, true)
	if err != nil {
		return nil, err
	}
	a.s.log.Info("changed a password of a user", "user", r.Name)
	return resp.(*pb.AuthUserChangePasswordResponse), nil
}

func (a *authService) UserGrantRole(ctx context.Context, r *pb.AuthUserGrantRoleRequest) (*pb.AuthUserGrantRoleResponse, error) {
	resp, err := a.authOp(ctx, &pb.InternalRaftRequest{AuthUserGrantRole: r}, true)
	if err != nil {
		return nil, err
	}
	a.s.log.Info("granted a role to a user", "user", r.User, "role", r.Role)
	return resp.(*pb.AuthUserGrantRoleResponse), nil
}

func (a *authService) UserGet(ctx context.Context, r *pb.AuthUserGetRequest) (*pb.AuthUserGetResponse, error) {
	resp, err := a.authOp(ctx, &pb.InternalRaftRequest{AuthUserGet: r}, false)
	if err != nil {
		return nil, err
	}
	return resp.(*pb.AuthUserGetResponse), nil
}

func (a *authService) UserList(ctx context.Context, r *pb.AuthUserListRequest) (*pb.AuthUserListResponse, error) {
	resp, err := a.authOp(ctx, &pb.InternalRaftRequest{AuthUserList: r}, false)
	if err != nil {
		return nil, err
	}
	return resp.(*pb.AuthUserListResponse), nil
}

func (a *authService) UserRevokeRole(ctx context.Context, r *pb.AuthUserRevokeRoleRequest) (*pb.AuthUserRevokeRoleResponse, error) {
	resp, err := a.authOp(ctx, &pb.InternalRaftRequest{AuthUserRevokeRole: r}, true)
	if err != nil {
		return nil, err
	}
	a.s.log.Info("revoked a role from a user", "user", r.Name, "role", r.Role)
	return resp.(*pb.AuthUserRevokeRoleResponse), nil
}

func (a *authService) RoleAdd(ctx context.Context, r *pb.AuthRoleAddRequest) (*pb.AuthRoleAddResponse, error) {
	resp, err := a.authOp(ctx, &pb.InternalRaftRequest{AuthRoleAdd: r}, true)
	if err != nil {
		return nil, err
	}
	a.s.log.Info("created a role", "role", r.Name)
	return resp.(*pb.AuthRoleAddResponse), nil
}

func (a *authService) RoleGet(ctx context.Context, r *pb.AuthRoleGetRequest) (*pb.AuthRoleGetResponse, error) {
	resp, err := a.authOp(ctx, &pb.InternalRaftRequest{AuthRoleGet: r}, false)
	if err != nil {
		return nil, err
	}
	return resp.(*pb.AuthRoleGetResponse), nil
}

func (a *authService) RoleList(ctx context.Context, r *pb.AuthRoleListRequest) (*pb.AuthRoleListResponse, error) {
	resp, err := a.authOp(ctx, &pb.InternalRaftRequest{AuthRoleList: r}, false)
	if err != nil {
		return nil, err
	}
	return resp.(*pb.AuthRoleListResponse), nil
}

func (a *authService) RoleGrantPermission(ctx context.Context, r *pb.AuthRoleGrantPermissionRequest) (*pb.AuthRoleGrantPermissionResponse, error) {
	resp, err := a.authOp(ctx, &pb.InternalRaftRequest{AuthRoleGrantPermission: r}, true)
	if err != nil {
		return nil, err
	}
	a.s.log.Info("granted a permission to a role", "role", r.Name)
	return resp.(*pb.AuthRoleGrantPermissionResponse), nil
}

func (a *authService) RoleRevokePermission(ctx context.Context, r *pb.AuthRoleRevokePermissionRequest) (*pb.AuthRoleRevokePermissionResponse, error) {
	resp, err := a.authOp(ctx, &pb.InternalRaftRequest{AuthRoleRevokePermission: r}, true)
	if err != nil {
		return nil, err
	}
	a.s.log.Info("revoked a permission from a role", "role", r.Role)
	return resp.(*pb.AuthRoleRevokePermissionResponse), nil
}

func (a *authService) RoleDelete(ctx context.Context, r *pb.AuthRoleDeleteRequest) (*pb.AuthRoleDeleteResponse, error) {
	resp, err := a.authOp(ctx, &pb.InternalRaftRequest{AuthRoleDelete: r}, true)
	if err != nil {
		return nil, err
	}
	a.s.log.Info("deleted a role", "role", r.Role)
	return resp.(*pb.AuthRoleDeleteResponse), nil
}
