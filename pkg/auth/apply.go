package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"sort"

	"go.etcd.io/etcd/api/v3/authpb"
	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"google.golang.org/protobuf/proto"

	"github.com/strata-db/strata/pkg/kv"
)

// Assigner issues the token of an Authenticate inside the apply path, as
// etcd's token providers do: a simple token is recorded in tx, a JWT is
// signed.
type Assigner interface {
	Assign(ctx context.Context, tx kv.AuthWriteTxn, name string, revision uint64, prefix string) (string, error)
}

// IsOp reports whether op is an auth operation (Apply's to run).
func IsOp(op *pb.InternalRaftRequest) bool {
	return op.AuthEnable != nil || op.AuthDisable != nil || op.AuthStatus != nil || op.Authenticate != nil ||
		op.AuthUserAdd != nil || op.AuthUserDelete != nil || op.AuthUserChangePassword != nil ||
		op.AuthUserGrantRole != nil || op.AuthUserGet != nil || op.AuthUserRevokeRole != nil ||
		op.AuthRoleAdd != nil || op.AuthRoleGrantPermission != nil || op.AuthRoleGet != nil ||
		op.AuthRoleRevokePermission != nil || op.AuthRoleDelete != nil || op.AuthUserList != nil ||
		op.AuthRoleList != nil
}

// needAdmin is etcd's needAdminPermission: the operations only a user with
// the root role may run once auth is enabled.
func needAdmin(op *pb.InternalRaftRequest) bool {
	return op.AuthEnable != nil || op.AuthDisable != nil || op.AuthUserAdd != nil || op.AuthUserDelete != nil ||
		op.AuthUserChangePassword != nil || op.AuthUserGrantRole != nil || op.AuthUserRevokeRole != nil ||
		op.AuthRoleAdd != nil || op.AuthRoleGrantPermission != nil || op.AuthRoleRevokePermission != nil ||
		op.AuthRoleDelete != nil || op.AuthUserList != nil || op.AuthRoleList != nil
}

// HeaderInfo is the identity an operation's header carries.
func HeaderInfo(h *pb.RequestHeader) *Info {
	if h == nil {
		return &Info{}
	}
	return &Info{Username: h.Username, Revision: h.AuthRevision}
}

// applier runs one auth operation against the state st read in tx.
type applier struct {
	ctx    context.Context
	tx     kv.AuthWriteTxn
	st     *State
	ai     *Info
	tokens Assigner
	// changed is set once the operation wrote users, roles or the flags.
	changed bool
}

// Apply runs the auth operation op in tx, where st is the auth store as tx
// sees it. It returns etcd's response (without a header), whether the
// users, roles or flags changed, or the error by which etcd refuses the
// operation; a refused operation writes nothing. It is deterministic:
// passwords arrive hashed, and a simple token's text is the op's prefix
// and a counter.
func Apply(ctx context.Context, tx kv.AuthWriteTxn, st *State, op *pb.InternalRaftRequest, tokens Assigner) (proto.Message, bool, error) {
	a := &applier{ctx: ctx, tx: tx, st: st, ai: HeaderInfo(op.Header), tokens: tokens}
	if needAdmin(op) {
		if err := st.IsAdminPermitted(a.ai); err != nil {
			return nil, false, err
		}
	}
	resp, err := a.apply(op)
	if err != nil {
		return nil, false, err
	}
	return resp, a.changed, nil
}

func (a *applier) apply(op *pb.InternalRaftRequest) (proto.Message, error) {
	switch {
	case op.AuthEnable != nil:
		return a.enable()
	case op.AuthDisable != nil:
		return a.disable()
	case op.AuthStatus != nil:
		return &pb.AuthStatusResponse{Enabled: a.st.Enabled, AuthRevision: a.st.Revision}, nil
	case op.Authenticate != nil:
		return a.authenticate(op.Authenticate, op.Header)
	case op.AuthUserAdd != nil:
		return a.userAdd(op.AuthUserAdd)
	case op.AuthUserDelete != nil:
		return a.userDelete(op.AuthUserDelete)
	case op.AuthUserChangePassword != nil:
		return a.userChangePassword(op.AuthUserChangePassword)
	case op.AuthUserGrantRole != nil:
		return a.userGrantRole(op.AuthUserGrantRole)
	case op.AuthUserGet != nil:
		return a.userGet(op.AuthUserGet)
	case op.AuthUserRevokeRole != nil:
		return a.userRevokeRole(op.AuthUserRevokeRole)
	case op.AuthUserList != nil:
		return &pb.AuthUserListResponse{Users: a.st.userNames()}, nil
	case op.AuthRoleAdd != nil:
		return a.roleAdd(op.AuthRoleAdd)
	case op.AuthRoleGet != nil:
		return a.roleGet(op.AuthRoleGet)
	case op.AuthRoleList != nil:
		return &pb.AuthRoleListResponse{Roles: a.st.roleNames()}, nil
	case op.AuthRoleGrantPermission != nil:
		return a.roleGrantPermission(op.AuthRoleGrantPermission)
	case op.AuthRoleRevokePermission != nil:
		return a.roleRevokePermission(op.AuthRoleRevokePermission)
	case op.AuthRoleDelete != nil:
		return a.roleDelete(op.AuthRoleDelete)
	}
	return nil, errors.New("auth: not an auth operation")
}

// commit records a change: the flag, and the revision one higher when bump.
func (a *applier) commit(enabled, bump bool) error {
	m := a.st.Meta()
	m.Enabled = enabled
	if bump {
		m.Revision++
	}
	a.changed = true
	return a.tx.SetAuthMeta(a.ctx, m)
}

func (a *applier) enable() (proto.Message, error) {
	if a.st.Enabled {
		return &pb.AuthEnableResponse{}, nil
	}
	u := a.st.User(rootUser)
	if u == nil {
		return nil, ErrRootUserNotExist
	}
	if !hasRootRole(u) {
		return nil, ErrRootRoleNotExist
	}
	return &pb.AuthEnableResponse{}, a.commit(true, false)
}

// disable turns auth off and drops every simple token, as etcd's token
// provider forgets them all.
func (a *applier) disable() (proto.Message, error) {
	if !a.st.Enabled {
		return &pb.AuthDisableResponse{}, nil
	}
	if err := a.tx.DeleteAuthTokens(a.ctx, ""); err != nil {
		return nil, err
	}
	return &pb.AuthDisableResponse{}, a.commit(false, true)
}

// authenticate issues a token to a user whose password the server checked
// at the auth revision the header carries; if the store has changed since,
// the server checks again (etcd's retry on a changed revision).
func (a *applier) authenticate(r *pb.InternalAuthenticateRequest, h *pb.RequestHeader) (proto.Message, error) {
	if !a.st.Enabled {
		return nil, ErrAuthNotEnabled
	}
	if h != nil && h.AuthRevision != a.st.Revision {
		return nil, ErrStaleCheck
	}
	u := a.st.User(r.Name)
	if u == nil || (u.Options != nil && u.Options.NoPassword) {
		return nil, ErrAuthFailed
	}
	if a.tokens == nil {
		return nil, ErrAuthFailed
	}
	token, err := a.tokens.Assign(a.ctx, a.tx, r.Name, a.st.Revision, r.SimpleToken)
	if err != nil {
		return nil, err
	}
	return &pb.AuthenticateResponse{Token: token}, nil
}

// password is etcd's selectPassword without its pre-3.5 branch: the apply
// path never hashes (that would make it random), the server hashes first.
func password(hashed string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(hashed)
	if err != nil {
		return nil, ErrNoPasswordUser
	}
	return b, nil
}

func (a *applier) userAdd(r *pb.AuthUserAddRequest) (proto.Message, error) {
	if r.Name == "" {
		return nil, ErrUserEmpty
	}
	if a.st.User(r.Name) != nil {
		return nil, ErrUserAlreadyExist
	}
	opts := r.Options
	if opts == nil {
		opts = &authpb.UserAddOptions{NoPassword: false}
	}
	u := &authpb.User{Name: []byte(r.Name), Options: opts}
	if !opts.NoPassword {
		pw, err := password(r.HashedPassword)
		if err != nil {
			return nil, err
		}
		u.Password = pw
	}
	if err := a.tx.PutAuthUser(a.ctx, u); err != nil {
		return nil, err
	}
	return &pb.AuthUserAddResponse{}, a.commit(a.st.Enabled, true)
}

func (a *applier) userDelete(r *pb.AuthUserDeleteRequest) (proto.Message, error) {
	if a.st.Enabled && r.Name == rootUser {
		return nil, ErrInvalidAuthMgmt
	}
	if a.st.User(r.Name) == nil {
		return nil, ErrUserNotFound
	}
	if err := a.tx.DeleteAuthUser(a.ctx, r.Name); err != nil {
		return nil, err
	}
	return &pb.AuthUserDeleteResponse{}, a.commit(a.st.Enabled, true)
}

// userChangePassword replaces the password and drops the user's simple
// tokens, as etcd invalidates them.
func (a *applier) userChangePassword(r *pb.AuthUserChangePasswordRequest) (proto.Message, error) {
	u := a.st.User(r.Name)
	if u == nil {
		return nil, ErrUserNotFound
	}
	nu := &authpb.User{Name: []byte(r.Name), Roles: u.Roles, Options: u.Options}
	if u.Options == nil || !u.Options.NoPassword {
		pw, err := password(r.HashedPassword)
		if err != nil {
			return nil, err
		}
		nu.Password = pw
	}
	if err := a.tx.PutAuthUser(a.ctx, nu); err != nil {
		return nil, err
	}
	if err := a.tx.DeleteAuthTokens(a.ctx, r.Name); err != nil {
		return nil, err
	}
	return &pb.AuthUserChangePasswordResponse{}, a.commit(a.st.Enabled, true)
}

func (a *applier) userGrantRole(r *pb.AuthUserGrantRoleRequest) (proto.Message, error) {
	u := a.st.User(r.User)
	if u == nil {
		return nil, ErrUserNotFound
	}
	if r.Role != rootRole && a.st.Role(r.Role) == nil {
		return nil, ErrRoleNotFound
	}
	i := sort.SearchStrings(u.Roles, r.Role)
	if i < len(u.Roles) && u.Roles[i] == r.Role {
		return &pb.AuthUserGrantRoleResponse{}, nil
	}
	nu := proto.Clone(u).(*authpb.User)
	nu.Roles = append(nu.Roles, r.Role)
	sort.Strings(nu.Roles)
	if err := a.tx.PutAuthUser(a.ctx, nu); err != nil {
		return nil, err
	}
	return &pb.AuthUserGrantRoleResponse{}, a.commit(a.st.Enabled, true)
}

// userGet lets a user read itself; anyone else needs the root role.
func (a *applier) userGet(r *pb.AuthUserGetRequest) (proto.Message, error) {
	if err := a.st.IsAdminPermitted(a.ai); err != nil && r.Name != a.ai.Username {
		return nil, err
	}
	u := a.st.User(r.Name)
	if u == nil {
		return nil, ErrUserNotFound
	}
	return &pb.AuthUserGetResponse{Roles: append([]string(nil), u.Roles...)}, nil
}

func (a *applier) userRevokeRole(r *pb.AuthUserRevokeRoleRequest) (proto.Message, error) {
	if a.st.Enabled && r.Name == rootUser && r.Role == rootRole {
		return nil, ErrInvalidAuthMgmt
	}
	u := a.st.User(r.Name)
	if u == nil {
		return nil, ErrUserNotFound
	}
	nu := &authpb.User{Name: u.Name, Password: u.Password, Options: u.Options}
	for _, role := range u.Roles {
		if role != r.Role {
			nu.Roles = append(nu.Roles, role)
		}
	}
	if len(nu.Roles) == len(u.Roles) {
		return nil, ErrRoleNotGranted
	}
	if err := a.tx.PutAuthUser(a.ctx, nu); err != nil {
		return nil, err
	}
	return &pb.AuthUserRevokeRoleResponse{}, a.commit(a.st.Enabled, true)
}

func (a *applier) roleAdd(r *pb.AuthRoleAddRequest) (proto.Message, error) {
	if r.Name == "" {
		return nil, ErrRoleEmpty
	}
	if a.st.Role(r.Name) != nil {
		return nil, ErrRoleAlreadyExist
	}
	if err := a.tx.PutAuthRole(a.ctx, &authpb.Role{Name: []byte(r.Name)}); err != nil {
		return nil, err
	}
	return &pb.AuthRoleAddResponse{}, a.commit(a.st.Enabled, true)
}

// roleGet lets a user read its own roles; anyone else needs the root role.
func (a *applier) roleGet(r *pb.AuthRoleGetRequest) (proto.Message, error) {
	if err := a.st.IsAdminPermitted(a.ai); err != nil && !a.st.HasRole(a.ai.Username, r.Role) {
		return nil, err
	}
	role := a.st.Role(r.Role)
	if role == nil {
		return nil, ErrRoleNotFound
	}
	if r.Role == rootRole {
		return &pb.AuthRoleGetResponse{Perm: []*authpb.Permission{rootPerm()}}, nil
	}
	resp := &pb.AuthRoleGetResponse{}
	for _, p := range role.KeyPermission {
		resp.Perm = append(resp.Perm, proto.Clone(p).(*authpb.Permission))
	}
	return resp, nil
}

// permSlice sorts permissions by key, as etcd's (the same sort, so the
// same order among permissions of one key).
type permSlice []*authpb.Permission

func (p permSlice) Len() int           { return len(p) }
func (p permSlice) Less(i, j int) bool { return bytes.Compare(p[i].Key, p[j].Key) < 0 }
func (p permSlice) Swap(i, j int)      { p[i], p[j] = p[j], p[i] }

func (a *applier) roleGrantPermission(r *pb.AuthRoleGrantPermissionRequest) (proto.Message, error) {
	if r.Perm == nil {
		return nil, ErrPermissionNotGiven
	}
	if !isValidPermissionRange(r.Perm.Key, r.Perm.RangeEnd) {
		return nil, ErrInvalidAuthMgmt
	}
	old := a.st.Role(r.Name)
	if old == nil {
		return nil, ErrRoleNotFound
	}
	role := proto.Clone(old).(*authpb.Role)
	i := sort.Search(len(role.KeyPermission), func(i int) bool {
		return bytes.Compare(role.KeyPermission[i].Key, r.Perm.Key) >= 0
	})
	if i < len(role.KeyPermission) && bytes.Equal(role.KeyPermission[i].Key, r.Perm.Key) &&
		bytes.Equal(role.KeyPermission[i].RangeEnd, r.Perm.RangeEnd) {
		role.KeyPermission[i].PermType = r.Perm.PermType
	} else {
		role.KeyPermission = append(role.KeyPermission,
			&authpb.Permission{Key: r.Perm.Key, RangeEnd: r.Perm.RangeEnd, PermType: r.Perm.PermType})
		sort.Sort(permSlice(role.KeyPermission))
	}
	if err := a.tx.PutAuthRole(a.ctx, role); err != nil {
		return nil, err
	}
	return &pb.AuthRoleGrantPermissionResponse{}, a.commit(a.st.Enabled, true)
}

func (a *applier) roleRevokePermission(r *pb.AuthRoleRevokePermissionRequest) (proto.Message, error) {
	old := a.st.Role(r.Role)
	if old == nil {
		return nil, ErrRoleNotFound
	}
	role := &authpb.Role{Name: old.Name}
	for _, p := range old.KeyPermission {
		if !bytes.Equal(p.Key, r.Key) || !bytes.Equal(p.RangeEnd, r.RangeEnd) {
			role.KeyPermission = append(role.KeyPermission, p)
		}
	}
	if len(role.KeyPermission) == len(old.KeyPermission) {
		return nil, ErrPermissionNotGranted
	}
	if err := a.tx.PutAuthRole(a.ctx, role); err != nil {
		return nil, err
	}
	return &pb.AuthRoleRevokePermissionResponse{}, a.commit(a.st.Enabled, true)
}

// roleDelete removes the role and revokes it from every user that has it.
func (a *applier) roleDelete(r *pb.AuthRoleDeleteRequest) (proto.Message, error) {
	if a.st.Enabled && r.Role == rootRole {
		return nil, ErrInvalidAuthMgmt
	}
	if a.st.Role(r.Role) == nil {
		return nil, ErrRoleNotFound
	}
	if err := a.tx.DeleteAuthRole(a.ctx, r.Role); err != nil {
		return nil, err
	}
	for _, name := range a.st.userNames() {
		u := a.st.User(name)
		nu := &authpb.User{Name: u.Name, Password: u.Password, Options: u.Options}
		for _, role := range u.Roles {
			if role != r.Role {
				nu.Roles = append(nu.Roles, role)
			}
		}
		if len(nu.Roles) == len(u.Roles) {
			continue
		}
		if err := a.tx.PutAuthUser(a.ctx, nu); err != nil {
			return nil, err
		}
	}
	return &pb.AuthRoleDeleteResponse{}, a.commit(a.st.Enabled, true)
}

// SetHeader sets the header of an auth response.
func SetHeader(resp proto.Message, h *pb.ResponseHeader) {
	switch r := resp.(type) {
	case *pb.AuthEnableResponse:
		r.Header = h
	case *pb.AuthDisableResponse:
		r.Header = h
	case *pb.AuthStatusResponse:
		r.Header = h
	case *pb.AuthenticateResponse:
		r.Header = h
	case *pb.AuthUserAddResponse:
		r.Header = h
	case *pb.AuthUserDeleteResponse:
		r.Header = h
	case *pb.AuthUserChangePasswordResponse:
		r.Header = h
	case *pb.AuthUserGrantRoleResponse:
		r.Header = h
	case *pb.AuthUserGetResponse:
		r.Header = h
	case *pb.AuthUserRevokeRoleResponse:
		r.Header = h
	case *pb.AuthUserListResponse:
		r.Header = h
	case *pb.AuthRoleAddResponse:
		r.Header = h
	case *pb.AuthRoleGetResponse:
		r.Header = h
	case *pb.AuthRoleListResponse:
		r.Header = h
	case *pb.AuthRoleGrantPermissionResponse:
		r.Header = h
	case *pb.AuthRoleRevokePermissionResponse:
		r.Header = h
	case *pb.AuthRoleDeleteResponse:
		r.Header = h
	}
}
