package lin

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
)

// The keyspace is small so that clients contend.
var keys = []string{"k0", "k1", "k2"}

type opKind int

const (
	opGet opKind = iota
	opRange
	opPut
	opDelete
	opCAS   // If(mod(key) == rev) Then(Put key) Else(Get key)
	opMulti // If(version(key) > 0) Then(Delete key, Put key2) Else(Put key, Put key2)
	opGrant
	opPutLease
	opRevoke
)

// input is one operation as a client issued it.
type input struct {
	kind  opKind
	key   int // index into keys
	key2  int
	value string
	rev   int64 // opCAS: the expected mod revision
	lease int64 // opPutLease, opRevoke
}

// kv is one key as the model and the server see it; the zero kv is absent.
type kv struct {
	value                   string
	create, mod, ver, lease int64
}

// output is what the server answered.
type output struct {
	unknown   bool  // the call failed: it may or may not have taken effect
	notFound  bool  // the lease does not exist (opPutLease, opRevoke)
	rev       int64 // header revision
	succeeded bool  // Txn
	kvs       [3]kv // opGet, opCAS else: [key]; opRange: every key
	deleted   int64 // opDelete
	lease     int64 // opGrant: the granted ID
}

// state is the model: etcd's keyspace of len(keys) keys and the live
// leases. It is a comparable value.
type state struct {
	rev    int64
	kvs    [3]kv
	leases string // live lease IDs, sorted, comma-separated
}

func (s state) leaseSet() []string {
	if s.leases == "" {
		return nil
	}
	return strings.Split(s.leases, ",")
}

func (s state) hasLease(id int64) bool {
	return slices.Contains(s.leaseSet(), fmt.Sprint(id))
}

func (s state) withLease(id int64, live bool) state {
	set := slices.DeleteFunc(s.leaseSet(), func(x string) bool { return x == fmt.Sprint(id) })
	if live {
		set = append(set, fmt.Sprint(id))
	}
	slices.Sort(set)
	s.leases = strings.Join(set, ",")
	return s
}

// put writes key at revision rev (which the caller has already advanced).
func (s *state) put(key int, value string, lease int64) {
	k := s.kvs[key]
	if k.create == 0 {
		k.create, k.ver = s.rev, 0
	}
	s.kvs[key] = kv{value: value, create: k.create, mod: s.rev, ver: k.ver + 1, lease: lease}
}

// apply is the sequential specification: the state after in, and the
// output etcd gives for it (revision, values; unknown and lease are not
// predicted).
func apply(s state, in input) (state, output) {
	switch in.kind {
	case opGet:
		return s, output{rev: s.rev, kvs: [3]kv{s.kvs[in.key]}}
	case opRange:
		return s, output{rev: s.rev, kvs: s.kvs}
	case opPut:
		s.rev++
		s.put(in.key, in.value, 0)
		return s, output{rev: s.rev}
	case opPutLease:
		if !s.hasLease(in.lease) {
			return s, output{notFound: true}
		}
		s.rev++
		s.put(in.key, in.value, in.lease)
		return s, output{rev: s.rev}
	case opDelete:
		if s.kvs[in.key].create == 0 {
			return s, output{rev: s.rev}
		}
		s.rev++
		s.kvs[in.key] = kv{}
		return s, output{rev: s.rev, deleted: 1}
	case opCAS:
		if s.kvs[in.key].mod != in.rev {
			return s, output{rev: s.rev, kvs: [3]kv{s.kvs[in.key]}}
		}
		s.rev++
		s.put(in.key, in.value, 0)
		return s, output{rev: s.rev, succeeded: true}
	case opMulti:
		ok := s.kvs[in.key].create != 0
		s.rev++
		if ok {
			s.kvs[in.key] = kv{}
		} else {
			s.put(in.key, in.value, 0)
		}
		s.put(in.key2, in.value, 0)
		return s, output{rev: s.rev, succeeded: ok}
	case opRevoke:
		if !s.hasLease(in.lease) {
			return s, output{notFound: true}
		}
		s = s.withLease(in.lease, false)
		changed := false
		for i, k := range s.kvs {
			if k.create != 0 && k.lease == in.lease {
				if !changed {
					s.rev++
					changed = true
				}
				s.kvs[i] = kv{}
			}
		}
		return s, output{rev: s.rev}
	}
	panic(fmt.Sprintf("lin: unknown op %d", in.kind))
}

// step is the porcupine step: the states the system may be in after in
// answered out.
func step(st, in, out any) []any {
	s, i, o := st.(state), in.(input), out.(output)
	if i.kind == opGrant {
		if o.unknown {
			return []any{s}
		}
		if s.hasLease(o.lease) || o.rev != s.rev {
			return nil
		}
		return []any{s.withLease(o.lease, true)}
	}
	next, want := apply(s, i)
	if o.unknown {
		return []any{s, next}
	}
	if o.notFound != want.notFound || o.rev != want.rev || o.succeeded != want.succeeded ||
		o.deleted != want.deleted || o.kvs != want.kvs {
		return nil
	}
	return []any{next}
}

func hashState(st any) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%v", st.(state))
	return h.Sum64()
}

func describe(in, out any) string {
	i, o := in.(input), out.(output)
	names := []string{"get", "range", "put", "delete", "cas", "multi", "grant", "put-lease", "revoke"}
	res := fmt.Sprintf("rev=%d", o.rev)
	switch {
	case o.unknown:
		res = "unknown"
	case o.notFound:
		res = "lease not found"
	}
	return fmt.Sprintf("%s(%s,%s,%q,rev=%d,lease=%x) -> %s ok=%v del=%d lease=%x %v",
		names[i.kind], keys[i.key], keys[i.key2], i.value, i.rev, i.lease, res, o.succeeded, o.deleted, o.lease, o.kvs)
}
