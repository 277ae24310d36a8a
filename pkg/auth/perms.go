package auth

import (
	"bytes"

	"go.etcd.io/etcd/api/v3/authpb"
	"go.etcd.io/etcd/pkg/v3/adt"
)

// The permission checks follow etcd's interval rules (auth/range_perm_cache.go):
// a key range is [begin, end) with an empty end standing for +infinity;
// a single key k is [k, k+"\x00"); an end of "\x00" in a permission or a
// request is open-ended. The intervals live in etcd's own interval tree
// (go.etcd.io/etcd/pkg/v3/adt), inserted in etcd's order, so that every
// answer is etcd's, down to requests whose end lies below their key (the
// tree prunes those by its shape).

func isOpenEnded(end []byte) bool { return len(end) == 1 && end[0] == 0 }

// permIvl is the interval a stored permission covers.
func permIvl(p *authpb.Permission) adt.Interval {
	if len(p.RangeEnd) == 0 {
		return adt.NewBytesAffinePoint(p.Key)
	}
	if isOpenEnded(p.RangeEnd) {
		return adt.NewBytesAffineInterval(p.Key, nil)
	}
	return adt.NewBytesAffineInterval(p.Key, p.RangeEnd)
}

// userPerms are one user's merged read and write permissions.
type userPerms struct{ read, write adt.IntervalTree }

// mergePerms is etcd's getMergedPerms: the user's roles in order, each
// role's permissions in order.
func mergePerms(u *authpb.User, roles map[string]*authpb.Role) *userPerms {
	up := &userPerms{read: adt.NewIntervalTree(), write: adt.NewIntervalTree()}
	for _, name := range u.Roles {
		r := roles[name]
		if r == nil {
			continue
		}
		for _, p := range r.KeyPermission {
			v := permIvl(p)
			switch p.PermType {
			case authpb.READWRITE:
				up.read.Insert(v, struct{}{})
				up.write.Insert(v, struct{}{})
			case authpb.READ:
				up.read.Insert(v, struct{}{})
			case authpb.WRITE:
				up.write.Insert(v, struct{}{})
			}
		}
	}
	return up
}

// permitted is etcd's isRangeOpPermitted: a single key needs one
// permission that holds it, a range needs permissions that cover it.
func (up *userPerms) permitted(key, rangeEnd []byte, write bool) bool {
	tree := up.read
	if write {
		tree = up.write
	}
	if len(rangeEnd) == 0 {
		return tree.Intersects(adt.NewBytesAffinePoint(key))
	}
	if isOpenEnded(rangeEnd) {
		rangeEnd = nil
	}
	return tree.Contains(adt.NewBytesAffineInterval(key, rangeEnd))
}

// isValidPermissionRange is etcd's check of a granted range: a key, and an
// end that is empty (one key), above the key, or "\x00" (open-ended).
func isValidPermissionRange(key, rangeEnd []byte) bool {
	if len(key) == 0 {
		return false
	}
	if len(rangeEnd) == 0 {
		return true
	}
	return bytes.Compare(key, rangeEnd) < 0 || isOpenEnded(rangeEnd)
}
