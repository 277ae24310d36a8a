package auth

import (
	"bytes"
	"math/rand/v2"
	"sort"
	"testing"

	"go.etcd.io/etcd/api/v3/authpb"
	"go.etcd.io/etcd/pkg/v3/adt"
)

// etcdPermitted is etcd's check written out without the tree: the
// permissions overlapping a single key, or covering a range without a gap.
// It is the reference for requests whose end is not below their key (etcd's
// tree answers those by its shape, which permitted shares by using it).
func etcdPermitted(perms []*authpb.Permission, key, rangeEnd []byte) bool {
	type ivl struct{ b, e []byte }
	aff := func(a, b []byte) int {
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
	var ivs []ivl
	for _, p := range perms {
		v := permIvl(p)
		ivs = append(ivs, ivl{v.Begin.(adt.BytesAffineComparable), v.End.(adt.BytesAffineComparable)})
	}
	sort.SliceStable(ivs, func(i, j int) bool { return aff(ivs[i].b, ivs[j].b) < 0 })
	q := ivl{key, append(append([]byte{}, key...), 0)}
	if len(rangeEnd) > 0 {
		q.e = rangeEnd
		if isOpenEnded(rangeEnd) {
			q.e = nil
		}
	}
	overlaps := func(p ivl) bool { return aff(p.b, q.e) < 0 && aff(q.b, p.e) < 0 }
	if len(rangeEnd) == 0 {
		for _, p := range ivs {
			if overlaps(p) {
				return true
			}
		}
		return false
	}
	covered := q.b
	for _, p := range ivs {
		if !overlaps(p) {
			continue
		}
		if aff(p.b, covered) > 0 {
			return false
		}
		if aff(p.e, covered) > 0 {
			covered = p.e
		}
		if aff(covered, q.e) >= 0 {
			return true
		}
	}
	return false
}

func randKey(r *rand.Rand) []byte {
	const alphabet = "\x00abc"
	b := make([]byte, r.IntN(3)+1)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return b
}

func randEnd(r *rand.Rand) []byte {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		return []byte{0}
	}
	return randKey(r)
}

// TestPermittedMatchesEtcd compares the permission check with etcd's
// interval tree on random permission sets and requests over a small
// alphabet, so that overlaps, gaps, points and open ends are frequent.
func TestPermittedMatchesEtcd(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		var perms []*authpb.Permission
		for range r.IntN(5) {
			key, end := randKey(r), randEnd(r)
			if !isValidPermissionRange(key, end) {
				continue
			}
			perms = append(perms, &authpb.Permission{PermType: authpb.READ, Key: key, RangeEnd: end})
		}
		u := &authpb.User{Name: []byte("u"), Roles: []string{"r"}}
		up := mergePerms(u, map[string]*authpb.Role{"r": {Name: []byte("r"), KeyPermission: perms}})
		key, end := randKey(r), randEnd(r)
		if len(end) > 0 && !isOpenEnded(end) && bytes.Compare(end, key) <= 0 {
			continue // an inverted or empty request: the tree's shape decides
		}
		if got, want := up.permitted(key, end, false), etcdPermitted(perms, key, end); got != want {
			t.Fatalf("case %d: perms %v, request [%q, %q): permitted %t, etcd %t", i, perms, key, end, got, want)
		}
	}
}

func TestIsValidPermissionRange(t *testing.T) {
	for _, tc := range []struct {
		key, end string
		want     bool
	}{
		{"", "", false}, {"a", "", true}, {"a", "b", true}, {"b", "a", false}, {"a", "a", false},
		{"a", "\x00", true}, {"\x00", "\x00", true},
	} {
		if got := isValidPermissionRange([]byte(tc.key), []byte(tc.end)); got != tc.want {
			t.Errorf("isValidPermissionRange(%q, %q) = %t, want %t", tc.key, tc.end, got, tc.want)
		}
	}
}
