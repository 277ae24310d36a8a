package auth

import (
	"bytes"

	"go.etcd.io/etcd/api/v3/authpb"
)

// The permission checks follow etcd's interval rules (auth/range_perm_cache.go):
// a key range is [begin, end) with an empty end standing for +infinity, the
// largest key ("affine" comparison); a single key k is [k, k+"\x00"); an
// end of "\x00" in a permission or a request is open-ended.

// ivl is one half-open key interval; an empty end is +infinity.
type ivl struct{ begin, end []byte }

// affine compares keys with an empty key larger than every other one.
func affine(a, b []byte) int {
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return 1
	case len(b) == 0:
		return -1
	}
	return bytes.Compare(a, b)
}

// overlaps is etcd's adt.Interval.Compare == 0: neither interval lies
// wholly left or right of the other.
func (q ivl) overlaps(p ivl) bool {
	if affine(q.begin, p.begin) < 0 && affine(q.end, p.begin) <= 0 {
		return false
	}
	return affine(q.begin, p.end) < 0
}

func point(key []byte) ivl {
	end := make([]byte, len(key)+1)
	copy(end, key)
	return ivl{begin: key, end: end}
}

func isOpenEnded(end []byte) bool { return len(end) == 1 && end[0] == 0 }

// permIvl is the interval a stored permission covers.
func permIvl(p *authpb.Permission) ivl {
	if len(p.RangeEnd) == 0 {
		return point(p.Key)
	}
	if isOpenEnded(p.RangeEnd) {
		return ivl{begin: p.Key}
	}
	return ivl{begin: p.Key, end: p.RangeEnd}
}

// permSet is the union of one user's permissions of one kind, sorted by
// begin (ties keep grant order), as etcd's interval tree visits them.
type permSet []ivl

func (s *permSet) add(v ivl) {
	i := len(*s)
	for i > 0 && affine((*s)[i-1].begin, v.begin) > 0 {
		i--
	}
	*s = append(*s, ivl{})
	copy((*s)[i+1:], (*s)[i:])
	(*s)[i] = v
}

// intersects reports whether any interval of s overlaps q (etcd's
// IntervalTree.Intersects, for single keys).
func (s permSet) intersects(q ivl) bool {
	for _, p := range s {
		if q.overlaps(p) {
			return true
		}
	}
	return false
}

// contains reports whether the intervals of s that overlap q cover it
// without a gap (etcd's IntervalTree.Contains, for ranges).
func (s permSet) contains(q ivl) bool {
	var minBegin, maxEnd []byte
	seen := false
	for _, p := range s {
		if !q.overlaps(p) {
			continue
		}
		if !seen {
			minBegin, maxEnd, seen = p.begin, p.end, true
			continue
		}
		if affine(maxEnd, p.begin) < 0 {
			return false
		}
		if affine(p.end, maxEnd) > 0 {
			maxEnd = p.end
		}
	}
	return seen && affine(maxEnd, q.end) >= 0 && affine(minBegin, q.begin) <= 0
}

// userPerms are one user's merged read and write permissions.
type userPerms struct{ read, write permSet }

func mergePerms(u *authpb.User, roles map[string]*authpb.Role) *userPerms {
	up := &userPerms{}
	for _, name := range u.Roles {
		r := roles[name]
		if r == nil {
			continue
		}
		for _, p := range r.KeyPermission {
			v := permIvl(p)
			switch p.PermType {
			case authpb.READWRITE:
				up.read.add(v)
				up.write.add(v)
			case authpb.READ:
				up.read.add(v)
			case authpb.WRITE:
				up.write.add(v)
			}
		}
	}
	return up
}

// permitted is etcd's isRangeOpPermitted: a single key needs one
// permission that holds it, a range needs permissions that cover it.
func (up *userPerms) permitted(key, rangeEnd []byte, write bool) bool {
	set := up.read
	if write {
		set = up.write
	}
	if len(rangeEnd) == 0 {
		return set.intersects(point(key))
	}
	if isOpenEnded(rangeEnd) {
		rangeEnd = nil
	}
	return set.contains(ivl{begin: key, end: rangeEnd})
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
	return affine(key, rangeEnd) < 0 || isOpenEnded(rangeEnd)
}
