package mvcc

import (
	"context"
	"encoding/binary"
	gohash "hash"
	"hash/crc32"

	"github.com/strata-db/strata/pkg/kv"
)

// hashPage is how many rows the hash reads at a time.
const hashPage = 1000

// maxCachedHashes is how many compaction-time hashes are kept, as etcd
// keeps ten.
const maxCachedHashes = 10

// cachedHash is the hash of the history at a compact revision, taken by the
// compactor before it removed anything, with the compact revision that
// preceded it: etcd answers HashKV at exactly a compact revision from such
// a hash, so it does not change when the compaction runs.
type cachedHash struct {
	rev, prevCompacted int64
	hash               uint32
}

// HashKV hashes the keyspace's history as of rev (0: now), as etcd's
// HashKV does: the live keys at the compact revision and every change after
// it up to rev, so that equal data gives an equal hash whether or not the
// physical compaction has finished.
// It returns the hash, the current and compact revisions, and the revision
// hashed.
func (s *Store) HashKV(ctx context.Context, rev int64) (hash uint32, current, compacted, hashRev int64, err error) {
	err = s.be.Read(ctx, func(tx kv.ReadTxn) error {
		cur, comp, err := tx.Revisions(ctx)
		if err != nil {
			return err
		}
		current, compacted = cur, comp
		switch {
		case rev > 0 && rev < comp:
			return kv.ErrCompacted
		case rev > cur:
			return kv.ErrFutureRev
		case rev == 0:
			rev = cur
		}
		hashRev = rev
		if c, ok := s.cachedHash(rev); ok {
			hash, compacted = c.hash, c.prevCompacted
			return nil
		}
		hash, err = hashHistory(ctx, tx, comp, rev)
		return err
	})
	return hash, current, compacted, hashRev, err
}

// hashHistory hashes the live keys at comp and every change in (comp, rev].
func hashHistory(ctx context.Context, tx kv.ReadTxn, comp, rev int64) (uint32, error) {
	sum := crc32.New(crc32.MakeTable(crc32.Castagnoli))
	if comp > 0 {
		if err := hashLive(ctx, tx, sum, comp); err != nil {
			return 0, err
		}
	}
	if err := hashChanges(ctx, tx, sum, max(comp, 0), rev); err != nil {
		return 0, err
	}
	return sum.Sum32(), nil
}

func (s *Store) cachedHash(rev int64) (cachedHash, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.hashes {
		if c.rev == rev {
			return c, true
		}
	}
	return cachedHash{}, false
}

// hashBeforeCompacting records the hash at a new compact revision rev, from
// the history as the previous compaction (prev) left it. The compactor
// calls it before removing anything below rev.
func (s *Store) hashBeforeCompacting(ctx context.Context, prev, rev int64) error {
	var h uint32
	err := s.be.Read(ctx, func(tx kv.ReadTxn) error {
		var err error
		h, err = hashHistory(ctx, tx, prev, rev)
		return err
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hashes = append(s.hashes, cachedHash{rev: rev, prevCompacted: prev, hash: h})
	if len(s.hashes) > maxCachedHashes {
		s.hashes = s.hashes[len(s.hashes)-maxCachedHashes:]
	}
	return nil
}

func hashLive(ctx context.Context, tx kv.ReadTxn, sum gohash.Hash32, at int64) error {
	r := kv.Range{Start: []byte{0}}
	for {
		kvs, err := tx.Range(ctx, r, at, hashPage, false)
		if err != nil {
			return err
		}
		for _, v := range kvs {
			hashKV(sum, v, false)
		}
		if len(kvs) < hashPage {
			return nil
		}
		r.Start = append(append([]byte{}, kvs[len(kvs)-1].Key...), 0)
	}
}

func hashChanges(ctx context.Context, tx kv.ReadTxn, sum gohash.Hash32, after, through int64) error {
	for after < through {
		evs, read, err := tx.Events(ctx, after, through, hashPage, false)
		if err != nil {
			return err
		}
		for _, e := range evs {
			hashKV(sum, e.KV, e.Deleted)
		}
		after = read
	}
	return nil
}

func hashKV(sum gohash.Hash32, v *kv.KeyValue, deleted bool) {
	var b [8]byte
	for _, n := range []int64{v.ModRevision, v.CreateRevision, v.Version, v.Lease, int64(len(v.Key)), int64(len(v.Value))} {
		binary.BigEndian.PutUint64(b[:], uint64(n))
		sum.Write(b[:])
	}
	sum.Write(v.Key)
	sum.Write(v.Value)
	if deleted {
		sum.Write([]byte{1})
	} else {
		sum.Write([]byte{0})
	}
}
