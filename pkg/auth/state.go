package auth

import (
	"context"
	"fmt"
	"sort"

	"go.etcd.io/etcd/api/v3/authpb"

	"github.com/strata-db/strata/pkg/kv"
)

const (
	rootUser = "root"
	rootRole = "root"
)

// rootPerm is what RoleGet answers for the root role: every key, read and
// write.
func rootPerm() *authpb.Permission {
	return &authpb.Permission{PermType: authpb.READWRITE, Key: []byte{}, RangeEnd: []byte{0}}
}

// Info is who a request comes from: the user its token names and the auth
// revision the token carries (0 with no token).
type Info struct {
	Username string
	Revision uint64
}

// State is one immutable snapshot of the auth store: the enabled flag, the
// auth revision, users, roles and each user's merged permissions. Its
// methods are etcd's permission checks.
type State struct {
	Enabled  bool
	Revision uint64
	users    map[string]*authpb.User
	roles    map[string]*authpb.Role
	perms    map[string]*userPerms
}

// Load reads the whole auth store in tx.
func Load(ctx context.Context, tx kv.AuthReadTxn) (*State, error) {
	m, err := tx.AuthMeta(ctx)
	if err != nil {
		return nil, err
	}
	users, err := tx.AuthUsers(ctx)
	if err != nil {
		return nil, err
	}
	roles, err := tx.AuthRoles(ctx)
	if err != nil {
		return nil, err
	}
	return newState(m, users, roles), nil
}

func newState(m kv.AuthMeta, users []*authpb.User, roles []*authpb.Role) *State {
	st := &State{Enabled: m.Enabled, Revision: m.Revision,
		users: make(map[string]*authpb.User, len(users)), roles: make(map[string]*authpb.Role, len(roles)),
		perms: make(map[string]*userPerms, len(users))}
	for _, r := range roles {
		st.roles[string(r.Name)] = r
	}
	for _, u := range users {
		st.users[string(u.Name)] = u
		st.perms[string(u.Name)] = mergePerms(u, st.roles)
	}
	return st
}

// Meta is the state's enabled flag and revision.
func (st *State) Meta() kv.AuthMeta { return kv.AuthMeta{Enabled: st.Enabled, Revision: st.Revision} }

// newer reports whether st is a later state of the store than o: a higher
// revision, or the same revision with auth enabled (AuthEnable is the one
// change that keeps the revision; AuthDisable adds one).
func (st *State) newer(o *State) bool {
	if o == nil || st.Revision != o.Revision {
		return o == nil || st.Revision > o.Revision
	}
	return st.Enabled && !o.Enabled
}

// User returns the user named name, or nil. The record must not be
// changed.
func (st *State) User(name string) *authpb.User { return st.users[name] }

// Role returns the role named name, or nil. The record must not be changed.
func (st *State) Role(name string) *authpb.Role { return st.roles[name] }

// userNames and roleNames are the names in byte order, as etcd lists them.
func (st *State) userNames() []string { return sortedKeys(st.users) }
func (st *State) roleNames() []string { return sortedKeys(st.roles) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func hasRootRole(u *authpb.User) bool {
	i := sort.SearchStrings(u.Roles, rootRole)
	return i != len(u.Roles) && u.Roles[i] == rootRole
}

// HasRole reports whether user has role.
func (st *State) HasRole(user, role string) bool {
	u := st.users[user]
	if u == nil {
		return false
	}
	for _, r := range u.Roles {
		if r == role {
			return true
		}
	}
	return false
}

// isOpPermitted is etcd's authStore.isOpPermitted.
func (st *State) isOpPermitted(ai *Info, key, rangeEnd []byte, write bool) error {
	if !st.Enabled {
		return nil
	}
	if ai == nil || ai.Revision == 0 {
		return ErrUserEmpty
	}
	if ai.Revision < st.Revision {
		return ErrAuthOldRevision
	}
	u := st.users[ai.Username]
	if u == nil {
		return ErrPermissionDenied
	}
	if hasRootRole(u) {
		return nil
	}
	if up := st.perms[ai.Username]; up != nil && up.permitted(key, rangeEnd, write) {
		return nil
	}
	return ErrPermissionDenied
}

// IsPutPermitted checks write permission on key.
func (st *State) IsPutPermitted(ai *Info, key []byte) error {
	return st.isOpPermitted(ai, key, nil, true)
}

// IsRangePermitted checks read permission on a key or range.
func (st *State) IsRangePermitted(ai *Info, key, rangeEnd []byte) error {
	return st.isOpPermitted(ai, key, rangeEnd, false)
}

// IsDeleteRangePermitted checks write permission on a key or range.
func (st *State) IsDeleteRangePermitted(ai *Info, key, rangeEnd []byte) error {
	return st.isOpPermitted(ai, key, rangeEnd, true)
}

// IsAdminPermitted checks that the user has the root role. Unlike the key
// checks it does not look at the token's revision, as in etcd.
func (st *State) IsAdminPermitted(ai *Info) error {
	if !st.Enabled {
		return nil
	}
	if ai == nil || ai.Username == "" {
		return ErrUserEmpty
	}
	u := st.users[ai.Username]
	if u == nil {
		return ErrUserNotFound
	}
	if !hasRootRole(u) {
		return ErrPermissionDenied
	}
	return nil
}

// String describes the state for logs.
func (st *State) String() string {
	return fmt.Sprintf("auth enabled=%t revision=%d users=%d roles=%d", st.Enabled, st.Revision, len(st.users), len(st.roles))
}
